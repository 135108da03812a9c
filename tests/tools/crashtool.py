#!/usr/bin/env python3
"""crashtool.py: the writer and the checks of scenarios 21-crash and 22-faults.

  crashtool.py writer POOLPAIR CONF PREFIX LOG WORKDIR SEED MAXSECS
      Until WORKDIR/stop exists (or MAXSECS pass): make one change after
      another at the pool of CONF (users, settings, contacts, conferences,
      content puts of 16 KiB..3 MiB fresh random files, deletions) and append
      each change the CLI reported committed (exit 0) to LOG, one line each,
      in commit order.  While WORKDIR/pause exists it writes nothing and
      keeps WORKDIR/paused.  Failed commands go to LOG.fail.
  crashtool.py dump DB HOME
      The writer-visible state of the data homed at HOME in the SQLite
      store DB, as JSON {"userdata": [...], "confcontent": [...]}.
  crashtool.py expect LOG DB HOME
      The state at DB of HOME's data must be exactly what LOG's changes
      make, in order (every acknowledged change is there, nothing else).
  crashtool.py prefix LOG SNAP
      SNAP (a dump taken of a replica right after its pool was killed)
      must equal, per module, the state after the first k changes of LOG
      for some k: no package applied by half, out of order or twice.
      Prints the k of each module.
  crashtool.py same DB1 DB2 HOME
      Every replicated table's rows of HOME's data are equal at DB1 and
      DB2 (timestamps included).
Every loop is bounded; exit 0 when the check holds, 1 with a reason if not.
"""
import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import time

UD = "userdata"
CC = "confcontent"


def module_of(op):
    return CC if op.startswith("content") else UD


# --- the writer ------------------------------------------------------------

def writer(pp, conf, prefix, log, work, seed, maxsecs):
    rnd = random.Random(int(seed))
    users, confs, items, keys = [], [], [], []
    stop = os.path.join(work, "stop")
    pause = os.path.join(work, "pause")
    paused = os.path.join(work, "paused")
    blob = os.path.join(work, prefix + ".bin")
    end = time.time() + float(maxsecs)
    out = open(log, "a", buffering=1)
    fails = open(log + ".fail", "a", buffering=1)
    i = 0

    def run(*args):
        r = subprocess.run([pp, "-c", conf] + list(args), capture_output=True,
                           text=True)
        if r.returncode != 0:
            fails.write("%s\t%d\t%s\n" % (" ".join(args), r.returncode,
                                          r.stderr.strip()))
        return r

    while time.time() < end and not os.path.exists(stop):
        if os.path.exists(pause):
            open(paused, "w").close()
            time.sleep(0.02)
            continue
        if os.path.exists(paused):
            os.unlink(paused)
        i += 1
        x = rnd.random()
        if not users or x < 0.08:
            uri = "sip:%s%d@contoso.test" % (prefix, i)
            name = "U%s%d" % (prefix, i)
            if run("user", "add", uri, "--name", name).returncode == 0:
                users.append(uri)
                out.write("user+\t%s\t%s\n" % (uri, name))
        elif x < 0.30:
            u = rnd.choice(users)
            k, v = "k%d" % rnd.randrange(6), "v%d" % i
            if run("setting", "set", u, k, v).returncode == 0:
                if (u, k) not in keys:
                    keys.append((u, k))
                out.write("set\t%s\t%s\t%s\n" % (u, k, v))
        elif x < 0.34 and keys:
            u, k = keys.pop(rnd.randrange(len(keys)))
            if run("setting", "del", u, k).returncode == 0:
                out.write("setdel\t%s\t%s\n" % (u, k))
        elif x < 0.46:
            u = rnd.choice(users)
            c = "sip:c%d@fabrikam.test" % i
            if run("contact", "add", u, c, "--group", "G%d" % (i % 3)
                   ).returncode == 0:
                out.write("contact+\t%s\t%s\n" % (u, c))
        elif x < 0.56 or not confs:
            u = rnd.choice(users)
            subj = "S%d" % i
            r = run("conf", "create", u, "--subject", subj)
            if r.returncode == 0:
                cid = r.stdout.strip()
                confs.append(cid)
                out.write("conf+\t%s\t%s\t%s\n" % (cid, u, subj))
        elif x < 0.95 or not items:
            cid = rnd.choice(confs)
            size = rnd.randrange(16 << 10, 512 << 10) if rnd.random() < 0.7 \
                else rnd.randrange(1 << 20, 3 << 20)
            data = rnd.randbytes(size)
            with open(blob, "wb") as f:
                f.write(data)
            name = "f%d.bin" % i
            if run("content", "put", cid, blob, "--name", name).returncode \
                    == 0:
                items.append((cid, name))
                out.write("content+\t%s\t%s\t%s\n" % (
                    cid, name, hashlib.sha256(data).hexdigest()))
        else:
            cid, name = items.pop(rnd.randrange(len(items)))
            if run("content", "del", cid, name).returncode == 0:
                out.write("content-\t%s\t%s\n" % (cid, name))
        time.sleep(rnd.random() * 0.03)
    open(paused, "w").close()
    return 0


# --- states ------------------------------------------------------------------

def empty():
    return {UD: {}, CC: {}}


def apply(st, line):
    f = line.rstrip("\n").split("\t")
    op = f[0]
    if op == "user+":
        st[UD]["user " + f[1]] = f[2]
    elif op == "set":
        st[UD]["set %s %s" % (f[1], f[2])] = f[3]
    elif op == "setdel":
        st[UD].pop("set %s %s" % (f[1], f[2]), None)
    elif op == "contact+":
        st[UD]["contact %s %s" % (f[1], f[2])] = ""
    elif op == "conf+":
        st[UD]["conf " + f[1]] = "%s %s" % (f[2], f[3])
    elif op == "content+":
        st[CC]["content %s %s" % (f[1], f[2])] = f[3]
    elif op == "content-":
        st[CC].pop("content %s %s" % (f[1], f[2]), None)
    else:
        raise ValueError("unknown change %r" % line)


def db_open(path):
    # Read only: the store is the daemon's.
    return sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)


def dump(dbpath, home):
    db = db_open(dbpath)
    st = empty()
    q = db.execute
    for uri, name in q("SELECT uri, name FROM users WHERE home = ?", (home,)):
        st[UD]["user " + uri] = name
    for uri, k, v in q("SELECT s.uri, s.k, s.v FROM settings s JOIN users u"
                       " ON u.uri = s.uri WHERE u.home = ?", (home,)):
        st[UD]["set %s %s" % (uri, k)] = v
    for owner, uri in q("SELECT c.owner, c.uri FROM contacts c JOIN users u"
                        " ON u.uri = c.owner WHERE u.home = ?", (home,)):
        st[UD]["contact %s %s" % (owner, uri)] = ""
    for cid, org, subj in q("SELECT id, organizer, subject FROM conferences"
                            " WHERE home = ?", (home,)):
        st[UD]["conf " + cid] = "%s %s" % (org, subj)
    for cid, name, sha in q("SELECT conf, name, lower(hex(sha256)) FROM"
                            " content WHERE home = ?", (home,)):
        st[CC]["content %s %s" % (cid, name)] = sha
    db.close()
    return st


def read_log(log):
    with open(log) as f:
        return [l for l in f if l.strip()]


def diff(want, got):
    out = []
    for k in sorted(set(want) | set(got)):
        if want.get(k) != got.get(k):
            out.append("%s: want %r got %r" % (k, want.get(k), got.get(k)))
    return "; ".join(out[:5]) + (" (+%d)" % (len(out) - 5) if len(out) > 5
                                 else "")


def expect(log, dbpath, home):
    st = empty()
    lines = read_log(log)
    for l in lines:
        apply(st, l)
    got = dump(dbpath, home)
    for m in (UD, CC):
        if st[m] != got[m]:
            print("%s at %s is not what the %d acknowledged changes make: %s"
                  % (m, dbpath, len(lines), diff(st[m], got[m])))
            return 1
    print("%d acknowledged changes, all there" % len(lines))
    return 0


def prefix(log, snap):
    with open(snap) as f:
        got = json.load(f)
    lines = read_log(log)
    res = []
    for m in (UD, CC):
        st, k, n, found = {}, 0, 0, []
        if st == got[m]:
            found.append(0)
        for l in lines:
            if module_of(l) != m:
                continue
            n += 1
            one = empty()
            one[m] = st
            apply(one, l)
            if st == got[m]:
                found.append(n)
        if not found:
            # The closest prefix, for the report.
            print("%s in %s is no prefix of the %d acknowledged changes"
                  % (m, snap, n))
            return 1
        res.append("%s=%d/%d" % (m, found[-1], n))
    print(" ".join(res))
    return 0


TABLES = [
    ("users", "SELECT * FROM users WHERE home = :h ORDER BY uri"),
    ("settings", "SELECT s.* FROM settings s JOIN users u ON u.uri = s.uri"
     " WHERE u.home = :h ORDER BY s.uri, s.k"),
    ("groups", "SELECT g.* FROM groups g JOIN users u ON u.uri = g.owner"
     " WHERE u.home = :h ORDER BY g.owner, g.name"),
    ("contacts", "SELECT c.* FROM contacts c JOIN users u ON u.uri = c.owner"
     " WHERE u.home = :h ORDER BY c.owner, c.uri"),
    ("conferences", "SELECT * FROM conferences WHERE home = :h ORDER BY id"),
    ("content", "SELECT conf, name, kind, mime, size, hex(sha256),"
     " hex(chunks), created, updated, home FROM content WHERE home = :h"
     " ORDER BY conf, name"),
]


def same(db1, db2, home):
    a, b = db_open(db1), db_open(db2)
    for name, sql in TABLES:
        ra = a.execute(sql, {"h": home}).fetchall()
        rb = b.execute(sql, {"h": home}).fetchall()
        if ra != rb:
            sa, sb = set(ra), set(rb)
            print("%s of %s differ: only at %s %s; only at %s %s" % (
                name, home, db1, sorted(sa - sb)[:2], db2,
                sorted(sb - sa)[:2]))
            return 1
    print("replicated tables of %s equal" % home)
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    cmd, a = argv[1], argv[2:]
    if cmd == "writer" and len(a) == 7:
        return writer(*a)
    if cmd == "dump" and len(a) == 2:
        json.dump(dump(*a), sys.stdout, sort_keys=True)
        return 0
    if cmd == "expect" and len(a) == 3:
        return expect(*a)
    if cmd == "prefix" and len(a) == 2:
        return prefix(*a)
    if cmd == "same" and len(a) == 3:
        return same(*a)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
