#!/bin/sh
# Relais quick start, for a fresh Debian 12 machine (run as root, or as a user with sudo).
#
#   deploy/quickstart.sh run    install what is missing, build, load the demo data, serve
#                               http://127.0.0.1:8080 on the embedded PostgreSQL
#   deploy/quickstart.sh test   install what is missing, build, run every test (make check)
#
# Environment: RELAIS_DATA_DIR (default /var/lib/relais as root, ./relais-data otherwise),
# RELAIS_LISTEN (default 127.0.0.1:8080), CONFIGURE_FLAGS (extra ./configure options).
set -eu

cd "$(dirname "$0")/.."
ROOT=$(pwd)

# Debian packages the build, the server and the tests need.
PACKAGES="build-essential autoconf automake libtool pkg-config
	libevent-dev libpq-dev libssl-dev libsodium-dev libjansson-dev libinih-dev libcmocka-dev
	postgresql postgresql-contrib curl ca-certificates procps"
TEST_PACKAGES="chromium"

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_packages() {
	missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
	done
	# Node.js 18 or later builds the web app; Debian's own is used when none is installed.
	if ! command -v node >/dev/null 2>&1 || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 18 ]; then
		missing="$missing nodejs npm"
	fi
	if [ -n "$missing" ]; then
		echo "quickstart: installing$missing"
		as_root apt-get update -qq
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
	fi
	# The postgresql package starts a system cluster we do not use: relais runs its own.
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet postgresql 2>/dev/null; then
		as_root systemctl stop postgresql || true
	fi
}

build() {
	if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
		autoreconf -fi
	fi
	if [ ! -f Makefile ] || [ configure -nt Makefile ]; then
		# shellcheck disable=SC2086
		./configure ${CONFIGURE_FLAGS:-}
	fi
	make -j"$(nproc)"
	(cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build)
}

case "${1:-}" in
run)
	install_packages $PACKAGES
	build
	if [ -z "${RELAIS_DATA_DIR:-}" ]; then
		if [ "$(id -u)" -eq 0 ]; then RELAIS_DATA_DIR=/var/lib/relais; else RELAIS_DATA_DIR="$ROOT/relais-data"; fi
	fi
	export RELAIS_DATA_DIR
	export RELAIS_LISTEN="${RELAIS_LISTEN:-127.0.0.1:8080}"
	export RELAIS_WEB_ROOT="$ROOT/web/dist"
	# Plain HTTP on the loopback address: the session cookie cannot be Secure there.
	export RELAIS_INSECURE_COOKIES="${RELAIS_INSECURE_COOKIES:-true}"
	./relais demo
	echo
	echo "Relais: open http://$RELAIS_LISTEN (data in $RELAIS_DATA_DIR; Ctrl-C stops it)"
	echo
	exec ./relais serve
	;;
test)
	install_packages $PACKAGES $TEST_PACKAGES
	build
	(cd tests && npm ci --no-audit --no-fund --loglevel=error)
	status=0
	make check || status=$?
	sh tests/lib/summary.sh
	exit $status
	;;
*)
	echo "Usage: $0 run|test" >&2
	exit 2
	;;
esac
