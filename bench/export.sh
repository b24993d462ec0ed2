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
# and prints both times and the ratio fetch/export.  Then, with serve
# stopped (export keeps the state itself), into the same directory:
#   no-change   export again over the same records: nothing written
#   one-change  one record renamed over with a new title: only the files
#               whose bytes changed written
# each with its time, peak RSS and the files written / left / removed.
# The daemon serves a hard-linked copy (cp -al) of the cached collection,
# so the change never touches the cache.
# Environment: PUBFEED (default build/pubfeed), BENCH_DIR (default
# build/bench), BENCH_RECORDS.  Summary lines start with "summary: ".
set -u

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init export curl
BENCH_DIR=${BENCH_DIR:-build/bench}
NREC=${BENCH_RECORDS:-10000}
PUBFEED=$(cd "$(dirname "$PUBFEED")" && pwd)/$(basename "$PUBFEED")

bench_records "$BENCH_DIR" "$NREC"
bench_workdir
cp -al "$RECORDS" "$WORK/records" || die "cp -al failed"

bench_ports
pubfeed_conf "$PF_PORT" "$WORK/records" "feed-entries 50" "threads 2"
# export's counts are logged at info
sed -i 's/^log-level .*/log-level info/' "$WORK/pubfeed.conf"
start_pubfeed "$PF_PORT" 120

t0=$(now)
"$PUBFEED" export -c "$WORK/pubfeed.conf" "$WORK/export" 2>"$WORK/export.log" ||
    { cat "$WORK/export.log" >&2; die "export failed"; }
t1=$(now)
EXPORT_S=$(elapsed "$t0" "$t1")

# one curl config per coding: every document, one keep-alive connection
(cd "$WORK/export" && find . -type f ! -name '*.gz' ! -name .pubfeed-export | sed 's|^\./||' | sort) \
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

diff -r -x .pubfeed-export "$WORK/export" "$WORK/fetch" >/dev/null ||
    die "exported files differ from what serve sends"
NFILES=$(find "$WORK/export" -type f | wc -l)
BYTES=$(du -sb "$WORK/export" | cut -f1)
RATIO=$(echo "$FETCH_S $EXPORT_S" | awk '{ printf "%.2f", $1 / $2 }')
echo "export: $NREC records, $NDOCS documents, $NFILES files, $BYTES bytes; identical to serve"
echo "summary: export (cold: load + render + write)   ${EXPORT_S}s"
echo "summary: fetch through serve (plain + gzip)      ${FETCH_S}s"
echo "summary: ratio fetch/export                      $RATIO"

kill "$PF_PID" && wait "$PF_PID" 2>/dev/null
PF_PID=

# timed_export NAME: one export into $WORK/export, no serve running
timed_export() {
	t0=$(now)
	/usr/bin/time -f '%M' -o "$WORK/rss" "$PUBFEED" export \
	    -c "$WORK/pubfeed.conf" "$WORK/export" 2>"$WORK/export.log" ||
	    { cat "$WORK/export.log" >&2; die "$1 export failed"; }
	t1=$(now)
	line=$(grep 'exported' "$WORK/export.log" | tail -n 1)
	written=$(echo "$line" | sed -n 's/.*: \([0-9]*\) files,.*/\1/p')
	kept=$(echo "$line" | sed -n 's/.* \([0-9]*\) unchanged.*/\1/p')
	removed=$(echo "$line" | sed -n 's/.* \([0-9]*\) removed.*/\1/p')
	rss=$(($(cat "$WORK/rss") / 1024))
	printf 'summary: export %-10s %7ss, %4s MB peak; %5s files written, %5s unchanged, %s removed\n' \
	    "$1" "$(elapsed "$t0" "$t1")" "$rss" "$written" "$kept" "$removed"
}
timed_export no-change
[ "$written" = 0 ] || die "no-change export wrote $written files"

# one record changed the way an editor saves it
rec=$(find "$WORK/records" -name '*.xml' | sort | tail -n 1)
dir=$(dirname "$rec")
sed 's|<title\([^>]*\)>|<title\1>Retitled: |' "$rec" >"$dir/.new.tmp"
mv "$dir/.new.tmp" "$rec"
timed_export one-change
[ "$written" -gt 0 ] || die "one-change export wrote nothing"
timed_export no-change
[ "$written" = 0 ] || die "the export after the change wrote $written files"
