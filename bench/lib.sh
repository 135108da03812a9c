# lib.sh: what the benchmark scripts share.  Source it with $top (the
# source tree) set, then call bench_setup.

# port: a TCP port on 127.0.0.1 that nothing listens on now.
port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ms: milliseconds since the epoch; secs T0 T1: seconds between two ms.
ms() { date +%s%3N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1000 }'; }
# cpu_s PID: the CPU seconds (user and system, all threads) PID has used.
cpu_s() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }

# machine: one line about this machine.
machine() {
	echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(uname -sr)"
}

# bench_pair: in $work, the pair CA (pair "bench"), pools a and b with
# their identities and config files $work/a.conf and $work/b.conf (data in
# $work/X.data, listen and partner address on free loopback ports), and
# pool B's empty store (pool A is the config master; A's store is left to
# the caller, usually bench-gen).
bench_pair() {
	"$P" pki init --pair bench --out "$work/ca" >/dev/null
	_pa=$(port)
	_pb=$(port)
	for _x in a b; do
		if [ $_x = a ]; then _me=$_pa _other=$_pb _o=b; else _me=$_pb _other=$_pa _o=a; fi
		"$P" pki issue --ca "$work/ca" --pool pool-$_x.example.test --out "$work/$_x" |
		    sed -e "s|^data = .*|data = $work/$_x.data\nlisten = 127.0.0.1:$_me|" \
		    -e "s|^# fqdn = .*|fqdn = pool-$_o.example.test\naddress = 127.0.0.1:$_other|" \
		    -e "s|^# cert = .*|cert = $work/$_o/identity.crt|" >"$work/$_x.conf"
		chmod 600 "$work/$_x.conf"
	done
	"$P" init --pool pool-b.example.test --data "$work/b.data" \
	    --config-master pool-a.example.test >/dev/null
}

# bench_synced CONF TRIES PAUSE: wait until pool CONF's daemon has shipped
# everything and the partner has it (poolpair sync --wait; its admin
# socket may not be up yet), trying TRIES times PAUSE seconds apart.
bench_synced() {
	_n=0
	until "$P" -c "$1" sync --wait --timeout 1200 >/dev/null 2>&1; do
		_n=$((_n + 1))
		[ $_n -lt "$2" ] || { echo "no initial sync"; exit 1; }
		sleep "$3"
	done
}

# bench_doc NAME HEADING FRAG: put the lines of file FRAG (which begin with
# "<!-- NAME:begin" and end with "<!-- NAME:end -->") in place of that
# block in docs/benchmarks.md, or append them under "## HEADING".
bench_doc() {
	_doc="$top/docs/benchmarks.md"
	if grep -q "<!-- $1:begin" "$_doc" 2>/dev/null; then
		awk -v f="$3" -v b="<!-- $1:begin" -v e="<!-- $1:end" '
		    index($0, b) == 1 { while ((getline l < f) > 0) print l; skip = 1; next }
		    index($0, e) == 1 { skip = 0; next } !skip { print }' \
		    "$_doc" >"$work/doc" && cp "$work/doc" "$_doc"
	else
		printf '\n## %s\n\n' "$2" >>"$_doc"
		cat "$3" >>"$_doc"
	fi
}

# bench_setup NAME: BUILD made absolute, P (its poolpair), a scratch
# directory $work (removed at exit, with the processes in $pids killed;
# kept, with the daemons' logs, when BENCH_KEEP=1) and the results
# directory $res.
bench_setup() {
	case "$BUILD" in /*) ;; *) BUILD="$top/$BUILD" ;; esac
	P=$BUILD/poolpair
	work=$(mktemp -d "${TMPDIR:-/tmp}/pp-$1.XXXXXX")
	pids=""
	trap 'for p in $pids; do kill $p 2>/dev/null || true; done; wait 2>/dev/null; [ "${BENCH_KEEP:-0}" = 1 ] && echo "kept $work" || rm -rf "$work"' EXIT
	res="$top/bench/results"
	mkdir -p "$res"
}
