#!/bin/bash
# The tier a test runs in is the one it says: the user, the temp dir, the
# home, and (nouserns) no way to make a user namespace. Also checks that
# cordon itself runs there, from a build directory any user can read.
# tiers: self nobody nouserns
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[[ -d $TEST_TMP && -w $TEST_TMP ]] || fail "TEST_TMP '$TEST_TMP' is not a writable directory"
[[ $PWD == "$TEST_TMP" ]] || fail "the test starts in '$PWD', not in TEST_TMP"
[[ $HOME == "$TEST_TMP/home" && -w $HOME ]] || fail "HOME '$HOME' is not the test's own"
[[ ${XDG_CACHE_HOME:-} == "$HOME/.cache" ]] || fail "XDG_CACHE_HOME '${XDG_CACHE_HOME:-}'"
touch "$HOME/.cache/x"

case $CORDON_TIER in
self) ;;
nobody)
    [[ $(id -u) == 65534 && $(id -g) == 65534 ]] || fail "tier nobody runs as $(id)"
    [[ $(id -G) == 65534 ]] || fail "tier nobody keeps supplementary groups: $(id -G)"
    ;;
nouserns)
    [[ $(id -u) == 65534 ]] || fail "tier nouserns runs as $(id)"
    assert_file_has_content /proc/self/status '^CapEff:[[:space:]]+0+$'
    assert_file_has_content /proc/self/status '^CapBnd:[[:space:]]+0+$'
    assert_file_has_content /proc/self/status '^NoNewPrivs:[[:space:]]+1$'
    [[ $(cat /proc/sys/user/max_user_namespaces) == 0 ]] || fail "max_user_namespaces is not 0"
    if unshare -U true 2>"$TEST_TMP/err"; then
        fail "unshare -U succeeded in tier nouserns"
    fi
    ;;
*) fail "unknown tier '$CORDON_TIER'" ;;
esac

assert_status 0 "$CORDON" --version
assert_file_has_content "$TEST_TMP/out" '^cordon [0-9]+\.[0-9]+\.[0-9]+'
