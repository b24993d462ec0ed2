#!/bin/sh
# Checks the systemd units offline, so it works in a container where systemd
# is not PID 1: installs pubfeed into a throw-away root (make install
# DESTDIR=...), adds the distribution's own units (sysinit.target & co.)
# there, then runs `systemd-analyze verify --root` (ExecStart= paths must
# exist inside the root) and `systemd-analyze security --offline`, failing
# when the exposure level is above MAX_EXPOSURE.
set -e
cd "$(dirname "$0")/.."
MAX_EXPOSURE=${MAX_EXPOSURE:-2.0}
command -v systemd-analyze >/dev/null || { echo "systemd-analyze: not installed"; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
make --no-print-directory -s install PREFIX=/usr DESTDIR="$root" >/dev/null
units=$root/usr/lib/systemd/system
for f in /lib/systemd/system/*; do
	[ -e "$units/$(basename "$f")" ] || cp -a "$f" "$units/"
done
mkdir -p "$root/bin"
cp /bin/kill "$root/bin/kill"
# Documentation=man:... is looked up in the man pages just installed.
MANPATH=$root/usr/share/man systemd-analyze verify --root="$root" \
    pubfeed.service pubfeed.socket
out=$(systemd-analyze security --offline=true --root="$root" pubfeed.service)
level=$(echo "$out" | sed -n 's/.*Overall exposure level for pubfeed.service: \([0-9.]*\).*/\1/p')
[ -n "$level" ] || { echo "$out"; echo "systemd-check: no exposure level"; exit 1; }
if awk -v l="$level" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(l > m) }'; then
	echo "$out" | grep -v '^✓'
	echo "systemd-check: exposure $level > $MAX_EXPOSURE"
	exit 1
fi
echo "systemd-check: verify clean, exposure $level (max $MAX_EXPOSURE)"
