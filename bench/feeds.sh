#!/bin/sh
# bench/feeds.sh: pubfeed against nginx serving the identical /feed.atom.
#
# Generates (or reuses) a synthetic collection of 10,000 records, starts
# pubfeed on a free loopback port, fetches /feed.atom from it plain and
# gzip, and has nginx serve exactly those bytes from disk (gzip_static).
# A third server, bench/mhd_limit.c (built here), is the bare
# libmicrohttpd limit: one static in-memory body with the flags and thread
# pool pubfeed uses.  With PUBFEED_BASE=path/to/older/pubfeed a fourth
# server, that build on the same records, gives before/after ratios from
# the same run.  Then wrk measures three cases against each server in turn,
# 3 runs each:
#
#   plain  GET /feed.atom
#   gzip   GET /feed.atom, Accept-Encoding: gzip
#   304    GET /feed.atom, If-None-Match: <that server's own ETag>
#
# and prints the median requests/s of each server and the ratios
# pubfeed/nginx and pubfeed/limit (above 1: pubfeed faster), and the median
# server CPU time per request (user + system of pubfeed, of nginx's master
# and workers, from /proc) and its ratios (below 1: pubfeed cheaper).  wrk runs
# on the same cores, so req/s on a busy machine is noisy; CPU per request
# is the steadier of the two.  Fairness: the same worker count on both (pubfeed
# "threads N", nginx "worker_processes N", N = BENCH_WORKERS, default 2),
# keep-alive on both (no per-connection request limit on nginx), no access
# log on either, and nginx sends the same cache headers pubfeed sends.
# Every response is checked (status, bytes) before anything is timed.
#
# Run from the repository root (make bench does).  Environment:
#   PUBFEED          binary (default build/pubfeed)
#   BENCH_DIR        work and cache directory (default build/bench)
#   BENCH_WORKERS    threads / worker processes (default 2)
#   BENCH_DURATION   seconds per wrk run (default 5)
#   BENCH_CONNS      wrk connections (default 32)
#   BENCH_RUNS       runs per case (default 3)
#   BENCH_RECORDS    collection size (default 10000)
# Summary lines start with "summary: " (bench/run.sh collects them).

set -u

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init feeds wrk nginx curl cc
BENCH_DIR=${BENCH_DIR:-build/bench}
WORKERS=${BENCH_WORKERS:-2}
DURATION=${BENCH_DURATION:-5}
CONNS=${BENCH_CONNS:-32}
RUNS=${BENCH_RUNS:-3}
NREC=${BENCH_RECORDS:-10000}
TICK=$(getconf CLK_TCK)

# cpu_ticks PID...: user + system clock ticks used so far by these
# processes (all threads included)
cpu_ticks() {
	for p in "$@"; do
		cat "/proc/$p/stat" 2>/dev/null
	done | sed 's/.*) //' | awk '{ t += $12 + $13 } END { print t + 0 }'
}

bench_records "$BENCH_DIR" "$NREC"
bench_workdir

bench_ports
pubfeed_conf "$PF_PORT" "$RECORDS" "feed-entries 50" "threads $WORKERS" \
    "access-log no"

echo "feeds: starting pubfeed ($NREC records, threads $WORKERS) on $PF"
start_pubfeed "$PF_PORT" 120
STARTUP=$(elapsed "$PF_T0" "$PF_T1" %.2f)
echo "feeds: pubfeed ready in ${STARTUP}s"

# The documents nginx will serve: pubfeed's own bytes.
WWW=$WORK/www
mkdir -p "$WWW" "$WORK/nginx/tmp"
curl -s -D "$WORK/pf-plain.h" -o "$WWW/feed.atom" "$PF/feed.atom" ||
    die "fetching $PF/feed.atom failed"
curl -s -D "$WORK/pf-gzip.h" -H 'Accept-Encoding: gzip' \
    -o "$WWW/feed.atom.gz" "$PF/feed.atom" ||
    die "fetching gzip $PF/feed.atom failed"
chmod 644 "$WWW/feed.atom" "$WWW/feed.atom.gz"
grep -qi '^content-encoding: gzip' "$WORK/pf-gzip.h" ||
    die "pubfeed did not send gzip"
gzip -t "$WWW/feed.atom.gz" || die "pubfeed's gzip body is not valid gzip"
gzip -dc "$WWW/feed.atom.gz" | cmp -s - "$WWW/feed.atom" ||
    die "pubfeed's gzip body does not decompress to the plain body"
ENTRIES=$(grep -o '<entry' "$WWW/feed.atom" | wc -l)
[ "$ENTRIES" -eq 50 ] || die "feed has $ENTRIES entries, expected 50"
PLAIN_BYTES=$(wc -c <"$WWW/feed.atom")
GZ_BYTES=$(wc -c <"$WWW/feed.atom.gz")
header() {
	grep -i "^$1:" "$2" | head -n 1 | sed 's/^[^:]*: *//' | tr -d '\r'
}
PF_ETAG=$(header etag "$WORK/pf-plain.h")
[ -n "$PF_ETAG" ] || die "pubfeed sent no ETag"
CC=$(header cache-control "$WORK/pf-plain.h")
echo "feeds: /feed.atom is $PLAIN_BYTES bytes, $GZ_BYTES gzip, 50 entries"

sed -e "s|@WORKERS@|$WORKERS|g" -e "s|@WORK@|$WORK|g" \
    -e "s|@PORT@|$NG_PORT|g" -e "s|@WWW@|$WWW|g" -e "s|@CC@|$CC|g" \
    bench/nginx.conf.in >"$WORK/nginx.conf" || die "nginx.conf failed"
start_nginx "$NG/feed.atom"
curl -s -D "$WORK/ng-plain.h" -o /dev/null "$NG/feed.atom"
NG_ETAG=$(header etag "$WORK/ng-plain.h")
[ -n "$NG_ETAG" ] || die "nginx sent no ETag"
PF_ETAG_GZ=$(header etag "$WORK/pf-gzip.h")

# The bare libmicrohttpd limit, answering pubfeed's bytes and ETags.
LM_PID= BASE_PID=
feeds_cleanup() {
	[ -n "$LM_PID" ] && kill "$LM_PID" 2>/dev/null && wait "$LM_PID" 2>/dev/null
	[ -n "$BASE_PID" ] && kill "$BASE_PID" 2>/dev/null &&
	    wait "$BASE_PID" 2>/dev/null
	bench_cleanup
}
trap feeds_cleanup EXIT
cc -O2 -o "$WORK/mhd_limit" bench/mhd_limit.c -lmicrohttpd ||
    die "cannot build bench/mhd_limit.c"
LM_PORT=$(free_port)
LM=http://127.0.0.1:$LM_PORT
"$WORK/mhd_limit" "$LM_PORT" "$WORKERS" "$WWW/feed.atom" \
    "$WWW/feed.atom.gz" "$PF_ETAG" "$PF_ETAG_GZ" "$CC" &
LM_PID=$!
wait_http "$LM/feed.atom" 20 "$LM_PID" || die "mhd_limit did not start"
SERVERS="pubfeed nginx limit"

# An older build on the same records and base URL (so the same bytes).
if [ -n "${PUBFEED_BASE:-}" ]; then
	BASE_PORT=$(free_port)
	BASE=http://127.0.0.1:$BASE_PORT
	mkdir -p "$WORK/base"
	sed -e "s|^listen .*|listen 127.0.0.1:$BASE_PORT|" \
	    -e "s|^state .*|state $WORK/base/state|" "$WORK/pubfeed.conf" \
	    >"$WORK/base/pubfeed.conf"
	"$PUBFEED_BASE" serve -c "$WORK/base/pubfeed.conf" \
	    >"$WORK/base/pubfeed.log" 2>&1 &
	BASE_PID=$!
	wait_http "$BASE/healthz" 120 "$BASE_PID" ||
	    die "$PUBFEED_BASE did not become ready"
	curl -s -D "$WORK/base.h" -o /dev/null "$BASE/feed.atom"
	BASE_ETAG=$(header etag "$WORK/base.h")
	SERVERS="$SERVERS base"
fi

# srv_vars SERVER: url, etag and pids of one server
srv_vars() {
	case $1 in
	pubfeed) url=$PF/feed.atom etag=$PF_ETAG pids=$PF_PID ;;
	nginx) url=$NG/feed.atom etag=$NG_ETAG
		pids="$NG_PID $(pgrep -P "$NG_PID" | tr '\n' ' ')" ;;
	limit) url=$LM/feed.atom etag=$PF_ETAG pids=$LM_PID ;;
	base) url=$BASE/feed.atom etag=$BASE_ETAG pids=$BASE_PID ;;
	esac
}

# check NAME URL STATUS FILE|- [curl header args...]: one verified request
check() {
	name=$1 url=$2 want=$3 file=$4
	shift 4
	rm -f "$WORK/check.body"
	got=$(curl -s -o "$WORK/check.body" -w '%{http_code}' "$@" "$url")
	[ "$got" = "$want" ] || die "$name: $url answered $got, expected $want"
	if [ "$file" = - ]; then
		[ ! -s "$WORK/check.body" ] || die "$name: $url: 304 with a body"
	else
		cmp -s "$WORK/check.body" "$file" ||
		    die "$name: $url: body differs from $file"
	fi
}
for srv in $SERVERS; do
	srv_vars "$srv"
	check "$srv plain" "$url" 200 "$WWW/feed.atom"
	check "$srv gzip" "$url" 200 "$WWW/feed.atom.gz" \
	    -H 'Accept-Encoding: gzip'
	check "$srv 304" "$url" 304 - -H "If-None-Match: $etag"
done
echo "feeds: responses verified (200 plain, 200 gzip, 304) on: $SERVERS"
echo "feeds: wrk -t2 -c$CONNS -d${DURATION}s, $RUNS runs per case," \
    "$WORKERS threads / worker processes each"

# requests of the last wrk run
wrk_requests() {
	awk '/requests in/ { print $1 }' "$WORK/wrk.out"
}

# rotate RUN: the servers, rotated by RUN, so drift hits all alike
rotate() {
	echo "$SERVERS" | awk -v r="$1" '{
		for (i = 0; i < NF; i++) printf "%s ", $((i + r) % NF + 1) }'
}

RESULTS=$WORK/results
: >"$RESULTS"
for case in plain gzip 304; do
	run=1
	while [ "$run" -le "$RUNS" ]; do
		for srv in $(rotate "$run"); do
			srv_vars "$srv"
			# shellcheck disable=SC2086
			c0=$(cpu_ticks $pids)
			case $case in
			plain) rps=$(wrk_rps $((PLAIN_BYTES * 97 / 100)) \
			    $((PLAIN_BYTES * 103 / 100 + 2048)) "$url") ||
			    exit 1 ;;
			gzip) rps=$(wrk_rps $((GZ_BYTES * 97 / 100)) \
			    $((GZ_BYTES * 103 / 100 + 2048)) "$url" \
			    'Accept-Encoding: gzip') || exit 1 ;;
			304) rps=$(wrk_rps 50 2048 "$url" \
			    "If-None-Match: $etag") || exit 1 ;;
			esac
			# shellcheck disable=SC2086
			c1=$(cpu_ticks $pids)
			us=$(echo "$c0 $c1 $(wrk_requests) $TICK" | awk '{
			    printf "%.2f", ($2 - $1) * 1e6 / $4 / $3 }')
			echo "$case $srv $rps $us" >>"$RESULTS"
			printf 'feeds: %-5s run %d %-7s %10.0f req/s %8s us CPU/req\n' \
			    "$case" "$run" "$srv" "$rps" "$us"
		done
		run=$((run + 1))
	done
done

kill -0 "$PF_PID" 2>/dev/null || die "pubfeed died during the run"

echo
echo "feeds: /feed.atom, $NREC records, 50 entries ($PLAIN_BYTES B plain," \
    "$GZ_BYTES B gzip); median of $RUNS runs; ratios are pubfeed/other"
echo "feeds: req/s (higher is better) and server CPU us/req (lower is better)"
printf '%-6s %-8s %10s %10s %8s %8s\n' case server req/s us/req \
    "r req/s" "r CPU"
: >"$WORK/summary"
for case in plain gzip 304; do
	for srv in $SERVERS; do
		for col in 3 4; do
			awk -v c=$case -v s=$srv -v k=$col \
			    '$1 == c && $2 == s { print $k }' "$RESULTS" |
			    median >"$WORK/m.$srv.$col"
		done
	done
	p=$(cat "$WORK/m.pubfeed.3") pu=$(cat "$WORK/m.pubfeed.4")
	line=$(printf 'feeds %-5s pubfeed %6.0f req/s %5.1f us' "$case" "$p" "$pu")
	for srv in $SERVERS; do
		n=$(cat "$WORK/m.$srv.3") nu=$(cat "$WORK/m.$srv.4")
		printf '%-6s %-8s %10.0f %10.1f %8s %8s\n' "$case" "$srv" \
		    "$n" "$nu" "$(ratio "$p" "$n")" "$(ratio "$pu" "$nu")"
		[ "$srv" = pubfeed ] && continue
		line="$line; /$srv $(ratio "$p" "$n") (CPU $(ratio "$pu" "$nu"))"
	done
	echo "summary: $line" >>"$WORK/summary"
done
echo
cat "$WORK/summary"
echo "summary: feeds startup with $NREC records: ${STARTUP}s to /healthz 200"
