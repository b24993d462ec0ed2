#!/bin/sh
# Installs the Debian 12 packages pubfeed needs to build, test and
# benchmark, if any is missing.  Used by `make run`, `make check` and .ci/run.
set -e
PKGS="build-essential pkg-config libxml2-dev libmicrohttpd-dev
libcurl4-openssl-dev zlib1g-dev libsystemd-dev check libsubunit-dev
libxml2-utils curl python3 python3-lxml python3-feedparser libhttp-oai-perl
nginx-light wrk clang libclang-rt-14-dev systemd libsqlite3-dev sqlite3
libjansson-dev libcsv-dev libical-dev libssl-dev python3-jsonschema python3-icalendar khal
libmarc-lint-perl groff-base man-db strace
chromium chromium-driver"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
# Node.js may come from elsewhere (NodeSource bundles npm, and Debian's npm
# package conflicts with it): only ask Debian when the commands are absent.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends $missing
