#!/bin/sh
# Runs one node test file with TAP output, for automake's TAP driver.
# A file whose npm dependencies are not installed (tests/node_modules) is skipped, not failed,
# so that `make distcheck` works without them; CI installs them.
set -eu
test_file=$1
if ! command -v node >/dev/null 2>&1; then
	echo "1..0 # SKIP node is not installed"
	exit 0
fi
if grep -q "from 'playwright-core'" "$test_file" && [ ! -d "${RELAIS_SRCDIR:-.}/tests/node_modules/playwright-core" ]; then
	echo "1..0 # SKIP tests/node_modules is missing: run 'npm ci' in tests/"
	exit 0
fi
# Signing with the Standard Webhooks reference library (tests/lib/intake.mjs).
if grep -q "signWithLibrary" "$test_file" && [ ! -d "${RELAIS_SRCDIR:-.}/tests/node_modules/standardwebhooks" ]; then
	echo "1..0 # SKIP tests/node_modules is missing: run 'npm ci' in tests/"
	exit 0
fi
exec node --test --test-reporter=tap --test-concurrency=1 "$test_file"
