#!/bin/sh
# Prints "N passed, N failed" summed over every test case of the last `make check`
# (automake's .trs files: one :test-result: line per TAP test case).
cd "$(dirname "$0")/../.."
find . -name '*.trs' -not -path './node_modules/*' -exec cat {} + 2>/dev/null |
	awk '/^:test-result: (PASS|XFAIL)/ { p++ } /^:test-result: (FAIL|XPASS|ERROR)/ { f++ }
	     END { printf "%d passed, %d failed\n", p, f }'
