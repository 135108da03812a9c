#!/usr/bin/env python3
"""seeds.py DIR: write the hand-made seed corpora of the harnesses of the
peer protocol, the admin socket, the config file and SIP URIs into
DIR/NAME/ (make fuzz-seeds; the package seeds come from gen_corpus).
Valid inputs and near misses, a few hundred bytes each."""
import json
import os
import struct
import sys

POOL, PARTNER = "pool-a.example.test", "pool-b.example.test"
MODS = ["userdata", "confcontent", "config"]


def frame(t, payload=b""):
    if isinstance(payload, str):
        payload = payload.encode()
    return struct.pack(">IB", len(payload) + 1, t) + payload


def js(o):
    return json.dumps(o, separators=(",", ":")).encode()


HELLO, DATA, END, ABORT, ACK, NACK, HAVEQ, HAVER, PING, PONG = range(1, 11)
VERIFYQ, VERIFYR, HANDOVERQ, HANDOVERR = range(11, 15)

# fuzz_frames: flags, chunk, n (2 bytes), then the stream.
OUT, MASTER, OUTUP, INUP, FENCED, REPLICA = 0x80, 1, 2, 4, 8, 16


def frames_seeds():
    hello = js({"v": 1, "pool": PARTNER, "pair": "fuzzpair", "modules": [
        {"module": m, "present": i != 1, "epoch": 1, "lsn": 5}
        for i, m in enumerate(MODS)]})
    ids = bytes(range(32)) * 2
    s = {
        "out-hello": (OUT | MASTER, 0, 0, frame(HELLO, hello)),
        "out-hello-ack": (OUT | MASTER, 0, 0, frame(HELLO, hello) +
                          frame(ACK, js({"module": "userdata", "epoch": 1,
                                         "lsn": 7, "noop": False}))),
        "out-hello-nack": (OUT, 0, 0, frame(HELLO, hello) +
                           frame(NACK, js({"module": "confcontent",
                                           "reason": "missing chunk",
                                           "snapshot": True, "lsn": 3}))),
        "out-ack-negative-lsn": (OUT | MASTER, 0, 0, frame(HELLO, hello) +
                                 frame(ACK, js({"module": "config",
                                                "lsn": -1}))),
        "out-hello-wrong-pool": (OUT, 0, 0, frame(HELLO, js({
            "v": 1, "pool": POOL, "modules": []}))),
        "out-haver": (OUT, 0, 0x0002, frame(HAVER, b"\0\0\0\x02\x01")),
        "out-haver-bad-count": (OUT, 0, 0x0010, frame(HAVER,
                                                      b"\0\0\0\x02\x01")),
        "out-verifyr": (OUT, 0, 0, frame(VERIFYR, js({
            "module": "userdata", "digests": ["00" * 32] * 4}))),
        # Under the harness's 64 KiB: three 256-digest answers at most.
        "out-verifyr-digests": (OUT, 0, 0,
                                frame(VERIFYR, js({
                                    "module": "userdata",
                                    "digests": ["0f" * 32] * 256})) +
                                frame(VERIFYR, js({
                                    "module": "userdata",
                                    "digests": ["0F" * 32] * 256})) +
                                frame(VERIFYR, js({
                                    "module": "userdata",
                                    "digests": ["0f" * 32] * 255}))),
        "out-verifyr-variants": (OUT, 0, 0,
                                 frame(VERIFYR, js({
                                     "module": "userdata",
                                     "digests": ["0f" * 32] * 255 +
                                     ["0f" * 31]})) +
                                 frame(VERIFYR, js({
                                     "module": "userdata",
                                     "keys": {"user sip:a@x.test":
                                              "ab" * 32}})) +
                                 frame(VERIFYR, js({
                                     "module": "userdata",
                                     "keys": {"user sip:a@x.test": 7}})) +
                                 frame(VERIFYR, js({
                                     "module": "config",
                                     "digests": []})) +
                                 frame(VERIFYR, js({
                                     "module": "userdata",
                                     "error": "no replica"})) +
                                 frame(VERIFYR, js({
                                     "module": "userdata", "error": 1}))),
        "out-handoverr": (OUT, 0, 0, frame(HANDOVERR, js({
            "home": PARTNER, "lsn": [3, 4]}))),
        "out-handoverr-refused": (OUT, 0, 0, frame(HANDOVERR, js({
            "error": "not the owner"}))),
        "out-handoverr-bad": (OUT, 0, 0,
                              frame(HANDOVERR, js({"home": PARTNER})) +
                              frame(HANDOVERR, js({"home": PARTNER,
                                                   "lsn": [3]})) +
                              frame(HANDOVERR, js({"home": PARTNER,
                                                   "lsn": [3, -1]})) +
                              frame(HANDOVERR, js({"home": PARTNER,
                                                   "lsn": ["3", 4]})) +
                              frame(HANDOVERR, js({"home": POOL,
                                                   "lsn": [3, 4]})) +
                              frame(HANDOVERR, js({"error": 7})) +
                              frame(HANDOVERR, js([3, 4]))),
        "out-ping-pong": (OUT, 1, 0, frame(PING) + frame(PONG)),
        "out-data-unexpected": (OUT, 0, 0, frame(DATA, b"\0abc")),
        "out-bad-json": (OUT, 0, 0, frame(ACK, b"{\"module\":")),
        "in-data-end": (INUP | REPLICA, 0, 0, frame(DATA, b"\0PPKG" + bytes(
            60)) + frame(END, b"\0")),
        "in-data-abort": (INUP, 3, 0, frame(DATA, b"\1" + bytes(100)) +
                          frame(ABORT, b"\1")),
        "in-data-two-modules": (INUP, 0, 0, frame(DATA, b"\0x") +
                                frame(DATA, b"\1y")),
        "in-end-without-data": (INUP, 0, 0, frame(END, b"\2")),
        "in-data-bad-module": (INUP, 0, 0, frame(DATA, b"\3x")),
        "in-haveq": (INUP, 0, 0, frame(HAVEQ, b"\1\0\0\0\2" + ids)),
        "in-haveq-short": (INUP, 0, 0, frame(HAVEQ, b"\1\0\0\0\3" + ids)),
        "in-verifyq": (INUP | OUTUP, 0, 0, frame(VERIFYQ, js({
            "module": "userdata", "round2": False}))),
        "in-verifyq-round2": (INUP, 0, 0, frame(VERIFYQ, js({
            "module": "confcontent", "round2": True,
            "buckets": [0, 7, 255, 256, -1]}))),
        "in-handoverq": (INUP | MASTER, 0, 0, frame(HANDOVERQ, js({
            "home": POOL, "epoch": 2}))),
        "in-handoverq-other": (INUP, 0, 0, frame(HANDOVERQ, js({
            "home": PARTNER, "epoch": 2}))),
        "bad-length": (INUP, 0, 0, b"\x00\x10\x00\x01\x02abc"),
        "bad-type": (OUT, 0, 0, frame(0, b"x") + frame(PING)),
        "empty-frame": (INUP, 0, 0, b"\0\0\0\0\x09"),
        "split-bytewise": (OUT | MASTER, 1, 0, frame(HELLO, hello) +
                           frame(PING)),
    }
    return {k: bytes([f, c, n >> 8, n & 255]) + b for k, (f, c, n, b)
            in s.items()}


def admin_server_seeds():
    r = lambda *objs: b"".join(js(o) + b"\n" for o in objs)
    s = {
        "status": (0, r({"cmd": "status"})),
        "status-twice": (OUTUP | INUP, r({"cmd": "status"},
                                         {"cmd": "status"})),
        "sync": (OUTUP, r({"cmd": "sync"})),
        "sync-wait-module": (OUTUP | MASTER, r({
            "cmd": "sync", "module": "userdata", "wait": True,
            "timeout_ms": 1000})),
        "sync-bad-module": (0, r({"cmd": "sync", "module": "nope"})),
        "wait": (MASTER, r({"cmd": "wait", "heads": {
            "userdata": 0, "confcontent": 0, "config": 0}})),
        "wait-bad-heads": (0, r({"cmd": "wait", "heads": {"x": -1}})),
        "verify-link-down": (0, r({"cmd": "verify"})),
        "verify": (OUTUP | INUP, r({"cmd": "verify", "repair": True})),
        "failover": (OUTUP, r({"cmd": "failover", "home": PARTNER,
                               "timeout_ms": 100})),
        "failover-self": (0, r({"cmd": "failover", "home": POOL})),
        "unknown-cmd": (0, r({"cmd": "reboot"})),
        "cmd-not-string": (0, r({"cmd": 1})),
        "not-json": (0, b"status\n{\"cmd\":\"status\"}\n"),
        "duplicate-key": (0, b"{\"cmd\":\"status\",\"cmd\":\"sync\"}\n"),
        "no-newline": (0, b"{\"cmd\":\"status\"}"),
        "empty-lines": (0, b"\n\n{\"cmd\":\"status\"}\r\n"),
        "array": (0, b"[\"status\"]\n"),
    }
    return {k: bytes([f]) + b for k, (f, b) in s.items()}


def admin_client_seeds():
    status = {"pool": POOL, "partner": PARTNER, "pair": "fuzzpair",
              "connection": {"state": "connected", "peer": "127.0.0.1:1",
                             "since": "2024-01-01T00:00:00Z",
                             "last_error": ""},
              "certificates": {"own_days_left": 300,
                               "partner_days_left": 300,
                               "ca_days_left": 3000, "crl_days_left": 20},
              "sync_interval_s": 0, "started": None,
              "modules": [{"module": m,
                           "export": {"state": "SteadyState", "reason": "",
                                      "head": 4, "acked": 3,
                                      "pending_records": 1,
                                      "pending_bytes": 10, "lag_s": 0.5,
                                      "last_export": None,
                                      "snapshot_needed": False,
                                      "last_package_bytes": 100},
                           "import": {"state": "ErrorState",
                                      "reason": "bad", "epoch": 1,
                                      "lsn": 2, "last_import": None}}
                          for m in MODS],
              "owners": [{"users_of": POOL, "owner": POOL, "epoch": 1,
                          "mode": "Normal"}], "fenced": True}
    verify = {"ok": True, "modules": [
        {"module": "userdata", "buckets": 256, "differ": [1, 2],
         "keys": [{"key": "user sip:a@b.c", "here": "00", "there": "01"}],
         "repaired": False},
        {"module": "confcontent", "buckets": 256, "differ": [],
         "keys": [], "repaired": False}]}
    line = lambda o: js(o) + b"\n"
    s = {
        "status-ok": (0, line({"ok": True, "status": status})),
        "status-json": (1, line({"ok": True, "status": status})),
        "status-timeout": (0, line({"ok": False, "error": "timeout: x"})),
        "status-refused": (0, line({"ok": False, "error": "no"})),
        "status-no-error": (0, line({"ok": False})),
        "status-not-object": (0, b"[1,2]\n"),
        "status-no-newline": (0, js({"ok": True})),
        "status-empty": (0, b""),
        "status-wrong-types": (0, line({"ok": True, "status": {
            "connection": 1, "modules": {"a": 1}, "owners": "x"}})),
        "sync-state": (2, line({"ok": True, "state": {
            "userdata": "FinalState", "config": 3}})),
        "sync-status": (3, line({"ok": True, "status": status})),
        "sync-string": (2, line({"ok": True, "state": "FinalState"})),
        "verify-differ": (4, line(verify)),
        "verify-json": (5, line(verify)),
        "verify-equal": (6, line({"ok": True, "modules": []})),
        "wait-ok": (7, line({"ok": True, "status": status})),
        "wait-timeout": (7, line({"ok": False, "error": "timeout: late"})),
        "two-lines": (0, line({"ok": True}) + line({"ok": False})),
        "duplicate-key": (0, b"{\"ok\":true,\"ok\":false}\n"),
    }
    return {k: bytes([c]) + b for k, (c, b) in s.items()}


CONF = """[pool]
fqdn = %s
data = data
[partner]
fqdn = %s
cert = b/identity.crt
[tls]
ca = ca/ca.crt
crl = ca/ca.crl
cert = a/identity.crt
key = a/identity.key
seal_key = a/seal.key
""" % (POOL, PARTNER)


def config_seeds():
    daemon = CONF.replace("data = data\n", "data = data\nlisten = "
                          "127.0.0.1:7000\n").replace(
        "cert = b/identity.crt\n", "cert = b/identity.crt\naddress = "
        "[::1]:7001\n") + "[backup]\nsync_interval = 60\n"
    s = {
        "valid": CONF,
        "valid-daemon": daemon,
        "valid-comments-bom": "\ufeff; a comment\n" + CONF.replace(
            "[tls]", "# tls\n  [tls]  ").replace("\n", "\r\n"),
        "missing-key": CONF.replace("crl = ca/ca.crl\n", ""),
        "missing-section": CONF.split("[tls]")[0],
        "duplicate-key": CONF + "[backup]\nsync_interval = 0\n"
                                "sync_interval = 5\n",
        "unknown-key": CONF.replace("data = data", "dta = data"),
        "unknown-section": CONF + "[nope]\n",
        "section-again": CONF + "[pool]\n",
        "key-outside": "fqdn = x\n" + CONF,
        "same-pool": CONF.replace("fqdn = " + PARTNER, "fqdn = " + POOL),
        "swapped-certs": CONF.replace("a/identity.crt", "X").replace(
            "b/identity.crt", "a/identity.crt").replace("X",
                                                       "b/identity.crt"),
        "wrong-key": CONF.replace("a/identity.key", "b/identity.key"),
        "wrong-seal": CONF.replace("a/seal.key", "b/seal.key"),
        "seal-as-identity": CONF.replace("a/identity.key", "a/seal.key"),
        "missing-file": CONF.replace("ca/ca.crl", "ca/none.crl"),
        "ca-as-crl": CONF.replace("ca/ca.crl", "ca/ca.crt"),
        "bad-interval": CONF + "[backup]\nsync_interval = 4\n",
        "bad-address": CONF.replace("data = data\n", "data = data\nlisten "
                                    "= [::1]\n"),
        "bad-fqdn": CONF.replace(POOL, "-pool.example.test"),
        "syntax": CONF.replace("[tls]", "[tls"),
        "nul": CONF.replace("data = data", "data = d\0ta"),
        "long-line": CONF + "; " + "x" * 300 + "\n",
        "addr-v6": "[fe80::1%eth0]:443",
        "addr-host": "pool-b.example.test:65535",
    }
    return {k: v.encode() for k, v in s.items()}


def sipuri_seeds():
    s = [
        "sip:alice@example.com", "sips:Bob.Smith@Example.COM.",
        "SIP:%41lice@example.com", "sip:a%2fb@example.com",
        "sip:a%2Fb%00@example.com", "sip:a%zz@example.com",
        "sip:user;tag=1@example.com", "sip:a:pw@example.com",
        "sip:a@example.com:5061", "sip:a@example.com;transport=tls",
        "sip:a@[::1]", "sip:a@192.0.2.1", "sip:@example.com",
        "sip:a@b@example.com", "tel:+15551234", "sip:a@",
        "sip:a@example..com", "sip:a@-example.com",
        "sip:%e9t%C3%A9@example.com", "sip:a&b=c+d$e,f/g@x.example",
        "sip:" + "u" * 250 + "@example.com",
        "sip:" + "%61" * 90 + "@example.com",
        "sip:a@" + "l" * 63 + "." + "m" * 63 + ".example",
        "sips:a@example.com..",
    ]
    return {"%02d" % i: v.encode() for i, v in enumerate(s)}


def main():
    top = sys.argv[1]
    for name, seeds in (("fuzz_frames", frames_seeds()),
                        ("fuzz_admin_server", admin_server_seeds()),
                        ("fuzz_admin_client", admin_client_seeds()),
                        ("fuzz_config", config_seeds()),
                        ("fuzz_sipuri", sipuri_seeds())):
        d = os.path.join(top, name)
        os.makedirs(d, exist_ok=True)
        for k, v in seeds.items():
            with open(os.path.join(d, k), "wb") as f:
                f.write(v)


main()
