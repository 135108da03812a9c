#!/bin/sh
# 11-pki: the pair CA and a pool's config file, from the command line.
# Proves: pki init makes the CA directory 0700 with ca.key 0600 and never
# replaces a CA; pki issue writes identity.key and seal.key 0600 and prints
# a config that loads once [partner] is filled in: 'poolpair -c FILE info'
# works against a store made with 'init --data' (and takes the store from
# [pool] data; --config=FILE and POOLPAIR_CONFIG work too); pki show
# agrees with openssl on fingerprint, serial and the seal public key;
# revoke puts a certificate on the CRL once (a second time is refused) and
# the config then refuses the partner; pki crl bumps the CRL number; -c
# refusals print one line FILE:LINE: reason (exit 1 for a bad value, 3 for
# files, keys and certificates); a store of another pool is refused.
. "$(dirname "$0")/lib.sh"

umask 022
P=$POOLPAIR
CA=$TESTDIR/ca
A=pool-a.example.test
B=pool-b.example.test

# The CA.
out=$(succeeds "$P" pki init --pair pair1 --out "$CA")
assert_contains "$out" "pair1" "pki init output"
assert_eq 700 "$(stat -c %a "$CA")" "mode of the CA directory"
assert_eq 600 "$(stat -c %a "$CA/ca.key")" "mode of ca.key"
cp "$CA/ca.key" "$TESTDIR/ca.key.before"
refused 1 "already exists" "$P" pki init --pair other --out "$CA"
cmp -s "$CA/ca.key" "$TESTDIR/ca.key.before" || fail "second init changed ca.key"
refused 1 "pair name" "$P" pki init --pair "bad name" --out "$TESTDIR/x1"
refused 2 "required" "$P" pki init --out "$TESTDIR/x2"
refused 2 "days" "$P" pki init --pair p --out "$TESTDIR/x3" --days soon
assert_eq "pair1" "$(openssl x509 -in "$CA/ca.crt" -noout -subject -nameopt multiline |
    sed -n 's/^ *commonName *= *//p')" "CA subject"
assert_eq "crlNumber=0x01" "$(openssl crl -in "$CA/ca.crl" -noout -crlnumber)" "first CRL number"

# Two pools.
succeeds "$P" pki issue --ca "$CA" --pool "$A" --out "$TESTDIR/a" >"$TESTDIR/a.conf.in"
succeeds "$P" pki issue --ca "$CA" --pool "$B" --out "$TESTDIR/b" >"$TESTDIR/b.conf.in"
for f in a/identity.key a/seal.key b/identity.key b/seal.key; do
	assert_eq 600 "$(stat -c %a "$TESTDIR/$f")" "mode of $f"
done
openssl verify -CAfile "$CA/ca.crt" -crl_check -CRLfile "$CA/ca.crl" \
    "$TESTDIR/a/identity.crt" >/dev/null || fail "openssl does not verify a's certificate"
refused 1 "domain name" "$P" pki issue --ca "$CA" --pool nodots --out "$TESTDIR/x4"
refused 1 "825" "$P" pki issue --ca "$CA" --pool "$A" --out "$TESTDIR/x5" --days 900
refused 1 "already exists" "$P" pki issue --ca "$CA" --pool "$A" --out "$TESTDIR/a"
refused 3 "cannot open" "$P" pki issue --ca "$TESTDIR/noca" --pool "$A" --out "$TESTDIR/x6"

# pki show agrees with openssl.
crt=$TESTDIR/a/identity.crt
out=$(succeeds "$P" pki show "$crt")
assert_contains "$out" "subject:    $A" "pki show subject"
assert_contains "$out" "issuer:     pair1" "pki show issuer"
j=$(succeeds "$P" pki show "$crt" --json)
assert_eq "$A" "$(json_eval "$j" 'd["san"]')" "show san"
assert_eq "$(openssl x509 -in "$crt" -noout -fingerprint -sha256 |
    sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')" "$(json_eval "$j" 'd["sha256"]')" "fingerprint"
assert_eq "$(openssl x509 -in "$crt" -noout -serial | sed 's/.*=//' | tr 'A-F' 'a-f')" \
    "$(json_eval "$j" 'd["serial"]')" "serial"
assert_eq "$(openssl pkey -in "$TESTDIR/a/seal.key" -pubout -outform DER | tail -c 32 |
    od -An -tx1 | tr -d ' \n')" "$(json_eval "$j" 'd["seal_pub"]')" "seal public key"
case $(json_eval "$j" 'd["days_left"]') in 396|397) ;; *) fail "days left: $j" ;; esac
assert_eq "None" "$(json_eval "$(succeeds "$P" pki show "$CA/ca.crt" --json)" 'd["seal_pub"]')" \
    "the CA has no seal key"
refused 3 "cannot open" "$P" pki show "$TESTDIR/none.crt"

# The printed config loads once [partner] is filled in.
complete() {	# complete IN OUT PARTNER PARTNER_DIR DATA
	sed -e "s|^# fqdn = .*|fqdn = $3|" -e "s|^# cert = .*|cert = $4/identity.crt|" \
	    -e "s|^data = .*|data = $5|" "$1" >"$2"
}
complete "$TESTDIR/a.conf.in" "$TESTDIR/a.conf" "$B" "$TESTDIR/b" "$TESTDIR/store-a"
complete "$TESTDIR/b.conf.in" "$TESTDIR/b.conf" "$A" "$TESTDIR/a" "$TESTDIR/store-b"
newpool "$TESTDIR/store-a" "$A"
newpool "$TESTDIR/store-b" "$B"
j=$(succeeds "$P" -c "$TESTDIR/a.conf" info --json)
assert_eq "$A" "$(json_eval "$j" 'd["pool"]')" "info with -c"
assert_eq "$TESTDIR/store-a" "$(json_eval "$j" 'd["data"]')" "store from [pool] data"
j=$(POOLPAIR_DATA=$TESTDIR/store-b succeeds "$P" --config="$TESTDIR/a.conf" info --json)
assert_eq "$A" "$(json_eval "$j" 'd["pool"]')" "-c wins over POOLPAIR_DATA"
j=$(POOLPAIR_CONFIG=$TESTDIR/b.conf succeeds "$P" info --json)
assert_eq "$B" "$(json_eval "$j" 'd["pool"]')" "POOLPAIR_CONFIG"
# --data still names the store, which must be the config's pool.
refused 3 "is pool $B's" "$P" -c "$TESTDIR/a.conf" --data "$TESTDIR/store-b" info
refused 2 "needs a value" "$P" -c

# Refusals name the file and the line.
line_of() { grep -n "^$2" "$1" | head -n 1 | cut -d: -f1; }
conf=$TESTDIR/bad.conf
sed 's/^seal_key =/seal_kee =/' "$TESTDIR/a.conf" >"$conf"
refused 1 "^poolpair: $conf:$(line_of "$conf" seal_kee): unknown key 'seal_kee' in \[tls\]" \
    "$P" -c "$conf" info
sed 's/^\[partner\]/[partners]/' "$TESTDIR/a.conf" >"$conf"
refused 1 "$conf:$(line_of "$conf" '\[partners'): unknown section" "$P" -c "$conf" info
{ cat "$TESTDIR/a.conf"; echo "ca = $CA/ca.crt"; } >"$conf"
refused 1 "$conf:$(wc -l <"$conf"): duplicate key 'ca'" "$P" -c "$conf" info
grep -v '^crl =' "$TESTDIR/a.conf" >"$conf"
refused 1 "$conf:$(line_of "$conf" '\[tls\]'): missing key 'crl' in \[tls\]" "$P" -c "$conf" info
{ cat "$TESTDIR/a.conf"; echo "; $(nchars 300)"; } >"$conf"
refused 1 "$conf:$(wc -l <"$conf"): line too long" "$P" -c "$conf" info
sed "s|^cert = $TESTDIR/b/|cert = $TESTDIR/a/|" "$TESTDIR/a.conf" >"$conf"
refused 3 "$conf:$(line_of "$conf" "cert = $TESTDIR/a/"): certificate '$A' does not name $B" \
    "$P" -c "$conf" info
refused 3 "cannot open config file" "$P" -c "$TESTDIR/none.conf" info
chmod 644 "$TESTDIR/a/identity.key"
refused 3 "a.conf:$(line_of "$TESTDIR/a.conf" 'key ='): key file .* chmod 600" \
    "$P" -c "$TESTDIR/a.conf" info
chmod 600 "$TESTDIR/a/identity.key"
chmod 664 "$TESTDIR/a.conf"
refused 3 "writable by group or others" "$P" -c "$TESTDIR/a.conf" info
chmod 644 "$TESTDIR/a.conf"

# Revocation: the partner's certificate, once; the config then refuses it.
out=$(succeeds "$P" pki revoke --ca "$CA" "$TESTDIR/b/identity.crt")
assert_contains "$out" "revoked" "pki revoke output"
assert_eq "crlNumber=0x02" "$(openssl crl -in "$CA/ca.crl" -noout -crlnumber)" "CRL number after revoke"
cp "$CA/ca.crl" "$TESTDIR/crl.before"
refused 1 "already revoked" "$P" pki revoke --ca "$CA" "$TESTDIR/b/identity.crt"
cmp -s "$CA/ca.crl" "$TESTDIR/crl.before" || fail "a refused revoke changed the CRL"
refused 3 "a.conf:$(line_of "$TESTDIR/a.conf" 'cert = '): certificate '$B' is refused: certificate revoked" \
    "$P" -c "$TESTDIR/a.conf" info
refused 3 "certificate revoked" "$P" -c "$TESTDIR/b.conf" info
succeeds "$P" pki crl --ca "$CA" >/dev/null
assert_eq "crlNumber=0x03" "$(openssl crl -in "$CA/ca.crl" -noout -crlnumber)" "CRL number after pki crl"
openssl crl -in "$CA/ca.crl" -noout -text | grep -q "$(openssl x509 -in "$TESTDIR/b/identity.crt" \
    -noout -serial | sed 's/.*=//')" || fail "pki crl dropped the revoked serial"

# Help.
for cmd in "pki init" "pki issue" "pki revoke" "pki crl" "pki show"; do
	# shellcheck disable=SC2086 # split "pki init" into two words
	exits 0 "$P" $cmd --help
	assert_contains "$(head -n 1 "$TESTDIR/.out")" "usage: poolpair [--data DIR] $cmd" "'$cmd --help'"
done
assert_contains "$(succeeds "$P" --help)" "-c FILE" "poolpair --help mentions -c"
echo "11-pki: ok"
