#!/bin/sh
# bench/export.sh: "pubfeed export" against fetching the same documents
# from "pubfeed serve".
#
# Generates (or reuses, shared with feeds.sh) a synthetic collection of
# BENCH_RECORDS records (default 10,000), starts pubfeed serve on it (which
# stamps the state), then times
#   export  pubfeed export DIR: load, render and write every document and
#           its .gz (a cold start, everything included)
#   fetch   every one of those documents fetched from the running daemon,
#           plain and with Accept-Encoding: gzip, by one keep-alive curl
#           process per coding (the daemon's snapshot is already built)
# checks that the fetched bytes equal the exported files (.gz included),
# and prints both times and the ratio fetch/export.
# Environment: PUBFEED (default build/pubfeed), BENCH_DIR (default
# build/bench), BENCH_RECORDS.  Summary lines start with "summary: ".
set -u

PUBFEED=${PUBFEED:-build/pubfeed}
BENCH_DIR=${BENCH_DIR:-build/bench}
NREC=${BENCH_RECORDS:-10000}
PY=/usr/bin/python3

die() {
	echo "export: $*" >&2
	exit 1
}

for tool in curl "$PY"; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found (make deps)"
done
[ -x "$PUBFEED" ] || die "$PUBFEED not built (make pubfeed)"
PUBFEED=$(cd "$(dirname "$PUBFEED")" && pwd)/$(basename "$PUBFEED")

now() { date +%s.%N; }
elapsed() { echo "$1 $2" | awk '{ printf "%.3f", $2 - $1 }'; }

mkdir -p "$BENCH_DIR" || die "cannot create $BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
RECORDS=$BENCH_DIR/records-$NREC
if [ ! -d "$RECORDS" ]; then
	echo "export: generating $NREC records into $RECORDS"
	rm -rf "$RECORDS.tmp"
	"$PY" bench/gen_records.py "$RECORDS.tmp" "$NREC" >/dev/null ||
	    die "gen_records.py failed"
	mv "$RECORDS.tmp" "$RECORDS"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pubfeed-bench-export.XXXXXX") ||
    die "mktemp failed"
PF_PID=
cleanup() {
	[ -n "$PF_PID" ] && kill "$PF_PID" 2>/dev/null && wait "$PF_PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PF=http://127.0.0.1:$PORT
cat >"$WORK/pubfeed.conf" <<CONF
repository-name "Pubfeed Benchmark"
base-url $PF
listen 127.0.0.1:$PORT
admin-email admin@bench.example.org
tag-authority bench.example.org,2024
records $RECORDS
state $WORK/state
feed-author-name "Benchmark"
feed-entries 50
oai-namespace bench.example.org
threads 2
log-level warning
rescan-interval 0
CONF

"$PUBFEED" serve -c "$WORK/pubfeed.conf" >"$WORK/serve.log" 2>&1 &
PF_PID=$!
i=0
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$PF/healthz")" = 200 ]; do
	i=$((i + 1))
	[ $i -lt 2400 ] || { cat "$WORK/serve.log" >&2; die "serve not ready"; }
	sleep 0.05
done

t0=$(now)
"$PUBFEED" export -c "$WORK/pubfeed.conf" "$WORK/export" 2>"$WORK/export.log" ||
    { cat "$WORK/export.log" >&2; die "export failed"; }
t1=$(now)
EXPORT_S=$(elapsed "$t0" "$t1")

# one curl config per coding: every document, one keep-alive connection
(cd "$WORK/export" && find . -type f ! -name '*.gz' | sed 's|^\./||' | sort) \
    >"$WORK/docs"
NDOCS=$(wc -l <"$WORK/docs")
: >"$WORK/plain.curl"
: >"$WORK/gzip.curl"
while read -r f; do
	case $f in index.html) u=/ ;; *) u=/$f ;; esac
	printf 'url = "%s%s"\noutput = "%s/fetch/%s"\n' "$PF" "$u" "$WORK" "$f" \
	    >>"$WORK/plain.curl"
	[ -e "$WORK/export/$f.gz" ] &&
	    printf 'url = "%s%s"\noutput = "%s/fetch/%s.gz"\n' "$PF" "$u" \
	    "$WORK" "$f" >>"$WORK/gzip.curl"
done <"$WORK/docs"
t0=$(now)
curl -s -f --create-dirs -K "$WORK/plain.curl" || die "fetch failed"
curl -s -f --create-dirs -H 'Accept-Encoding: gzip' -K "$WORK/gzip.curl" ||
    die "fetch (gzip) failed"
t1=$(now)
FETCH_S=$(elapsed "$t0" "$t1")

diff -r "$WORK/export" "$WORK/fetch" >/dev/null ||
    die "exported files differ from what serve sends"
NFILES=$(find "$WORK/export" -type f | wc -l)
BYTES=$(du -sb "$WORK/export" | cut -f1)
RATIO=$(echo "$FETCH_S $EXPORT_S" | awk '{ printf "%.2f", $1 / $2 }')
echo "export: $NREC records, $NDOCS documents, $NFILES files, $BYTES bytes; identical to serve"
echo "summary: export (cold: load + render + write)   ${EXPORT_S}s"
echo "summary: fetch through serve (plain + gzip)      ${FETCH_S}s"
echo "summary: ratio fetch/export                      $RATIO"
