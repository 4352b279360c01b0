#!/bin/bash
# The recording survives a kill -9: of the build (cordon writes the manifest
# with the signal in it) and of cordon itself (the watcher it left behind
# waits for the build and writes the manifest from the log).
# tiers: self nobody
set -euo pipefail
source "$(dirname "$0")/lib.sh"

echo first >first.txt
echo second >second.txt

log_step "kill -9 of the build"
assert_status 137 "$CORDON" record -q -o build.json -- sh -c 'cat first.txt >/dev/null; kill -9 $$'
assert_file_has_content build.json "\"path\": \"$TEST_TMP/first.txt\""
assert_file_has_content build.json '"signal": 9|"exit_code": 137'

log_step "kill -9 of cordon"
"$CORDON" record -q -o killed.json -- sh -c \
    'cat first.txt >/dev/null; touch started; sleep 2; cat second.txt >/dev/null' \
    >/dev/null 2>"$TEST_TMP/killed.err" &
pid=$!
for _ in $(seq 100); do [[ -e started ]] && break; sleep 0.1; done
assert_file_exists started
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
for _ in $(seq 150); do [[ -s killed.json ]] && break; sleep 0.1; done
assert_file_exists killed.json
assert_file_has_content killed.json "\"path\": \"$TEST_TMP/first.txt\""
# What ran after the recorder died was recorded too.
assert_file_has_content killed.json "\"path\": \"$TEST_TMP/second.txt\""
assert_file_has_content killed.json '"recorder-killed"'
assert_file_has_content killed.json '"finished": false'
