#!/bin/sh
# 07-bad-store: stores that must not be opened, and damaged stores.
# Proves: a storage key readable by group or others, a wrong key, a key of
# the wrong size, a missing key, a pool.db of garbage, a foreign SQLite
# database, an empty pool.db, a truncated pool.db and a missing store are all
# refused with exit 3 and one line on stderr, and nothing is changed or
# created; missing or truncated pack files make content get fail with exit 3;
# a populated pool.db with pages overwritten by random bytes makes a full
# scan fail with exit 3 and every command fail cleanly (exit 0, 1 or 3, one
# stderr line), never crash or trip the sanitizers.
. "$(dirname "$0")/lib.sh"

alice_pool "$TESTDIR/s" pool1.contoso.test
head -c 200000 /dev/urandom >"$TESTDIR/item.bin"
pp content put "$C" "$TESTDIR/item.bin" >/dev/null
cp "$D/storage.key" "$TESTDIR/key.good"
cp "$D/pool.db" "$TESTDIR/db.good"

# Each open failure: exit 3, one line, nothing on stdout, store unchanged.
# bad_open PATTERN: check a few commands, reads and writes.
bad_open() {
	refused 3 "$1" pp user list
	refused 3 "$1" pp info --json
	refused 3 "$1" pp user add sip:mallory@contoso.test --name Mallory
	refused 3 "$1" pp content get "$C" item.bin -o "$TESTDIR/got.bin"
	[ ! -e "$TESTDIR/got.bin" ] || fail "a refused get -o wrote a file"
}

# The storage key: loose modes, wrong key, wrong sizes, missing, a directory.
for mode in 644 640 604 660 666; do
	chmod "$mode" "$D/storage.key"
	bad_open "group or others.*0600"
	assert_eq "$mode" "$(stat -c %a "$D/storage.key")" "poolpair changed the key's mode"
done
chmod 600 "$D/storage.key"
head -c 32 /dev/urandom >"$D/storage.key"
bad_open "not the key of this store"
for size in 0 31 33 64; do
	head -c "$size" /dev/urandom >"$D/storage.key"
	bad_open "bytes, not 32"
done
rm "$D/storage.key"
bad_open "cannot open storage key"
[ ! -e "$D/storage.key" ] || fail "opening a store without its key created one"
mkdir "$D/storage.key"
bad_open "storage key"
rmdir "$D/storage.key"
cp "$TESTDIR/key.good" "$D/storage.key"
chmod 600 "$D/storage.key"
assert_eq "$A" "$(succeeds pp user list | cut -f 1)" "the store with its key back"

# pool.db: garbage, a foreign SQLite database, empty, truncated.
head -c 200000 /dev/urandom >"$D/pool.db"
bad_open "not a poolpair store"
rm "$D/pool.db"
sqlite3 "$D/pool.db" 'CREATE TABLE t(a); INSERT INTO t VALUES (1)'
cp "$D/pool.db" "$TESTDIR/foreign.db"
bad_open "not a poolpair store"
cmp -s "$D/pool.db" "$TESTDIR/foreign.db" || fail "poolpair modified a foreign database"
assert_eq delete "$(sqlite3 "$D/pool.db" 'PRAGMA journal_mode')" "journal mode of the foreign database"
: >"$D/pool.db"
bad_open "not a poolpair store"
assert_eq 0 "$(stat -c %s "$D/pool.db")" "size of an empty pool.db after a refused open"
head -c 8192 "$TESTDIR/db.good" >"$D/pool.db"
refused 3 "corrupted" pp user list
refused 3 "corrupted" pp content get "$C" item.bin
cp "$TESTDIR/db.good" "$D/pool.db"
assert_eq "$A" "$(succeeds pp user list | cut -f 1)" "the store with its database back"

# A missing store: nothing is created.
refused 3 "no store" "$POOLPAIR" --data "$TESTDIR/nowhere" user list
refused 3 "no store" "$POOLPAIR" --data "$TESTDIR/nowhere" user add "$A" --name A
[ ! -e "$TESTDIR/nowhere" ] || fail "a refused open created the directory"
mkdir "$TESTDIR/empty"
refused 3 "no store" "$POOLPAIR" --data "$TESTDIR/empty" user add "$A" --name A
assert_eq "" "$(ls -A "$TESTDIR/empty")" "files created in an empty directory"

# Pack files: missing, truncated.
pack=$(ls "$D"/chunks/pack-*)
mv "$pack" "$TESTDIR/pack.good"
refused 3 "damaged" pp content get "$C" item.bin -o "$TESTDIR/got.bin"
[ ! -e "$TESTDIR/got.bin" ] || fail "a failed get -o wrote a file"
head -c 100000 "$TESTDIR/pack.good" >"$pack"
refused 3 "damaged.*short" pp content get "$C" item.bin -o "$TESTDIR/got.bin"
[ ! -e "$TESTDIR/got.bin" ] || fail "a failed get -o wrote a file"
mv "$TESTDIR/pack.good" "$pack"
pp content get "$C" item.bin -o "$TESTDIR/got.bin"
cmp "$TESTDIR/item.bin" "$TESTDIR/got.bin" || fail "the item with its pack back"

# A corrupted database.  2,000 more users with long names (written with
# sqlite3 for speed) give the file hundreds of pages.  Then random bytes
# overwrite three leaf pages of the users table (found with dbstat) and two
# runs of pages in the middle of the file.
sqlite3 "$D/pool.db" "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 2000)
    INSERT INTO users(uri, name, home, created, updated)
    SELECT printf('sip:user%04d@contoso.test', x), printf('User %d %.200c', x, 'x'),
    home, created, updated FROM users, n WHERE uri = 'sip:alice@contoso.test'"
assert_eq 2001 "$(succeeds pp user list | wc -l)" "users before the corruption"
assert_eq "User 1999 $(nchars 200 x)" \
    "$(json_eval "$(succeeds pp user show sip:user1999@contoso.test --json)" 'd["name"]')" \
    "a bulk-loaded user"
assert_eq ok "$(sqlite3 "$D/pool.db" 'PRAGMA integrity_check')" "integrity before the corruption"
[ ! -e "$D/pool.db-wal" ] || fail "pool.db-wal left behind; the file to corrupt is not complete"
ps=$(sqlite3 "$D/pool.db" 'PRAGMA page_size')
pages=$(($(stat -c %s "$D/pool.db") / ps))
[ "$pages" -gt 150 ] || fail "only $pages pages in the populated store"
leaves=$(sqlite3 "$D/pool.db" "SELECT pageno FROM dbstat WHERE name = 'users' AND pagetype = 'leaf' ORDER BY pageno")
n=$(printf '%s\n' "$leaves" | wc -l)
[ "$n" -gt 20 ] || fail "only $n leaf pages in the users table"
for k in $((n / 4)) $((n / 2)) $((n * 3 / 4)); do
	pg=$(printf '%s\n' "$leaves" | sed -n "${k}p")
	dd if=/dev/urandom of="$D/pool.db" bs="$ps" seek=$((pg - 1)) count=1 conv=notrunc 2>/dev/null
done
for at in $((pages * 2 / 5)) $((pages * 3 / 5)); do
	dd if=/dev/urandom of="$D/pool.db" bs="$ps" seek="$at" count=3 conv=notrunc 2>/dev/null
done
[ "$(sqlite3 "$D/pool.db" 'PRAGMA integrity_check' 2>&1)" != ok ] ||
    fail "the overwritten pages went unnoticed by sqlite3's integrity check"

# A full scan of the users reads a garbage page: it must fail, exit 3, with
# one line saying so (what was listed before the bad page may be on stdout).
for json in "" --json; do
	exits 3 pp user list $json
	[ "$(wc -l <"$TESTDIR/.err")" -eq 1 ] && grep -q "corrupted" "$TESTDIR/.err" ||
	    fail "user list $json on a corrupted store said: $(head -c 600 "$TESTDIR/.err")"
done
# Every other command either works or fails cleanly.
for cmd in "user show sip:user1000@contoso.test --json" \
    "user show $A" "info" "journal" "journal --module userdata --json" \
    "setting list sip:user0500@contoso.test" "setting get sip:user1500@contoso.test k" \
    "user add sip:new@contoso.test --name New" "setting set sip:user0700@contoso.test k v" \
    "user del sip:user1200@contoso.test" "contact add $A sip:user0300@contoso.test" \
    "conf list" "content list" "config list" "compact"; do
	set +e
	# shellcheck disable=SC2086 # split the command into words
	"$POOLPAIR" --data "$D" $cmd >"$TESTDIR/.out" 2>"$TESTDIR/.err"
	rc=$?
	set -e
	no_sanitizer_report "$TESTDIR/.err" "$cmd on a corrupted store"
	case $rc in
	0) [ ! -s "$TESTDIR/.err" ] || fail "'$cmd' exited 0 but said: $(cat "$TESTDIR/.err")" ;;
	1 | 3)
		[ "$(wc -l <"$TESTDIR/.err")" -eq 1 ] ||
		    fail "'$cmd' on a corrupted store: not one line on stderr: $(head -c 600 "$TESTDIR/.err")"
		grep -q '^poolpair: ' "$TESTDIR/.err" || fail "'$cmd' said: $(cat "$TESTDIR/.err")" ;;
	*) fail "'$cmd' on a corrupted store exited $rc: $(head -c 600 "$TESTDIR/.err")" ;;
	esac
done
echo "07-bad-store: ok"
