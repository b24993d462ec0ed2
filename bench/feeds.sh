#!/bin/sh
# bench/feeds.sh: pubfeed against nginx serving the identical /feed.atom.
#
# Generates (or reuses) a synthetic collection of 10,000 records, starts
# pubfeed on a free loopback port, fetches /feed.atom from it plain and
# gzip, and has nginx serve exactly those bytes from disk (gzip_static).
# Two more servers, bench/mhd_limit.c (built here), are the bare
# libmicrohttpd limit: one static in-memory body with the flags and thread
# pool pubfeed uses, "limit" with libmicrohttpd's default 32 KB connection
# pool (pubfeed's too) and "limit16" with a 16 KB pool (what a bounded Link
# header would allow pubfeed, bench/README.md).  With
# PUBFEED_BASE=path/to/older/pubfeed another server, that build on the same
# records, gives before/after ratios from the same run.  Then wrk
# measures three cases against each server in turn,
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
# Then the other kinds of document of the same collection, pubfeed against
# nginx on their bytes, the same three cases, BENCH_FEEDS_EXTRA_RUNS runs
# each: /feed.json (JSON Feed), /feed.ics (the calendar of every event),
# /lang/bg/feed.atom (a language feed) and /records/ID.html (the landing
# page of the first record), summary lines "feeds PATH CASE ..." ("feeds
# landing CASE ..." for the landing page).  nginx gets one location per
# document with pubfeed's Content-Type and Cache-Control.
#
# Run from the repository root (make bench does).  Environment:
#   PUBFEED          binary (default build/pubfeed)
#   BENCH_DIR        work and cache directory (default build/bench)
#   BENCH_WORKERS    threads / worker processes (default 2)
#   BENCH_DURATION   seconds per wrk run (default 5)
#   BENCH_CONNS      wrk connections (default 32)
#   BENCH_RUNS       runs per case (default 3)
#   BENCH_RECORDS    collection size (default 10000)
#   BENCH_FEEDS_EXTRA_RUNS  runs per case for the other documents (default 1)
#   BENCH_FEEDS_DOCS the other documents (URL paths; empty: none)
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
# processes (all threads included); user_ticks: user only (what the server
# itself computes, less disturbed by how the kernel batches the loopback
# traffic of a loaded machine)
cpu_ticks() {
	for p in "$@"; do
		cat "/proc/$p/stat" 2>/dev/null
	done | sed 's/.*) //' | awk '{ t += $12 + $13 } END { print t + 0 }'
}
user_ticks() {
	for p in "$@"; do
		cat "/proc/$p/stat" 2>/dev/null
	done | sed 's/.*) //' | awk '{ t += $12 } END { print t + 0 }'
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

# The documents nginx will serve: pubfeed's own bytes, each under its URL
# path in $WWW with its .gz, and a location giving nginx pubfeed's
# Content-Type and Cache-Control for it.
WWW=$WORK/www
mkdir -p "$WWW" "$WORK/nginx/tmp" "$WORK/hdr"
: >"$WORK/locations.conf"
header() {
	grep -i "^$1:" "$2" | head -n 1 | sed 's/^[^:]*: *//' | tr -d '\r'
}

# doc_vars PATH: DOC (the URL path), DOC_FILE (its file under $WWW), H (its
# saved pubfeed headers, $H.plain and $H.gzip), and from those PLAIN_BYTES,
# GZ_BYTES, PF_ETAG, PF_ETAG_GZ, CC, CT
doc_vars() {
	DOC=$1
	DOC_FILE=$WWW$1
	H=$WORK/hdr/$(echo "$1" | tr '/' '_')
	if [ -f "$H.plain" ]; then
		PLAIN_BYTES=$(wc -c <"$DOC_FILE")
		GZ_BYTES=$(wc -c <"$DOC_FILE.gz")
		PF_ETAG=$(header etag "$H.plain")
		PF_ETAG_GZ=$(header etag "$H.gzip")
		CC=$(header cache-control "$H.plain")
		CT=$(header content-type "$H.plain")
	fi
}

# fetch_doc PATH: pubfeed's plain and gzip bytes of PATH into $WWW, both
# checked (200, gzip that decompresses to the plain body, an ETag), and
# PATH's nginx location
fetch_doc() {
	doc_vars "$1"
	mkdir -p "$(dirname "$DOC_FILE")"
	[ "$(curl -s -D "$H.plain" -o "$DOC_FILE" -w '%{http_code}' \
	    "$PF$1")" = 200 ] || die "fetching $PF$1 failed"
	[ "$(curl -s -D "$H.gzip" -H 'Accept-Encoding: gzip' \
	    -o "$DOC_FILE.gz" -w '%{http_code}' "$PF$1")" = 200 ] ||
	    die "fetching gzip $PF$1 failed"
	chmod 644 "$DOC_FILE" "$DOC_FILE.gz"
	grep -qi '^content-encoding: gzip' "$H.gzip" ||
	    die "pubfeed did not send $1 gzip"
	gzip -t "$DOC_FILE.gz" || die "pubfeed's gzip $1 is not valid gzip"
	gzip -dc "$DOC_FILE.gz" | cmp -s - "$DOC_FILE" ||
	    die "pubfeed's gzip $1 does not decompress to the plain body"
	doc_vars "$1"
	[ -n "$PF_ETAG" ] || die "pubfeed sent no ETag for $1"
	printf '\t\tlocation = %s {\n\t\t\ttypes { }\n\t\t\tdefault_type "%s";\n\t\t\tadd_header Cache-Control "%s";\n\t\t}\n' \
	    "$1" "$CT" "$CC" >>"$WORK/locations.conf"
}

# The other documents of the same collection, each pubfeed vs nginx
# (issues 11 and 12: they serve at the ratio /feed.atom does): the JSON
# Feed, the calendar of every event, a language feed and a landing page.
first_id=$(find "$RECORDS" -name '*.xml' | sort | head -n 1 |
    xargs sed -n 's/.*<record [^>]* id="\([^"]*\)".*/\1/p' | head -n 1)
[ -n "$first_id" ] || die "no record id in $RECORDS"
EXTRA_DOCS=${BENCH_FEEDS_DOCS-"/feed.json /feed.ics /lang/bg/feed.atom /records/$first_id.html"}
EXTRA_RUNS=${BENCH_FEEDS_EXTRA_RUNS:-1}

fetch_doc /feed.atom
ENTRIES=$(grep -o '<entry' "$WWW/feed.atom" | wc -l)
[ "$ENTRIES" -eq 50 ] || die "feed has $ENTRIES entries, expected 50"
echo "feeds: /feed.atom is $PLAIN_BYTES bytes, $GZ_BYTES gzip, 50 entries"
for doc in $EXTRA_DOCS; do
	fetch_doc "$doc"
	echo "feeds: $doc is $PLAIN_BYTES bytes, $GZ_BYTES gzip ($CT)"
done
doc_vars /feed.atom

sed -e "s|@WORKERS@|$WORKERS|g" -e "s|@WORK@|$WORK|g" \
    -e "s|@PORT@|$NG_PORT|g" -e "s|@WWW@|$WWW|g" \
    bench/nginx.conf.in >"$WORK/nginx.conf" || die "nginx.conf failed"
start_nginx "$NG/feed.atom"

# ng_etag: nginx's ETag for $DOC
ng_etag() {
	curl -s -D "$WORK/ng-plain.h" -o /dev/null "$NG$DOC"
	NG_ETAG=$(header etag "$WORK/ng-plain.h")
	[ -n "$NG_ETAG" ] || die "nginx sent no ETag for $DOC"
}
ng_etag

# The bare libmicrohttpd limit, answering pubfeed's bytes and ETags.
LM_PID= LM16_PID= BASE_PID=
feeds_cleanup() {
	[ -n "$LM_PID" ] && kill "$LM_PID" 2>/dev/null && wait "$LM_PID" 2>/dev/null
	[ -n "$LM16_PID" ] && kill "$LM16_PID" 2>/dev/null &&
	    wait "$LM16_PID" 2>/dev/null
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
LM16_PORT=$(free_port)
LM16=http://127.0.0.1:$LM16_PORT
"$WORK/mhd_limit" "$LM16_PORT" "$WORKERS" "$WWW/feed.atom" \
    "$WWW/feed.atom.gz" "$PF_ETAG" "$PF_ETAG_GZ" "$CC" 16384 &
LM16_PID=$!
wait_http "$LM16/feed.atom" 20 "$LM16_PID" ||
    die "mhd_limit (16 KB pool) did not start"
SERVERS="pubfeed nginx limit limit16"

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

# srv_vars SERVER: url, etag and pids of one server for $DOC
srv_vars() {
	case $1 in
	pubfeed) url=$PF$DOC etag=$PF_ETAG pids=$PF_PID ;;
	nginx) url=$NG$DOC etag=$NG_ETAG
		pids="$NG_PID $(pgrep -P "$NG_PID" | tr '\n' ' ')" ;;
	limit) url=$LM$DOC etag=$PF_ETAG pids=$LM_PID ;;
	limit16) url=$LM16$DOC etag=$PF_ETAG pids=$LM16_PID ;;
	base) url=$BASE$DOC etag=$BASE_ETAG pids=$BASE_PID ;;
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

# check_doc SERVER...: $DOC verified on each (200 plain, 200 gzip, 304)
check_doc() {
	for srv in "$@"; do
		srv_vars "$srv"
		check "$srv plain" "$url" 200 "$DOC_FILE"
		check "$srv gzip" "$url" 200 "$DOC_FILE.gz" \
		    -H 'Accept-Encoding: gzip'
		check "$srv 304" "$url" 304 - -H "If-None-Match: $etag"
	done
	echo "feeds: $DOC responses verified (200 plain, 200 gzip, 304) on: $*"
}

# requests of the last wrk run
wrk_requests() {
	awk '/requests in/ { print $1 }' "$WORK/wrk.out"
}

# rotate RUN SERVER...: the servers, rotated by RUN, so drift hits all alike
rotate() {
	r=$1
	shift
	echo "$@" | awk -v r="$r" '{
		for (i = 0; i < NF; i++) printf "%s ", $((i + r) % NF + 1) }'
}

# measure_doc RUNS LABEL SERVER...: wrk against $DOC on each server, the
# three cases RUNS times each; the table of medians, and one summary line
# per case starting "feeds LABEL" appended to $WORK/summary
measure_doc() {
	runs=$1 label=$2
	shift 2
	servers=$*
	res=$WORK/results
	: >"$res"
	for case in plain gzip 304; do
		run=1
		while [ "$run" -le "$runs" ]; do
			# shellcheck disable=SC2086
			for srv in $(rotate "$run" $servers); do
				srv_vars "$srv"
				# shellcheck disable=SC2086
				c0=$(cpu_ticks $pids)
				# shellcheck disable=SC2086
				u0=$(user_ticks $pids)
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
				# shellcheck disable=SC2086
				u1=$(user_ticks $pids)
				us=$(echo "$c0 $c1 $(wrk_requests) $TICK" | awk '{
				    printf "%.2f", ($2 - $1) * 1e6 / $4 / $3 }')
				uu=$(echo "$u0 $u1 $(wrk_requests) $TICK" | awk '{
				    printf "%.2f", ($2 - $1) * 1e6 / $4 / $3 }')
				echo "$case $srv $rps $us $uu" >>"$res"
				printf 'feeds: %s %-5s run %d %-7s %10.0f req/s %8s us CPU/req (user %s)\n' \
				    "$DOC" "$case" "$run" "$srv" "$rps" "$us" "$uu"
			done
			run=$((run + 1))
		done
	done
	kill -0 "$PF_PID" 2>/dev/null || die "pubfeed died during the run"

	echo
	echo "feeds: $DOC, $NREC records ($PLAIN_BYTES B plain, $GZ_BYTES B" \
	    "gzip); median of $runs runs; ratios are pubfeed/other"
	echo "feeds: req/s (higher is better) and server CPU us/req, all and" \
	    "user only (lower is better)"
	printf '%-6s %-8s %10s %10s %8s %8s %8s %8s\n' case server req/s us/req \
	    "r req/s" "r CPU" user "r user"
	for case in plain gzip 304; do
		for srv in $servers; do
			for col in 3 4 5; do
				awk -v c=$case -v s="$srv" -v k=$col \
				    '$1 == c && $2 == s { print $k }' "$res" |
				    median >"$WORK/m.$srv.$col"
			done
		done
		p=$(cat "$WORK/m.pubfeed.3") pu=$(cat "$WORK/m.pubfeed.4")
		puu=$(cat "$WORK/m.pubfeed.5")
		line=$(printf 'feeds %s%-5s pubfeed %6.0f req/s %5.1f us' \
		    "$label" "$case" "$p" "$pu")
		for srv in $servers; do
			n=$(cat "$WORK/m.$srv.3") nu=$(cat "$WORK/m.$srv.4")
			nuu=$(cat "$WORK/m.$srv.5")
			printf '%-6s %-8s %10.0f %10.1f %8s %8s %8.2f %8s\n' \
			    "$case" "$srv" "$n" "$nu" "$(ratio "$p" "$n")" \
			    "$(ratio "$pu" "$nu")" "$nuu" "$(ratio "$puu" "$nuu")"
			[ "$srv" = pubfeed ] && continue
			line="$line; /$srv $(ratio "$p" "$n") (CPU $(ratio "$pu" "$nu"))"
		done
		echo "summary: $line" >>"$WORK/summary"
	done
}

echo "feeds: wrk -t2 -c$CONNS -d${DURATION}s, $RUNS runs per case" \
    "(/feed.atom), $EXTRA_RUNS for the other documents;" \
    "$WORKERS threads / worker processes each"
: >"$WORK/summary"
# shellcheck disable=SC2086
check_doc $SERVERS
# shellcheck disable=SC2086
measure_doc "$RUNS" "" $SERVERS
for doc in $EXTRA_DOCS; do
	doc_vars "$doc"
	ng_etag
	check_doc pubfeed nginx
	case $doc in
	/records/*) label="landing " ;;
	*) label="$doc " ;;
	esac
	measure_doc "$EXTRA_RUNS" "$label" pubfeed nginx
done
echo
cat "$WORK/summary"
echo "summary: feeds startup with $NREC records: ${STARTUP}s to /healthz 200"
