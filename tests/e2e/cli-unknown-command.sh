#!/bin/bash
# An unknown command is cordon's own failure (125), with a message naming it
# and a pointer to --help; an option where the command belongs is unknown too.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

assert_status 125 "$CORDON" frobnicate
assert_file_has_content "$TEST_TMP/err" "^cordon: unknown command 'frobnicate'"
assert_file_has_content "$TEST_TMP/err" "Try 'cordon --help'"
[[ ! -s $TEST_TMP/out ]] || fail "an unknown command wrote to stdout"

assert_status 125 "$CORDON" --frobnicate
assert_file_has_content "$TEST_TMP/err" "'--frobnicate'"
