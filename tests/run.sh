#!/bin/sh
# Runs every suite and ends with one line "N passed, N failed" summed over all
# of them.  Unit suites are the Check binaries in $B/tests; end-to-end suites
# are tests/e2e/test_*.py (Debian's python3, real daemon, real clients).
# PUBFEED_SUITES=unit|e2e limits the run; PUBFEED_ONLY=pattern picks suites.
B=${B:-build}
PUBFEED=${PUBFEED:-$B/pubfeed}
SUITES=${PUBFEED_SUITES:-unit e2e}
PY=/usr/bin/python3
export PUBFEED B
export PUBFEED_STANDARDS=${PUBFEED_STANDARDS:-$(cd .. && pwd)/shared/standards}
export PUBFEED_TOOLS=${PUBFEED_TOOLS:-$(cd .. && pwd)/shared/tools}
log=$B/test-logs
mkdir -p "$log"
passed=0
failed=0
broken=""
suite_t0=$(date +%s)
# The judges in ../shared are optional in a user's own clone (skipped with a
# visible note) but required under CI, where a skip would hide a regression.
for kit in "$PUBFEED_STANDARDS" "$PUBFEED_TOOLS"; do
	[ -d "$kit" ] && continue
	if [ "${CI:-}" = true ]; then
		echo "FAIL: $kit not found, and CI=true requires it"
		failed=$((failed + 1))
		broken="$broken kits"
	else
		echo "NOTE: $kit not found: checks that need it are SKIPPED (set PUBFEED_STANDARDS / PUBFEED_TOOLS)"
	fi
done

# Every suite runs with a private, empty $TMPDIR, and every process it starts
# carries PUBFEED_TEST_RUN in its environment: whatever is left in that
# directory, or still running with that mark, after a suite is a leak of
# that suite (counted as a failure, then removed or killed so the next suite
# starts clean).  Private, so parallel runs on one machine never count each
# other's files.
run_tmp=$(mktemp -d "${TMPDIR:-/tmp}/pubfeed-run.XXXXXX") || exit 1
# searchable by all: some tests drop privileges (uid nobody) to make EACCES
# real even when the suite runs as root
chmod 755 "$run_tmp"
export TMPDIR="$run_tmp" PUBFEED_TEST_RUN="$run_tmp"
trap 'rm -rf "$run_tmp"' EXIT
trap 'exit 130' INT TERM HUP

leftover_procs() {	# pids of live processes carrying this run's mark
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		[ "$pid" != $$ ] || continue
		{ tr '\0' '\n' <"$p/environ"; } 2>/dev/null |
		    grep -qxF "PUBFEED_TEST_RUN=$run_tmp" && echo "$pid"
	done
}

leaks() {	# suite: count what the suite left behind as one failure
	left=$(ls -A "$run_tmp")
	procs=$(leftover_procs)
	[ -z "$left" ] && [ -z "$procs" ] && return 0
	if [ -n "$left" ]; then
		echo "LEAK: $1 left $(echo "$left" | wc -l) entries in \$TMPDIR:" \
		    $(echo "$left" | head -10)
		chmod -R u+rwx "$run_tmp" 2>/dev/null
		find "$run_tmp" -mindepth 1 -delete
	fi
	for pid in $procs; do
		echo "LEAK: $1 left process $pid running:" \
		    "$(tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null | cut -c1-200)"
		kill -KILL "$pid" 2>/dev/null
	done
	add "$1 (leaks)" 0 1
}

add() {	# suite passed failed (seconds since the suite began: CI has a budget)
	passed=$((passed + $2))
	failed=$((failed + $3))
	printf '%-28s %4d passed, %d failed %5ss\n' "$1" "$2" "$3" \
	    $(($(date +%s) - suite_t0))
	[ "$3" -eq 0 ] || broken="$broken $1"
}

for s in $SUITES; do
	case $s in
	unit)
		for t in "$B"/tests/check_*; do
			[ -x "$t" ] || continue
			n=$(basename "$t")
			case $n in *${PUBFEED_ONLY:-}*) ;; *) continue ;; esac
			suite_t0=$(date +%s)
			CK_FORK=yes "$t" >"$log/$n.log" 2>&1
			rc=$?
			line=$(grep -E '^[0-9]+%: Checks: ' "$log/$n.log" | tail -1)
			if [ -z "$line" ]; then
				add "$n" 0 1
				tail -20 "$log/$n.log"
				continue
			fi
			total=$(echo "$line" | sed 's/.*Checks: \([0-9]*\).*/\1/')
			fl=$(echo "$line" | sed 's/.*Failures: \([0-9]*\).*/\1/')
			er=$(echo "$line" | sed 's/.*Errors: \([0-9]*\).*/\1/')
			bad=$((fl + er))
			[ $rc -ne 0 ] && [ $bad -eq 0 ] && bad=1
			add "$n" $((total - fl - er)) $bad
			[ $bad -eq 0 ] || grep -E ':[EF]:' "$log/$n.log" | head -20
			grep -E '^SKIP' "$log/$n.log" | sort -u
			leaks "$n"
		done
		;;
	e2e)
		for t in tests/e2e/test_*.py; do
			[ -f "$t" ] || continue
			n=$(basename "$t" .py)
			case $n in *${PUBFEED_ONLY:-}*) ;; *) continue ;; esac
			suite_t0=$(date +%s)
			$PY "$t" >"$log/$n.log" 2>&1
			rc=$?
			line=$(grep -E '^RESULT: [0-9]+ passed, [0-9]+ failed' "$log/$n.log" | tail -1)
			if [ -z "$line" ]; then
				add "$n" 0 1
				tail -30 "$log/$n.log"
				continue
			fi
			p=$(echo "$line" | sed 's/RESULT: \([0-9]*\) passed.*/\1/')
			f=$(echo "$line" | sed 's/.* \([0-9]*\) failed.*/\1/')
			[ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
			add "$n" "$p" "$f"
			[ "$f" -eq 0 ] || grep -E '^(FAIL|ERROR)|Error|assert' "$log/$n.log" | head -30
			grep -E '^SKIP' "$log/$n.log" | sort -u
			leaks "$n"
		done
		;;
	esac
done
[ -z "$broken" ] || echo "failing suites:$broken (logs in $log/)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
