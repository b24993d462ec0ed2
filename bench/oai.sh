#!/bin/sh
# bench/oai.sh: the OAI-PMH provider over a large collection (issue 3).
#
# Generates (or reuses) a synthetic collection of 100,000 records, starts
# pubfeed on a free loopback port and measures:
#
#   harvest   a full ListRecords harvest (oai_dc, page size 100) following
#             resumption tokens on one keep-alive connection: records/s.
#             Twice: "cold" right after start-up (every record rendered for
#             the first time) and "warm" (what any later harvest sees).
#   latency   median time of page 1 and of page 1000 (its token taken from
#             the harvest), BENCH_LAT_RUNS requests each, interleaved; the
#             ratio shows whether a deep page costs more (keyset tokens: it
#             should not).
#   req/s     wrk against page 1 on pubfeed and against nginx serving the
#             exact bytes of that page from a file: plain (no compression on
#             either side, the issue's comparison) and with Accept-Encoding:
#             gzip (both compress on the fly at level 1); median of
#             BENCH_RUNS runs each, alternating order.
#
# Fairness: the same worker count on both (pubfeed "threads N", nginx
# "worker_processes N", N = BENCH_WORKERS, default 2), keep-alive on both
# (no per-connection request limit on nginx), no access log on either,
# sendfile and an open-file cache on nginx.  pubfeed builds the page per
# request (fresh responseDate); nginx sends a file.  Every response is
# checked (status, bytes) before anything is timed.
#
# Run from the repository root.  Environment:
#   PUBFEED          binary (default build/pubfeed)
#   BENCH_OAI_DIR    collection cache (default /tmp/pubfeed-bench-oai)
#   BENCH_RECORDS    collection size (default 100000)
#   BENCH_WORKERS    threads / worker processes (default 2)
#   BENCH_DURATION   seconds per wrk run (default 5)
#   BENCH_CONNS      wrk connections (default 16)
#   BENCH_RUNS       wrk runs per server (default 3)
#   BENCH_LAT_RUNS   latency samples per page (default 100)
# Summary lines start with "summary: ".

set -u

PUBFEED=${PUBFEED:-build/pubfeed}
DATA=${BENCH_OAI_DIR:-/tmp/pubfeed-bench-oai}
NREC=${BENCH_RECORDS:-100000}
WORKERS=${BENCH_WORKERS:-2}
DURATION=${BENCH_DURATION:-5}
CONNS=${BENCH_CONNS:-16}
RUNS=${BENCH_RUNS:-3}
LAT_RUNS=${BENCH_LAT_RUNS:-100}
PY=/usr/bin/python3
DEEP=1000	# the deep page of the latency test

die() {
	echo "oai: $*" >&2
	exit 1
}

for tool in wrk nginx curl "$PY"; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found (make deps)"
done
[ -x "$PUBFEED" ] || die "$PUBFEED not built (make pubfeed)"
[ -f bench/gen_records.py ] || die "run from the repository root"

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

# wait_http URL SECONDS: until URL answers 200
wait_http() {
	i=0
	while [ "$i" -lt "$(($2 * 20))" ]; do
		if [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = 200 ]; then
			return 0
		fi
		kill -0 "$PF_PID" 2>/dev/null || return 1
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# The collection is generated into a temp name and renamed when complete,
# so the directory's existence is the marker that it is whole.
mkdir -p "$DATA" || die "cannot create $DATA"
RECORDS=$DATA/records-$NREC
if [ ! -d "$RECORDS" ]; then
	echo "oai: generating $NREC records into $RECORDS"
	rm -rf "$RECORDS.tmp"
	"$PY" bench/gen_records.py "$RECORDS.tmp" "$NREC" >/dev/null ||
	    die "gen_records.py failed"
	mv "$RECORDS.tmp" "$RECORDS"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pubfeed-bench-oai.XXXXXX") ||
    die "mktemp failed"
# nginx workers may run as "nobody" when started by root: world-readable
chmod 755 "$WORK"
PF_PID=
NG_PID=
cleanup() {
	[ -n "$PF_PID" ] && kill "$PF_PID" 2>/dev/null && wait "$PF_PID" 2>/dev/null
	[ -n "$NG_PID" ] && kill "$NG_PID" 2>/dev/null && wait "$NG_PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PF_PORT=$(free_port)
NG_PORT=$(free_port)
PF=http://127.0.0.1:$PF_PORT
NG=http://127.0.0.1:$NG_PORT
QUERY='verb=ListRecords&metadataPrefix=oai_dc'

# feed-entries 1000 keeps the number of feed archive documents (built at
# start-up, not measured here) small.
cat >"$WORK/pubfeed.conf" <<EOF
repository-name "Pubfeed Benchmark"
base-url $PF
listen 127.0.0.1:$PF_PORT
admin-email admin@bench.example.org
tag-authority bench.example.org,2024
records $RECORDS
state $WORK/state
feed-author-name "Benchmark"
feed-entries 1000
oai-namespace bench.example.org
oai-page-size 100
oai-max-requests 1024
threads $WORKERS
access-log no
log-level warning
rescan-interval 0
EOF

echo "oai: starting pubfeed ($NREC records, threads $WORKERS) on $PF"
t0=$(date +%s.%N)
"$PUBFEED" serve -c "$WORK/pubfeed.conf" >"$WORK/pubfeed.log" 2>&1 &
PF_PID=$!
wait_http "$PF/healthz" 300 || {
	cat "$WORK/pubfeed.log" >&2
	die "pubfeed did not become ready"
}
t1=$(date +%s.%N)
STARTUP=$(echo "$t0 $t1" | awk '{ printf "%.1f", $2 - $1 }')
RSS0=$(awk '/^VmRSS/ { print int($2 / 1024) }' /proc/$PF_PID/status)
echo "oai: pubfeed ready in ${STARTUP}s, ${RSS0} MiB resident"

# Harvest and latency, in Python for precise timing over keep-alive.
cat >"$WORK/harvest.py" <<'EOF'
import http.client, re, statistics, sys, time

port, nrec, deep, lat_runs = (int(a) for a in sys.argv[1:5])
TOKEN = re.compile(rb'<resumptionToken completeListSize="(\d+)" '
                   rb'cursor="(\d+)"(?:/>|>([A-Za-z0-9_-]*)</resumptionToken>)')
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)


def get(query):
    conn.request("GET", "/oai?" + query)
    r = conn.getresponse()
    body = r.read()
    if r.status != 200 or b"<error" in body:
        sys.exit("oai: %s answered %d:\n%s" % (query, r.status, body[:600]))
    return body


def harvest(name):
    query = "verb=ListRecords&metadataPrefix=oai_dc"
    n = pages = nbytes = 0
    deep_query = None
    t0 = time.perf_counter()
    while True:
        body = get(query)
        pages += 1
        nbytes += len(body)
        before, n = n, n + body.count(b"<record>")
        m = TOKEN.search(body)
        if m is not None and int(m.group(2)) != before:
            sys.exit("oai: cursor %s after %d records" % (m.group(2),
                                                          before))
        if m is None or not m.group(3):
            break
        query = "verb=ListRecords&resumptionToken=" + m.group(3).decode()
        if pages + 1 == deep:
            deep_query = query
    dt = time.perf_counter() - t0
    if n != nrec:
        sys.exit("oai: harvest got %d records, expected %d" % (n, nrec))
    print("harvest %s %d %d %.3f %.0f %d" % (name, n, pages, dt, n / dt,
                                             nbytes))
    sys.stdout.flush()
    return deep_query


deep_query = harvest("cold")
harvest("warm")
if deep_query is None:
    sys.exit("oai: the harvest has fewer than %d pages" % deep)
first, deeper = [], []
for i in range(lat_runs):
    for q, acc in (("verb=ListRecords&metadataPrefix=oai_dc", first),
                   (deep_query, deeper)):
        t = time.perf_counter()
        get(q)
        acc.append((time.perf_counter() - t) * 1000)
p1, pd = statistics.median(first), statistics.median(deeper)
print("latency %.3f %.3f %.2f" % (p1, pd, pd / p1))
EOF

echo "oai: harvesting ListRecords oai_dc twice, then page 1 vs page $DEEP" \
    "($LAT_RUNS requests each)"
"$PY" "$WORK/harvest.py" "$PF_PORT" "$NREC" "$DEEP" "$LAT_RUNS" \
    >"$WORK/harvest.out" || die "harvest failed"
cat "$WORK/harvest.out" | sed 's/^/oai:   /'
RSS1=$(awk '/^VmRSS/ { print int($2 / 1024) }' /proc/$PF_PID/status)

# The page nginx will serve: pubfeed's own bytes.  Only responseDate
# differs between two fetches, and it has a fixed length.
WWW=$WORK/www
mkdir -p "$WWW" "$WORK/nginx/tmp"
curl -s -D "$WORK/pf.h" -o "$WWW/oai" "$PF/oai?$QUERY" ||
    die "fetching $PF/oai?$QUERY failed"
chmod 644 "$WWW/oai"
BYTES=$(wc -c <"$WWW/oai")
RECS=$(grep -o '<record>' "$WWW/oai" | wc -l)
[ "$RECS" -eq 100 ] || die "page 1 has $RECS records, expected 100"
grep -qi '^content-encoding' "$WORK/pf.h" && die "page 1 came compressed"

cat >"$WORK/nginx.conf" <<EOF
worker_processes $WORKERS;
daemon off;
master_process on;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events {
	worker_connections 1024;
	multi_accept on;
}
http {
	access_log off;
	client_body_temp_path $WORK/nginx/tmp/body;
	proxy_temp_path $WORK/nginx/tmp/proxy;
	fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
	uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
	scgi_temp_path $WORK/nginx/tmp/scgi;
	types { }
	default_type text/xml;
	charset utf-8;
	charset_types text/xml;
	sendfile on;
	tcp_nopush on;
	tcp_nodelay on;
	keepalive_timeout 60s;
	keepalive_requests 100000000;
	open_file_cache max=64 inactive=60s;
	open_file_cache_valid 60s;
	server_tokens off;
	# on the fly, as pubfeed compresses OAI-PMH responses (level 1 both)
	gzip on;
	gzip_comp_level 1;
	gzip_types text/xml;
	gzip_min_length 0;
	gzip_vary on;
	server {
		listen 127.0.0.1:$NG_PORT reuseport;
		root $WWW;
		location = /oai {
			add_header Cache-Control "no-cache";
		}
		location / {
			return 404;
		}
	}
}
EOF
nginx -p "$WORK/nginx" -c "$WORK/nginx.conf" -e "$WORK/nginx/error.log" \
    >"$WORK/nginx.out" 2>&1 &
NG_PID=$!
wait_http "$NG/oai" 20 || {
	cat "$WORK/nginx.out" "$WORK/nginx/error.log" >&2
	die "nginx did not start"
}
for url in "$PF/oai?$QUERY" "$NG/oai?$QUERY"; do
	got=$(curl -s -o "$WORK/check.body" -w '%{http_code}' "$url")
	[ "$got" = 200 ] || die "$url answered $got"
	sed 's|<responseDate>[^<]*<|<responseDate><|' "$WORK/check.body" \
	    >"$WORK/check.a"
	sed 's|<responseDate>[^<]*<|<responseDate><|' "$WWW/oai" \
	    >"$WORK/check.b"
	cmp -s "$WORK/check.a" "$WORK/check.b" ||
	    die "$url: body differs from the page fetched first"
done
echo "oai: page 1 is $BYTES bytes, 100 records, identical on both servers"
echo "oai: wrk -t2 -c$CONNS -d${DURATION}s, $RUNS runs each," \
    "pubfeed threads $WORKERS vs nginx worker_processes $WORKERS"

# gzip_size URL: bytes of the gzip body, which must decompress to the page
gzip_size() {
	curl -s -H 'Accept-Encoding: gzip' -o "$WORK/gz.body" "$1" ||
	    die "fetching gzip $1 failed"
	gzip -dc "$WORK/gz.body" 2>/dev/null |
	    sed 's|<responseDate>[^<]*<|<responseDate><|' |
	    cmp -s - "$WORK/check.b" || die "$1: bad gzip body"
	GZ_SIZE=$(wc -c <"$WORK/gz.body")
}
gzip_size "$PF/oai?$QUERY"
PF_GZ=$GZ_SIZE
gzip_size "$NG/oai?$QUERY"
NG_GZ=$GZ_SIZE

# wrk_rps BYTES URL [header]: requests/s of one run.  Fails on socket
# errors, non-2xx answers, or bytes per response off BYTES (3% slack and
# the headers: wrk rounds its byte total to three digits).
wrk_rps() {
	want=$1 url=$2
	shift 2
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
		if (n > 0) printf "%.0f", u * m / n }' "$WORK/wrk.out")
	if [ -z "$per" ] || [ "$per" -lt $((want * 97 / 100)) ] ||
	    [ "$per" -gt $((want * 103 / 100 + 1024)) ]; then
		cat "$WORK/wrk.out" >&2
		die "$url: ${per:-?} bytes per response, expected about $want"
	fi
	awk '/^Requests\/sec:/ { print $2 }' "$WORK/wrk.out"
}

RESULTS=$WORK/results
: >"$RESULTS"
for case in plain gzip; do
	run=1
	while [ "$run" -le "$RUNS" ]; do
		# alternate which server goes first, so drift hits both alike
		if [ $((run % 2)) = 1 ]; then order="pubfeed nginx"
		else order="nginx pubfeed"; fi
		for srv in $order; do
			if [ $srv = pubfeed ]; then url=$PF/oai?$QUERY gz=$PF_GZ
			else url=$NG/oai?$QUERY gz=$NG_GZ; fi
			if [ $case = plain ]; then
				rps=$(wrk_rps "$BYTES" "$url") || exit 1
			else
				rps=$(wrk_rps "$gz" "$url" \
				    'Accept-Encoding: gzip') || exit 1
			fi
			echo "$case $srv $rps" >>"$RESULTS"
			printf 'oai: %-5s run %d %-7s %10.0f req/s\n' "$case" \
			    "$run" "$srv" "$rps"
		done
		run=$((run + 1))
	done
done
kill -0 "$PF_PID" 2>/dev/null || die "pubfeed died during the run"

med() {
	awk -v c="$1" -v s="$2" '$1 == c && $2 == s { print $3 }' \
	    "$RESULTS" | median
}
ratio() {
	echo "$1 $2" | awk '{ printf "%.2f", ($2 > 0 ? $1 / $2 : 0) }'
}
PRPS=$(med plain pubfeed) NRPS=$(med plain nginx)
PGZ=$(med gzip pubfeed) NGZ=$(med gzip nginx)
RATIO=$(ratio "$PRPS" "$NRPS") GZRATIO=$(ratio "$PGZ" "$NGZ")
set -- $(grep '^harvest cold' "$WORK/harvest.out")
COLD_RPS=$6 COLD_S=$5
set -- $(grep '^harvest warm' "$WORK/harvest.out")
WARM_RPS=$6 WARM_S=$5 HBYTES=$7
set -- $(grep '^latency' "$WORK/harvest.out")
LAT1=$2 LATD=$3 LATR=$4

echo
echo "oai: $NREC records, ListRecords oai_dc, 100 records per page" \
    "($BYTES B), no compression"
printf '%-34s %14s %14s %8s\n' measure pubfeed nginx ratio
printf '%-34s %14s %14s %8s\n' "harvest cold, records/s" "$COLD_RPS" - -
printf '%-34s %14s %14s %8s\n' "harvest warm, records/s" "$WARM_RPS" - -
printf '%-34s %14s %14s %8s\n' "page 1 latency, ms (median)" "$LAT1" - -
printf '%-34s %14s %14s %8s\n' "page $DEEP latency, ms (median)" "$LATD" - \
    "$LATR"
printf '%-34s %14.0f %14.0f %8s\n' "page 1 req/s, plain (wrk median)" \
    "$PRPS" "$NRPS" "$RATIO"
printf '%-34s %14.0f %14.0f %8s\n' "page 1 req/s, gzip 1 (wrk median)" \
    "$PGZ" "$NGZ" "$GZRATIO"
printf '%-34s %14s %14s %8s\n' "resident MiB (start, after)" \
    "$RSS0 / $RSS1" - -
echo "(ratio: page $DEEP / page 1 latency; pubfeed / nginx req/s, gzip" \
    "on the fly at level 1 on both, $PF_GZ / $NG_GZ B;"
echo " start-up ${STARTUP}s; a harvest moves $((HBYTES / 1048576)) MiB)"
echo "summary: oai harvest $NREC records cold ${COLD_S}s" \
    "($COLD_RPS rec/s) warm ${WARM_S}s ($WARM_RPS rec/s)"
echo "summary: oai latency page 1 ${LAT1} ms page $DEEP ${LATD} ms" \
    "ratio $LATR"
echo "summary: oai page req/s pubfeed $PRPS nginx $NRPS ratio $RATIO"
echo "summary: oai page gzip req/s pubfeed $PGZ nginx $NGZ ratio $GZRATIO" \
    "($PF_GZ / $NG_GZ B)"
