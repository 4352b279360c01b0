# lib.sh: sourced by every tests/e2e/*.sh script (after `set -euo pipefail`).
#
# What a script can rely on:
#   $CORDON          the cordon binary under test
#   $CORDON_BUILD    the build directory, $CORDON_SOURCE the source directory
#   $CORDON_TRACEDUMP  the trace dump tool, when the build has one
#   $CORDON_TIER     self, nobody or nouserns (see tier.sh)
#   $TEST_TMP        a fresh directory owned by the user the test runs as,
#                    the working directory at start; HOME=$TEST_TMP/home,
#                    XDG_CACHE_HOME=$HOME/.cache
# Tiers nobody and nouserns run as uid 65534: they assume the source and the
# build directory are world-readable (a clone made with umask 022 is).
#
# Run one script by hand: bash tests/e2e/tier.sh self tests/e2e/X.sh with
# CORDON=build/bin/cordon (ctest sets the rest), or ctest -R X.
# CORDON_TEST_KEEP=1 keeps $TEST_TMP for inspection.

: "${CORDON:?CORDON must name the cordon binary (ctest sets it)}"
: "${CORDON_TIER:=self}"
export CORDON CORDON_TIER

log() { printf '%s\n' "$*" >&2; }
log_step() { printf '== %s\n' "$*" >&2; }

fail() {
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}

assert_not_reached() { fail "reached: ${*:-a line that must not run}"; }

# skip REASON: exit 77. Under CORDON_MUST_WORK=1 this fails instead, unless
# the script's "# skip-ok: TIER..." header names the current tier.
skip() {
    local line
    line=$(grep -m1 '^# skip-ok:' "$0" 2>/dev/null || true)
    if [[ ${CORDON_MUST_WORK:-0} == 1 && " ${line#\# skip-ok:} " != *" $CORDON_TIER "* ]]; then
        fail "skip not allowed in tier '$CORDON_TIER' under CORDON_MUST_WORK=1: $*"
    fi
    printf 'SKIP: %s\n' "$*" >&2
    exit 77
}

assert_file_exists() {
    [[ -e $1 || -L $1 ]] || fail "'$1' does not exist"
}

assert_not_file_exists() {
    [[ ! -e $1 && ! -L $1 ]] || fail "'$1' exists"
}

# assert_file_has_content FILE REGEX (grep -E)
assert_file_has_content() {
    assert_file_exists "$1"
    if ! grep -qE -- "$2" "$1"; then
        log "--- $1:"
        head -c 4000 "$1" >&2 || true
        fail "'$1' does not match /$2/"
    fi
}

assert_not_file_has_content() {
    assert_file_exists "$1"
    if grep -qE -- "$2" "$1"; then
        log "--- $1:"
        grep -nE -- "$2" "$1" | head -20 >&2 || true
        fail "'$1' matches /$2/"
    fi
}

# assert_status EXPECTED CMD...: run CMD with stdout and stderr saved in
# $TEST_TMP/out and $TEST_TMP/err (shown on failure) and check its exit code.
assert_status() {
    local want=$1 got=0
    shift
    "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" || got=$?
    if [[ $got != "$want" ]]; then
        log "--- stdout of: $*"
        head -c 4000 "$TEST_TMP/out" >&2 || true
        log "--- stderr:"
        head -c 4000 "$TEST_TMP/err" >&2 || true
        fail "'$*' exited $got, expected $want"
    fi
}

# A temp dir of our own when run outside tier.sh.
if [[ -z ${TEST_TMP:-} ]]; then
    TEST_TMP=$(mktemp -d /tmp/cordon-e2e.XXXXXX)
    export TEST_TMP HOME=$TEST_TMP/home XDG_CACHE_HOME=$TEST_TMP/home/.cache
    mkdir -p "$XDG_CACHE_HOME"
    cd "$TEST_TMP" || exit 1
fi

lib_cleanup() {
    local status=$?
    if [[ ${CORDON_TEST_KEEP:-0} == 1 ]]; then
        log "kept $TEST_TMP"
    elif [[ ${CORDON_TEST_TMP_OWNED:-0} != 1 ]]; then
        chmod -R u+w "$TEST_TMP" 2>/dev/null || true
        rm -rf "$TEST_TMP"
    fi
    return "$status"
}
trap lib_cleanup EXIT
