#!/bin/bash
# A usage error is cordon's own failure (125): the specific problem on
# stderr, prefixed "cordon COMMAND: ", then "Try 'cordon COMMAND --help'."
# and not the whole help. Nothing runs, nothing is written.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

usage_error() {
    local cmd=$1
    assert_status 125 "$CORDON" "$@"
    assert_file_has_content "$TEST_TMP/err" "^cordon $cmd: "
    assert_file_has_content "$TEST_TMP/err" "^Try 'cordon $cmd --help'\\.?$"
    assert_not_file_has_content "$TEST_TMP/err" '^Usage:'
    # One message, cordon's: getopt's own would come first and say it twice.
    [[ $(wc -l <"$TEST_TMP/err") == 2 ]] ||
        fail "cordon $*: expected one message and the hint, got: $(cat "$TEST_TMP/err")"
}

for cmd in record show verify diff pack replay; do
    usage_error "$cmd" --no-such-option
    assert_file_has_content "$TEST_TMP/err" "^cordon $cmd: unknown option '--no-such-option'$"
done
# The bad option is named as written, a letter inside a cluster included.
usage_error show -z m.json
assert_file_has_content "$TEST_TMP/err" "^cordon show: unknown option '-z'$"
usage_error verify -qz m.json
assert_file_has_content "$TEST_TMP/err" "^cordon verify: unknown option '-z'$"
usage_error replay --check=yes a.tar
assert_file_has_content "$TEST_TMP/err" "^cordon replay: option '--check' takes no argument$"

echo '{}' >m.json
# Missing operands.
usage_error record
usage_error record -o m2.json
usage_error show
usage_error verify
usage_error diff
usage_error diff m.json
usage_error pack
usage_error pack m.json
usage_error replay
# Too many operands.
usage_error show m.json m.json
usage_error diff m.json m.json m.json
# Option values that are not allowed.
usage_error pack m.json -o a.tar --format zip
assert_file_has_content "$TEST_TMP/err" "zip"
usage_error replay a.tar --backend nosuch
assert_file_has_content "$TEST_TMP/err" "nosuch"
# An option without its value.
usage_error record -o
assert_file_has_content "$TEST_TMP/err" "^cordon record: option '-o' needs an argument$"
usage_error pack m.json -o
assert_file_has_content "$TEST_TMP/err" "^cordon pack: option '-o' needs an argument$"
usage_error verify m.json --root
assert_file_has_content "$TEST_TMP/err" "^cordon verify: option '--root' needs an argument$"
usage_error replay a.tar --backend
assert_file_has_content "$TEST_TMP/err" "^cordon replay: option '--backend' needs an argument$"

# The command was not run and no output was written.
usage_error record -o m2.json --no-such-option -- touch ran
assert_not_file_exists ran
assert_not_file_exists m2.json
assert_not_file_exists a.tar
