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
#             exact bytes of that page from files: plain, and with
#             Accept-Encoding: gzip, where pubfeed serves the page it keeps
#             compressed (oai_cache.h) and nginx the same gzip bytes with
#             gzip_static; median of BENCH_RUNS runs each, alternating
#             order.  The gzip / plain ratio of each server is the issue's
#             target (>= 0.8 for pubfeed).
#   zlib      bench/zbench.c (built here when libdeflate-dev is installed):
#             zlib level 6 against libdeflate at equal output size on page 1,
#             MB/s (see bench/README.md).
#
# Fairness: the same worker count on both (pubfeed "threads N", nginx
# "worker_processes N", N = BENCH_WORKERS, default 2), keep-alive on both
# (no per-connection request limit on nginx), no access log on either,
# sendfile and an open-file cache on nginx.  pubfeed keeps each page for a
# minute (its responseDate), nginx sends a file.  Every response is checked
# (status, bytes, gzip decompressing to the plain page) before anything is
# timed.
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

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init oai wrk nginx curl
DATA=${BENCH_OAI_DIR:-/tmp/pubfeed-bench-oai}
NREC=${BENCH_RECORDS:-100000}
WORKERS=${BENCH_WORKERS:-2}
DURATION=${BENCH_DURATION:-5}
CONNS=${BENCH_CONNS:-16}
RUNS=${BENCH_RUNS:-3}
LAT_RUNS=${BENCH_LAT_RUNS:-100}
DEEP=1000	# the deep page of the latency test

bench_records "$DATA" "$NREC"
bench_workdir

bench_ports
QUERY='verb=ListRecords&metadataPrefix=oai_dc'

# feed-entries 1000 keeps the number of feed archive documents (built at
# start-up, not measured here) small.
pubfeed_conf "$PF_PORT" "$RECORDS" "feed-entries 1000" "oai-page-size 100" \
    "oai-max-requests 1024" "threads $WORKERS" "access-log no"

echo "oai: starting pubfeed ($NREC records, threads $WORKERS) on $PF"
start_pubfeed "$PF_PORT" 300
STARTUP=$(elapsed "$PF_T0" "$PF_T1" %.1f)
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
mkdir -p "$WWW"
curl -s -D "$WORK/pf.h" -o "$WWW/oai" "$PF/oai?$QUERY" ||
    die "fetching $PF/oai?$QUERY failed"
chmod 644 "$WWW/oai"
BYTES=$(wc -c <"$WWW/oai")
RECS=$(grep -o '<record>' "$WWW/oai" | wc -l)
[ "$RECS" -eq 100 ] || die "page 1 has $RECS records, expected 100"
grep -qi '^content-encoding' "$WORK/pf.h" && die "page 1 came compressed"
# its gzip form as pubfeed sends it, for gzip_static; fetched until both
# come from the same kept page (one responseDate), at most three times
for try in 1 2 3; do
	curl -s -H 'Accept-Encoding: gzip' -D "$WORK/gz.h" -o "$WWW/oai.gz" \
	    "$PF/oai?$QUERY" || die "fetching gzip $PF/oai?$QUERY failed"
	grep -qi '^content-encoding: gzip' "$WORK/gz.h" ||
	    die "page 1 did not come gzip"
	gzip -dc "$WWW/oai.gz" | cmp -s - "$WWW/oai" && break
	[ "$try" = 3 ] && die "gzip page 1 does not decompress to page 1"
	curl -s -o "$WWW/oai" "$PF/oai?$QUERY"
done
chmod 644 "$WWW/oai.gz"

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
	# pubfeed's own gzip bytes, precompressed, as pubfeed keeps them
	gzip off;
	gzip_static on;
	gzip_vary on;
	etag on;
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
start_nginx "$NG/oai"
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

# oai_rps BYTES URL [header]: requests/s of one wrk run, bytes per
# response about BYTES (3% slack and the headers: wrk rounds its byte
# total to three digits)
oai_rps() {
	want=$1
	shift
	wrk_rps $((want * 97 / 100)) $((want * 103 / 100 + 1024)) "$@"
}

# zlib against libdeflate on page 1 (bench/README.md, "compress once")
ZB=
if pkg-config --exists libdeflate 2>/dev/null &&
    cc -O2 -o "$WORK/zbench" bench/zbench.c -ldeflate -lz; then
	"$WORK/zbench" "$WWW/oai" >"$WORK/zbench.out" || die "zbench failed"
	sed 's/^/oai: zbench /' "$WORK/zbench.out"
	ZB=$(head -1 "$WORK/zbench.out")
else
	echo "oai: libdeflate-dev not installed: zlib vs libdeflate skipped"
fi

RESULTS=$WORK/results
: >"$RESULTS"
for case in plain gzip; do
	run=1
	while [ "$run" -le "$RUNS" ]; do
		for srv in $(server_order "$run"); do
			if [ $srv = pubfeed ]; then url=$PF/oai?$QUERY gz=$PF_GZ
			else url=$NG/oai?$QUERY gz=$NG_GZ; fi
			if [ $case = plain ]; then
				rps=$(oai_rps "$BYTES" "$url") || exit 1
			else
				rps=$(oai_rps "$gz" "$url" \
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
PRPS=$(med plain pubfeed) NRPS=$(med plain nginx)
PGZ=$(med gzip pubfeed) NGZ=$(med gzip nginx)
RATIO=$(ratio "$PRPS" "$NRPS") GZRATIO=$(ratio "$PGZ" "$NGZ")
PF_GP=$(ratio "$PGZ" "$PRPS") NG_GP=$(ratio "$NGZ" "$NRPS")
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
printf '%-34s %14.0f %14.0f %8s\n' "page 1 req/s, gzip (wrk median)" \
    "$PGZ" "$NGZ" "$GZRATIO"
printf '%-34s %14s %14s %8s\n' "page 1 gzip / plain req/s" "$PF_GP" \
    "$NG_GP" "(>=0.8)"
printf '%-34s %14s %14s %8s\n' "resident MiB (start, after)" \
    "$RSS0 / $RSS1" - -
echo "(ratio: page $DEEP / page 1 latency; pubfeed / nginx req/s, gzip" \
    "the kept page / gzip_static of the same bytes, $PF_GZ / $NG_GZ B;"
echo " start-up ${STARTUP}s; a harvest moves $((HBYTES / 1048576)) MiB)"
echo "summary: oai harvest $NREC records cold ${COLD_S}s" \
    "($COLD_RPS rec/s) warm ${WARM_S}s ($WARM_RPS rec/s)"
echo "summary: oai latency page 1 ${LAT1} ms page $DEEP ${LATD} ms" \
    "ratio $LATR"
echo "summary: oai page req/s pubfeed $PRPS nginx $NRPS ratio $RATIO"
echo "summary: oai page gzip req/s pubfeed $PGZ nginx $NGZ ratio $GZRATIO" \
    "($PF_GZ / $NG_GZ B)"
echo "summary: oai page gzip/plain req/s pubfeed $PF_GP nginx $NG_GP" \
    "(target >= 0.8)"
if [ -n "$ZB" ]; then
	set -- $ZB
	echo "summary: oai zbench page 1: zlib 6 $4 B $5 MB/s, libdeflate $7" \
	    "$8 B $9 MB/s (equal size), speed ratio ${11}"
fi
