#!/bin/bash
# cordon --version and -V print "cordon VERSION", the project's version.
# tiers: self nobody nouserns
set -euo pipefail
source "$(dirname "$0")/lib.sh"

version=$(sed -n 's/^project(cordon VERSION \([0-9.]*\).*/\1/p' "$CORDON_SOURCE/CMakeLists.txt")
[[ -n $version ]] || fail "no version in '$CORDON_SOURCE/CMakeLists.txt'"
for opt in --version -V; do
    assert_status 0 "$CORDON" "$opt"
    [[ $(cat "$TEST_TMP/out") == "cordon $version" ]] ||
        fail "cordon $opt printed '$(cat "$TEST_TMP/out")', expected 'cordon $version'"
done
