#!/bin/bash
# cordon record returns the command's own status (128+N for signal N), 127
# for a command not found and 126 for one that cannot be executed, like
# env(1); a failing build still gets its manifest, with its status in it.
# tiers: self nobody nouserns
set -euo pipefail
source "$(dirname "$0")/lib.sh"

echo 'int x;' >in.txt
assert_status 0 "$CORDON" record -q -o ok.json -- cat in.txt
assert_file_has_content ok.json '"cordon_manifest": 1'
assert_file_has_content ok.json "\"path\": \"$TEST_TMP/in.txt\""

assert_status 3 "$CORDON" record -q -o fail.json -- sh -c 'cat in.txt >/dev/null; exit 3'
assert_file_has_content fail.json '"exit_code": 3'
assert_file_has_content fail.json "\"path\": \"$TEST_TMP/in.txt\""

assert_status 143 "$CORDON" record -q -o sig.json -- sh -c 'kill -TERM $$'
assert_file_exists sig.json

assert_status 127 "$CORDON" record -q -o nf.json -- cordon-no-such-command-here
assert_file_has_content "$TEST_TMP/err" "cordon-no-such-command-here"
assert_not_file_exists nf.json

printf 'not a program\n' >noexec
chmod 0644 noexec
assert_status 126 "$CORDON" record -q -o ne.json -- ./noexec

# Usage errors are cordon's own failures.
assert_status 125 "$CORDON" record -o x.json
assert_status 125 "$CORDON" record --no-such-option -- true
# A manifest that cannot be written is a failure of cordon, not of the build.
assert_status 125 "$CORDON" record -q -o /nonexistent-dir/m.json -- true
