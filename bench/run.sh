#!/bin/sh
# bench/run.sh: what "make bench" runs.  Runs every benchmark script that
# exists, in this order:
#
#   feeds   /feed.atom: pubfeed vs nginx vs bare libmicrohttpd (plain,
#           gzip, 304); then JSON Feed, calendar, a language feed and a
#           landing page, pubfeed vs nginx
#   oai     OAI-PMH harvest, page latency, page req/s vs nginx
#   snapshot  start-up and incremental snapshot cost at 100k records
#   live    one changed file in a large collection: change-to-visible
#   notify  change-to-WebSub-notification latency
#   export  pubfeed export vs fetching the same documents from serve;
#           no-change, one-change, --watch; Hugo on the same records
#
# Each script's output is shown as it runs and kept in
# $BENCH_DIR/NAME.log; its lines starting with "summary: " are gathered
# into the combined table at the end.  A failing script is reported and
# the rest still run; the exit status is 1 if any failed.
#
# Environment: BENCH_ONLY="feeds oai" runs only those; everything else
# (PUBFEED, BENCH_DIR, BENCH_WORKERS, BENCH_DURATION, BENCH_RUNS, ...) is
# passed on to the scripts, see bench/README.md.

set -u

cd "$(dirname "$0")/.." || exit 1
PUBFEED=${PUBFEED:-build/pubfeed}
BENCH_DIR=${BENCH_DIR:-build/bench}
export PUBFEED BENCH_DIR
mkdir -p "$BENCH_DIR" || exit 1

ALL="feeds oai snapshot live notify state export"
ONLY=${BENCH_ONLY:-$ALL}
SUMMARY=$BENCH_DIR/summary.txt
: >"$SUMMARY"
failed=0
start=$(date +%s)

echo "bench: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)," \
    "$(date -u '+%Y-%m-%d %H:%M UTC'), $PUBFEED"
for name in $ALL; do
	case " $ONLY " in *" $name "*) ;; *) continue ;; esac
	script=bench/$name.sh
	if [ ! -f "$script" ]; then
		printf '%-8s %-9s\n' "$name" "absent" >>"$SUMMARY"
		continue
	fi
	log=$BENCH_DIR/$name.log
	echo
	echo "=== bench/$name.sh ==="
	t0=$(date +%s)
	{ sh "$script" 2>&1; echo $? >"$log.rc"; } | tee "$log"
	rc=$(cat "$log.rc")
	rm -f "$log.rc"
	secs=$(($(date +%s) - t0))
	if [ "$rc" = 0 ]; then
		status=ok
	else
		status="FAILED($rc)"
		failed=1
	fi
	echo "--- bench/$name.sh: $status in ${secs}s"
	grep '^summary: ' "$log" | sed 's/^summary: //' >"$log.sum"
	if [ -s "$log.sum" ]; then
		first=1
		while IFS= read -r line; do
			if [ $first = 1 ]; then
				printf '%-8s %-9s %5ss  %s\n' "$name" "$status" \
				    "$secs" "$line" >>"$SUMMARY"
				first=0
			else
				printf '%-8s %-9s %6s  %s\n' "" "" "" "$line" \
				    >>"$SUMMARY"
			fi
		done <"$log.sum"
	else
		# no summary lines: the last line says what happened
		printf '%-8s %-9s %5ss  %s\n' "$name" "$status" "$secs" \
		    "$(tail -n 1 "$log")" >>"$SUMMARY"
	fi
	rm -f "$log.sum"
done

echo
echo "=== summary ($(($(date +%s) - start))s; medians and ratios," \
    "shared machine: compare ratios, not absolutes) ==="
printf '%-8s %-9s %6s  %s\n' script status time result
cat "$SUMMARY"
exit $failed
