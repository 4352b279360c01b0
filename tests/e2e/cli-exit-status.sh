#!/bin/bash
# The exit status contract of cordon(1): record passes the command's status
# through (128+N for signal N), 126/127 when it cannot be run; verify and
# diff exit 0 when nothing differs and 1 when something does; cordon's own
# failures (bad manifest, missing archive) are 125 with a message naming
# the file.
# tiers: self nobody nouserns
set -euo pipefail
source "$(dirname "$0")/lib.sh"

q=--quiet
# The work tree (snapshotted by record) apart from HOME and its store.
mkdir work
cd work

log_step "record passes the command's status through"
assert_status 3 "$CORDON" record $q -o exit3.json -- sh -c 'exit 3'
assert_file_exists exit3.json
assert_status 143 "$CORDON" record $q -o term.json -- sh -c 'kill -TERM $$'
assert_file_exists term.json

log_step "record: 127 for a command not found, 126 for one that cannot be executed"
assert_status 127 "$CORDON" record $q -o nf.json -- cordon-no-such-command
assert_file_has_content "$TEST_TMP/err" "cordon-no-such-command"
printf 'not a program\n' >notexec
chmod 0644 notexec
assert_status 126 "$CORDON" record $q -o ne.json -- ./notexec
assert_file_has_content "$TEST_TMP/err" "notexec"

log_step "show, verify and diff on unchanged inputs: 0"
echo one >input.txt
assert_status 0 "$CORDON" record $q -o a.json -- cat input.txt
assert_file_has_content "$TEST_TMP/out" '^one$'
assert_status 0 "$CORDON" show a.json
assert_status 0 "$CORDON" verify $q a.json
assert_status 0 "$CORDON" diff a.json a.json

log_step "verify and diff after an input changed: 1, naming it"
echo two >input.txt
assert_status 1 "$CORDON" verify $q a.json
assert_file_has_content "$TEST_TMP/out" 'input\.txt'
assert_status 0 "$CORDON" record $q -o b.json -- cat input.txt
assert_status 1 "$CORDON" diff a.json b.json
assert_file_has_content "$TEST_TMP/out" 'input\.txt'

log_step "cordon's own failures: 125, naming the file"
printf '{"cordon_manifest": 1,\n  "inputs": [\n' >broken.json
for cmd in show verify; do
    assert_status 125 "$CORDON" "$cmd" broken.json
    assert_file_has_content "$TEST_TMP/err" "^cordon: .*broken\\.json"
done
assert_status 125 "$CORDON" diff a.json broken.json
assert_file_has_content "$TEST_TMP/err" "broken\\.json"
assert_status 125 "$CORDON" show no-such.json
assert_file_has_content "$TEST_TMP/err" "no-such\\.json"
assert_status 125 "$CORDON" pack broken.json -o x.tar.zst
assert_not_file_exists x.tar.zst
assert_status 125 "$CORDON" replay no-such.tar.zst
assert_file_has_content "$TEST_TMP/err" "no-such\\.tar\\.zst"
