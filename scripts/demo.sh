#!/bin/sh
# demo.sh BUILD: one pool's store at work, end to end, in a temp directory:
# users, contacts, settings, a conference with sealed content (re-uploaded
# with one changed slide), configuration, the journal, and a tampered chunk
# being caught.  (The two-pool replication demo arrives with poolpaird.)
set -eu
BUILD=${1:-build}
PP="$(cd "$BUILD" && pwd)/poolpair"
work=$(mktemp -d "${TMPDIR:-/tmp}/poolpair-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
D="$work/pool-a"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ poolpair %s\n' "$*"; "$PP" --data "$D" "$@"; }

step "create the store of pool-a.example.test"
"$PP" init --pool pool-a.example.test --data "$D"
ls -l "$D"

step "users, settings, contacts"
run user add sip:Alice@Contoso.test --name "Alice Smith"
run user add sip:bob@contoso.test --name "Bob Jones"
run setting set sip:alice@contoso.test presence.note "In Lisbon until Friday"
run contact add sip:alice@contoso.test sip:bob@contoso.test --group Team \
    --relationship colleague
run contact add sip:alice@contoso.test sip:carol@fabrikam.test \
    --name "Carol (Fabrikam)" --group Partners --relationship external
run user show sip:alice@contoso.test

step "a conference and its content, sealed at rest"
CONF=$(run conf create sip:alice@contoso.test --subject "Q3 review" \
    --start 2026-11-23T10:00:00Z --access invited | tail -n 1)
echo "$CONF"
head -c 6000000 /dev/urandom >"$work/deck.pptx"
run content put "$CONF" "$work/deck.pptx" --kind presentation
printf 'slide 7, revised' | dd of="$work/deck.pptx" bs=1 seek=3000000 \
    conv=notrunc 2>/dev/null
echo "(one slide changed: only the chunks around it are stored again)"
run content put "$CONF" "$work/deck.pptx" --kind presentation
run content get "$CONF" deck.pptx -o "$work/back.pptx"
cmp "$work/deck.pptx" "$work/back.pptx" && echo "content get: identical bytes"
if grep -q "slide 7, revised" "$D"/chunks/pack-*; then
	echo "plaintext found on disk!"; exit 1
fi
echo "the packs on disk hold no plaintext (grep finds nothing)"

step "configuration (this pool is the config master)"
printf '{"blocked_words": ["lottery"]}\n' | "$PP" --data "$D" config set imfilter
run config list

step "the journal: every committed change, in order"
run journal

step "tampering is caught"
f=$(ls "$D"/chunks/pack-* | head -n 1)
printf 'X' | dd of="$f" bs=1 seek=1000 conv=notrunc 2>/dev/null
run content get "$CONF" deck.pptx -o "$work/bad.pptx" || \
    echo "(refused, exit $?; nothing was written: $(ls "$work" | grep -c bad) files)"

step "the store"
run info
