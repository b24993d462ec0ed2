# bench/lib.sh: shell helpers shared by the benchmark scripts (POSIX sh).
#
# Sourced, not run:  . "$(dirname "$0")/lib.sh"
# then "bench_init NAME TOOL..." first.  Scripts run from the repository
# root.  Variables the helpers set or read:
#   BENCH_NAME  prefix of messages ("feeds", "oai", ...)
#   PUBFEED     the binary (default build/pubfeed), PY the Debian python
#   WORK        the script's temp directory (bench_workdir), removed on exit
#   PF_PID NG_PID  pubfeed / nginx, stopped on exit when set
#   CONNS DURATION  wrk connections and seconds per run (wrk_rps)

# the variables set here are used by the scripts that source this file
# shellcheck disable=SC2034
PY=/usr/bin/python3

die() {
	echo "$BENCH_NAME: $*" >&2
	exit 1
}

# bench_init NAME TOOL...: message prefix; fails unless every TOOL, python
# and the pubfeed binary are there and we run from the repository root
bench_init() {
	BENCH_NAME=$1
	shift
	PUBFEED=${PUBFEED:-build/pubfeed}
	for tool in "$@" "$PY"; do
		command -v "$tool" >/dev/null 2>&1 ||
		    die "$tool not found (make deps)"
	done
	[ -x "$PUBFEED" ] || die "$PUBFEED not built (make pubfeed)"
	[ -f bench/gen_records.py ] || die "run from the repository root"
}

now() { date +%s.%N; }

# elapsed T0 T1 [FORMAT]: seconds between two "now" stamps (default %.3f)
elapsed() {
	echo "$1 $2" | awk -v f="${3:-%.3f}" '{ printf f, $2 - $1 }'
}

free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# median of the numbers on stdin, one per line
median() {
	sort -n | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "0"; exit }
		if (NR % 2) print v[(NR + 1) / 2];
		else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B: A / B to two decimals, 0 when B is 0
ratio() {
	echo "$1 $2" | awk '{ printf "%.2f", ($2 > 0 ? $1 / $2 : 0) }'
}

# server_order RUN: which server goes first in run RUN; alternating, so
# drift hits both alike
server_order() {
	if [ $(($1 % 2)) = 1 ]; then echo "pubfeed nginx"
	else echo "nginx pubfeed"; fi
}

# wait_http URL SECONDS [PID]: until URL answers 200; fails early when PID
# (the server being waited for) has exited
wait_http() {
	i=0
	while [ "$i" -lt "$(($2 * 20))" ]; do
		if [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = 200 ]; then
			return 0
		fi
		if [ $# -ge 3 ]; then
			kill -0 "$3" 2>/dev/null || return 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# bench_records DIR NREC: sets RECORDS to DIR/records-NREC, generating it
# first if needed.  Generated into a temp name and renamed when complete,
# so the directory's existence is the marker that it is whole (and it is
# cached for later runs).
bench_records() {
	mkdir -p "$1" || die "cannot create $1"
	RECORDS=$(cd "$1" && pwd)/records-$2
	if [ ! -d "$RECORDS" ]; then
		echo "$BENCH_NAME: generating $2 records into $RECORDS"
		rm -rf "$RECORDS.tmp"
		"$PY" bench/gen_records.py "$RECORDS.tmp" "$2" >/dev/null ||
		    die "gen_records.py failed"
		mv "$RECORDS.tmp" "$RECORDS"
	fi
}

# bench_ports: PF_PORT and NG_PORT, two free loopback ports for pubfeed and
# nginx, and PF and NG, their base URLs
bench_ports() {
	PF_PORT=$(free_port)
	NG_PORT=$(free_port)
	PF=http://127.0.0.1:$PF_PORT
	NG=http://127.0.0.1:$NG_PORT
}

bench_cleanup() {
	[ -n "$PF_PID" ] && kill "$PF_PID" 2>/dev/null && wait "$PF_PID" 2>/dev/null
	[ -n "$NG_PID" ] && kill "$NG_PID" 2>/dev/null && wait "$NG_PID" 2>/dev/null
	rm -rf "$WORK"
}

# bench_workdir: WORK, a fresh temp directory, and the exit trap that stops
# the servers and removes it
bench_workdir() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/pubfeed-bench-$BENCH_NAME.XXXXXX") ||
	    die "mktemp failed"
	# nginx workers may run as "nobody" when started by root: world-readable
	chmod 755 "$WORK"
	PF_PID=
	NG_PID=
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

# pubfeed_conf PORT RECORDS [LINE...]: writes $WORK/pubfeed.conf, the
# settings every benchmark shares plus the given lines
pubfeed_conf() {
	port=$1 records=$2
	shift 2
	{
		cat <<EOF
repository-name "Pubfeed Benchmark"
base-url http://127.0.0.1:$port
listen 127.0.0.1:$port
admin-email admin@bench.example.org
tag-authority bench.example.org,2024
records $records
state $WORK/state
feed-author-name "Benchmark"
oai-namespace bench.example.org
log-level warning
rescan-interval 0
open-sets yes
EOF
		for line in "$@"; do
			echo "$line"
		done
	} >"$WORK/pubfeed.conf" || die "cannot write $WORK/pubfeed.conf"
}

# start_pubfeed PORT SECONDS: serves $WORK/pubfeed.conf (which listens on
# PORT; log $WORK/pubfeed.log), sets PF_PID, waits up to SECONDS for
# /healthz; PF_T0 and PF_T1 are the "now" stamps of start and readiness
start_pubfeed() {
	PF_T0=$(now)
	"$PUBFEED" serve -c "$WORK/pubfeed.conf" >"$WORK/pubfeed.log" 2>&1 &
	PF_PID=$!
	wait_http "http://127.0.0.1:$1/healthz" "$2" "$PF_PID" || {
		cat "$WORK/pubfeed.log" >&2
		die "pubfeed did not become ready"
	}
	PF_T1=$(now)
}

# start_nginx URL: runs nginx on $WORK/nginx.conf from the prefix
# $WORK/nginx, sets NG_PID, waits until URL answers 200
start_nginx() {
	mkdir -p "$WORK/nginx/tmp"
	nginx -p "$WORK/nginx" -c "$WORK/nginx.conf" -e "$WORK/nginx/error.log" \
	    >"$WORK/nginx.out" 2>&1 &
	NG_PID=$!
	wait_http "$1" 20 "$NG_PID" || {
		cat "$WORK/nginx.out" "$WORK/nginx/error.log" >&2
		die "nginx did not start"
	}
}

# wrk_rps MIN MAX URL [header]: requests/s of one wrk run (output in
# $WORK/wrk.out).  Fails on socket errors or non-2xx/3xx answers, and
# unless the bytes read per request lie in [MIN, MAX] (so a 304 run really
# was 304s, a gzip run really gzip; wrk rounds its byte total to three
# digits, so callers allow some slack).
wrk_rps() {
	min=$1 max=$2 url=$3
	shift 3
	if [ $# -eq 0 ]; then
		wrk -t2 -c"$CONNS" -d"${DURATION}s" "$url" >"$WORK/wrk.out" 2>&1
	else
		wrk -t2 -c"$CONNS" -d"${DURATION}s" -H "$1" "$url" \
		    >"$WORK/wrk.out" 2>&1
	fi || die "wrk failed: $(cat "$WORK/wrk.out")"
	if grep -q -E 'Non-2xx|Socket errors' "$WORK/wrk.out"; then
		cat "$WORK/wrk.out" >&2
		die "wrk saw errors against $url"
	fi
	per=$(awk '/requests in/ {
		n = $1; v = $5; u = v; sub(/[0-9.]+/, "", v); sub(/[A-Za-z]+$/, "", u)
		m = 1
		if (v == "KB") m = 1024; else if (v == "MB") m = 1048576
		else if (v == "GB") m = 1073741824
		else if (v == "TB") m = 1099511627776
		if (n > 0) printf "%.0f", u * m / n }' "$WORK/wrk.out")
	if [ -z "$per" ] || [ "$per" -lt "$min" ] || [ "$per" -gt "$max" ]; then
		cat "$WORK/wrk.out" >&2
		die "$url: ${per:-?} bytes per response, expected $min..$max"
	fi
	awk '/^Requests\/sec:/ { print $2 }' "$WORK/wrk.out"
}
