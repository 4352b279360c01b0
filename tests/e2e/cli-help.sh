#!/bin/bash
# cordon --help (and -h, help) prints the usage on stdout and exits 0, naming
# every command; without arguments the usage goes to stderr with status 125.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

for opt in --help -h help; do
    assert_status 0 "$CORDON" "$opt"
    assert_file_has_content "$TEST_TMP/out" '^Usage: cordon COMMAND'
    for cmd in record show verify diff pack replay; do
        assert_file_has_content "$TEST_TMP/out" "^  $cmd "
    done
    assert_file_has_content "$TEST_TMP/out" 'cordon\(1\)'
    [[ ! -s $TEST_TMP/err ]] || fail "cordon $opt wrote to stderr"
done

assert_status 125 "$CORDON"
assert_file_has_content "$TEST_TMP/err" '^Usage: cordon COMMAND'
[[ ! -s $TEST_TMP/out ]] || fail "cordon without arguments wrote to stdout"
