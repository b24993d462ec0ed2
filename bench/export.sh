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
#   no-change   export again over the same records: nothing rendered,
#               nothing written (every document's key is the manifest's)
#   one-change  one record renamed over with a new title: only the
#               documents that show it rendered, the files whose bytes
#               changed written
# each BENCH_REPS times (default 3; one-change retitles the record again
# each time), with the median time, peak RSS, the files written / left /
# removed and the documents rendered / reused; then a cold export of the
# changed records into an empty directory, which must give the same bytes.
# Then "pubfeed export --watch" into the same directory, BENCH_REPS more
# changes of the newest record, then BENCH_REPS of one from the middle
# (which moves to the end of the Change List): the median time from the
# rename to the landing page's file updated in DIR, and the median time of
# the export itself (from the snapshot published to the files durable,
# from its log line).  Then Hugo on the
# same records (bench/hugo_site.py: one page per record with title, date
# and abstract, the list with RSS), "hugo --quiet" cold and after the same
# one-record change, and the ratios pubfeed/hugo ("hugo: not available"
# without Debian's hugo).
# The daemon serves a hard-linked copy (cp -al) of the cached collection,
# so the change never touches the cache.
# Environment: PUBFEED (default build/pubfeed), BENCH_DIR (default
# build/bench), BENCH_RECORDS, BENCH_ONLY=watch (the cold export, without
# serve and the fetch, then only the --watch part), BENCH_CONF (more lines
# for the configuration).  Summary lines start with "summary: ".
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
# BENCH_CONF: more configuration lines (e.g. resourcesync-page-size 1000)
[ -z "${BENCH_CONF:-}" ] || printf '%s\n' "$BENCH_CONF" >>"$WORK/pubfeed.conf"
ONLY=${BENCH_ONLY:-}
REPS=${BENCH_REPS:-3}
# cpu_of FILE: "user U s, system S s" from /usr/bin/time's "%U %S" in FILE.
# The system part is mostly file creation; on an ext4 without a journal
# (this machine's), inode allocation skips every inode freed in the last
# minutes (the kernel's recently_deleted()), so it grows with the files
# deleted just before, not with what pubfeed does: compare user CPU
cpu_of() {
	awk '{ printf "user %.1f s, system %.1f s", $1, $2 }' "$1"
}
# median NAME: the median of the times timed_export NAME took
median() {
	sort -n "$WORK/times.$1" | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }'
}
# retitle [FILE]: one record (default the last, the newest) changed the
# way an editor saves it
rec=$(find "$WORK/records" -name '*.xml' | sort | tail -n 1)
retitle() {
	f=${1:-$rec}
	sed 's|<title\([^>]*\)>|<title\1>Retitled: |' "$f" \
	    >"$(dirname "$f")/.new.tmp"
	mv "$(dirname "$f")/.new.tmp" "$f"
}
if [ "$ONLY" = watch ]; then
	t0=$(now)
	"$PUBFEED" export -c "$WORK/pubfeed.conf" "$WORK/export" \
	    2>"$WORK/export.log" ||
	    { cat "$WORK/export.log" >&2; die "export failed"; }
	echo "summary: export (cold, no serve running)   $(elapsed "$t0" "$(now)")s"
else
start_pubfeed "$PF_PORT" 120

t0=$(now)
/usr/bin/time -f '%U %S' -o "$WORK/cpu" "$PUBFEED" export \
    -c "$WORK/pubfeed.conf" "$WORK/export" 2>"$WORK/export.log" ||
    { cat "$WORK/export.log" >&2; die "export failed"; }
t1=$(now)
EXPORT_S=$(elapsed "$t0" "$t1")
EXPORT_CPU=$(cpu_of "$WORK/cpu")

# one curl config per coding: every document, one keep-alive connection
(cd "$WORK/export" && find . -type f ! -name '*.gz' ! -name '.pubfeed-export.db*' | sed 's|^\./||' | sort) \
    >"$WORK/docs"
NDOCS=$(wc -l <"$WORK/docs")
: >"$WORK/plain.curl"
: >"$WORK/gzip.curl"
while read -r f; do
	case $f in
	index.html) u=/ ;;
	*/index.html) u=/${f%index.html} ;;
	*) u=/$f ;;
	esac
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

diff -rq -x '.pubfeed-export.db*' "$WORK/export" "$WORK/fetch" >"$WORK/diff" ||
    die "exported files differ from what serve sends: $(head -n 5 "$WORK/diff")"
NFILES=$(find "$WORK/export" -type f | wc -l)
BYTES=$(du -sb "$WORK/export" | cut -f1)
RATIO=$(echo "$FETCH_S $EXPORT_S" | awk '{ printf "%.2f", $1 / $2 }')
echo "export: $NREC records, $NDOCS documents, $NFILES files, $BYTES bytes; identical to serve"
echo "summary: export (cold: load + render + write)   ${EXPORT_S}s ($EXPORT_CPU)"
echo "summary: fetch through serve (plain + gzip)      ${FETCH_S}s"
echo "summary: ratio fetch/export                      $RATIO"

kill "$PF_PID" && wait "$PF_PID" 2>/dev/null
PF_PID=

# timed_export NAME: one export into $WORK/export, no serve running
timed_export() {
	t0=$(now)
	/usr/bin/time -f '%M %U %S' -o "$WORK/rss" "$PUBFEED" export \
	    -c "$WORK/pubfeed.conf" "$WORK/export" 2>"$WORK/export.log" ||
	    { cat "$WORK/export.log" >&2; die "$1 export failed"; }
	t1=$(now)
	line=$(grep 'exported' "$WORK/export.log" | tail -n 1)
	written=$(echo "$line" | sed -n 's/.*: \([0-9]*\) files,.*/\1/p')
	kept=$(echo "$line" | sed -n 's/.* \([0-9]*\) unchanged.*/\1/p')
	removed=$(echo "$line" | sed -n 's/.* \([0-9]*\) removed.*/\1/p')
	rendered=$(echo "$line" | sed -n 's/.* \([0-9]*\) rendered.*/\1/p')
	reused=$(echo "$line" | sed -n 's/.* \([0-9]*\) reused.*/\1/p')
	rss=$(($(cut -d' ' -f1 "$WORK/rss") / 1024))
	cpu=$(cut -d' ' -f2- "$WORK/rss" >"$WORK/cpu" && cpu_of "$WORK/cpu")
	secs=$(elapsed "$t0" "$t1")
	echo "$secs" >>"$WORK/times.$1"
	printf '%s %-10s %7ss, %4s MB peak; %5s files written, %5s unchanged, %s removed; %s documents rendered, %s reused\n' \
	    "${2:-export:}" "$1" "$secs" "$rss" "$written" "$kept" "$removed" \
	    "$rendered" "$reused"
}
i=0
while [ "$i" -lt "$REPS" ]; do
	timed_export no-change
	[ "$written" = 0 ] || die "no-change export wrote $written files"
	[ "$rendered" = 0 ] || die "no-change export rendered $rendered documents"
	i=$((i + 1))
done
echo "summary: export no-change (median of $REPS) $(median no-change)s; $rendered rendered, $reused reused"

i=0
while [ "$i" -lt "$REPS" ]; do
	retitle
	timed_export one-change
	[ "$written" -gt 0 ] || die "one-change export wrote nothing"
	[ "$rendered" -gt 0 ] || die "one-change export rendered nothing"
	i=$((i + 1))
done
ONE_S=$(median one-change)
echo "summary: export one-change (median of $REPS) ${ONE_S}s; $rendered rendered, $reused reused, $written files written"
timed_export no-change
[ "$written" = 0 ] || die "the export after the change wrote $written files"
NOCHANGE_S=$(median no-change)
# the incremental result is what a cold export of the same records gives
mv "$WORK/export" "$WORK/incremental"
timed_export cold-again
COLD2_S=$secs
COLD2_CPU=$cpu
diff -r -x '.pubfeed-export.db*' "$WORK/incremental" "$WORK/export" >"$WORK/diff" ||
    die "incremental export differs from a cold one: $(head -n 5 "$WORK/diff")"
rm -rf "$WORK/incremental"
echo "summary: export cold, no serve running  ${COLD2_S}s ($COLD2_CPU); incremental result identical to it"
fi

# export --watch: one change to its file in DIR, the process kept running
# (serve's watch and rebuild, then the incremental export)
: >"$WORK/watch.log"
"$PUBFEED" export -c "$WORK/pubfeed.conf" --watch "$WORK/export" \
    2>"$WORK/watch.log" &
PF_PID=$!
i=0
until grep -q 'exporting every change' "$WORK/watch.log"; do
	kill -0 "$PF_PID" 2>/dev/null ||
	    { cat "$WORK/watch.log" >&2; die "export --watch exited"; }
	i=$((i + 1))
	[ "$i" -lt 1200 ] || die "export --watch did not start"
	sleep 0.1
done
# watch_changes FILE NAME: BENCH_REPS retitles of FILE, each timed until
# its landing page in DIR shows it (times.NAME), and the export's own
# times from its log lines (times.NAME-export)
watch_changes() {
	id=$(sed -n 's/.*<record [^>]* id="\([^"]*\)".*/\1/p' "$1" | head -n 1)
	page=$WORK/export/records/$id.html
	: >"$WORK/times.$2"
	nlog=$(grep -c 'exported snapshot' "$WORK/watch.log")
	i=0
	while [ "$i" -lt "$REPS" ]; do
		before=$(grep -o 'Retitled: ' "$page" | wc -l)
		t0=$(now)
		retitle "$1"
		j=0
		until [ "$(grep -o 'Retitled: ' "$page" | wc -l)" -gt "$before" ]; do
			j=$((j + 1))
			[ "$j" -lt 6000 ] ||
			    die "export --watch did not export the change"
			sleep 0.01
		done
		t1=$(now)
		echo "$(elapsed "$t0" "$t1")" >>"$WORK/times.$2"
		sleep 0.5	# the export's log line, a quiet tree for the next
		i=$((i + 1))
	done
	# this run's exports: "exported snapshot N ... in MS ms"
	grep 'exported snapshot' "$WORK/watch.log" | sed "1,${nlog}d" |
	    sed -n 's/.* in \([0-9]*\) ms.*/\1/p' |
	    awk '{ printf "%.3f\n", $1 / 1000 }' >"$WORK/times.$2-export"
	grep 'exported snapshot' "$WORK/watch.log" | tail -n 1 |
	    sed 's/^/export: /'
}
watch_changes "$rec" watch
# a record from the middle of the collection: in the Change List it moves
# from its place to the end
mid=$(find "$WORK/records" -name '*.xml' | sort | sed -n "$((NREC / 2))p")
watch_changes "$mid" watch-mid
kill -TERM "$PF_PID"
wait "$PF_PID" || die "export --watch did not exit 0 on SIGTERM"
PF_PID=
echo "summary: export --watch (median of $REPS): a change in its file in DIR after $(median watch)s (200 ms debounce included); the export itself $(median watch-export)s"
echo "summary: export --watch, a record from the middle (median of $REPS): in DIR after $(median watch-mid)s; the export itself $(median watch-mid-export)s"
[ "$ONLY" = watch ] && exit 0

# Hugo (Debian's hugo) on the same records: bench/hugo_site.py writes a
# minimal site, one content page per record (title, date, abstract) and
# the list of them with its RSS.  Timed: "hugo --quiet" alone, cold (no
# public/ yet) and again after the same one-record change (Hugo has no
# incremental build outside "hugo server": it renders everything again);
# the conversion to Markdown is not timed, although pubfeed's times include
# reading and validating the XML.
if ! command -v hugo >/dev/null 2>&1; then
	echo "hugo: not available"
	exit 0
fi
HUGO=$WORK/hugo
find "$WORK/records" -name '*.xml' -print0 |
    xargs -0 "$PY" bench/hugo_site.py "$HUGO" || die "hugo_site.py failed"
# timed_hugo NAME: one "hugo --quiet" build of $HUGO
timed_hugo() {
	t0=$(now)
	(cd "$HUGO" && /usr/bin/time -f '%M' -o "$WORK/rss" hugo --quiet) \
	    >"$WORK/hugo.log" 2>&1 ||
	    { cat "$WORK/hugo.log" >&2; die "hugo $1 failed"; }
	t1=$(now)
	secs=$(elapsed "$t0" "$t1")
	files=$(find "$HUGO/public" -type f | wc -l)
	printf 'summary: hugo   %-10s %7ss, %4s MB peak; %5s files in public/\n' \
	    "$1" "$secs" "$(($(cat "$WORK/rss") / 1024))" "$files"
}
timed_hugo cold
HUGO_COLD=$secs
grep -q '<item>' "$HUGO/public/index.xml" || die "hugo wrote no RSS"
retitle
"$PY" bench/hugo_site.py "$HUGO" "$rec" || die "hugo_site.py failed"
timed_hugo one-change
HUGO_ONE=$secs
grep -q 'Retitled: Retitled: Retitled: ' "$HUGO/public/records/$id/index.html" ||
    die "hugo did not render the change"
echo "summary: ratio pubfeed/hugo (below 1: pubfeed faster): cold" \
    "$(ratio "$EXPORT_S" "$HUGO_COLD"), one-change $(ratio "$ONE_S" "$HUGO_ONE")," \
    "no-change export/hugo one-change $(ratio "$NOCHANGE_S" "$HUGO_ONE")"
