#!/bin/bash
# tier.sh TIER SCRIPT: run one end-to-end script in one tier, as ctest does.
#   self      as the invoking user (root in CI)
#   nobody    as uid/gid 65534 through setpriv (needs root, else skip)
#   nouserns  as uid 65534 with no capabilities, no_new_privs, inside a user
#             namespace whose max_user_namespaces is 0: a machine without
#             user namespaces (needs root and the cordon-nouserns helper)
# It makes the test's fresh temp dir ($TEST_TMP, owned by the tier's user,
# HOME and XDG_CACHE_HOME inside), runs the script there and removes the dir
# afterwards unless CORDON_TEST_KEEP=1. Exit 77 is a skip; under
# CORDON_MUST_WORK=1 a skip fails unless the script's "# skip-ok:" header
# names this tier.
set -euo pipefail

tier=${1:?usage: tier.sh TIER SCRIPT}
script=${2:?usage: tier.sh TIER SCRIPT}
script=$(cd "$(dirname "$script")" && pwd)/$(basename "$script")
export CORDON_TIER=$tier

skip_ok() {
    local line
    line=$(grep -m1 '^# skip-ok:' "$script" || true)
    [[ " ${line#\# skip-ok:} " == *" $tier "* ]]
}

# A skip, or a failure when the tier must work.
tier_skip() {
    if [[ ${CORDON_MUST_WORK:-0} == 1 ]] && ! skip_ok; then
        echo "FAIL: tier '$tier' skipped under CORDON_MUST_WORK=1: $*" >&2
        exit 1
    fi
    echo "SKIP: $*" >&2
    exit 77
}

case $tier in
self) uid=$(id -u) ;;
nobody | nouserns)
    [[ $(id -u) == 0 ]] || tier_skip "tier '$tier' needs root to switch to uid 65534"
    uid=65534
    ;;
*)
    echo "tier.sh: unknown tier '$tier'" >&2
    exit 2
    ;;
esac
if [[ $tier == nouserns ]]; then
    nouserns=${CORDON_NOUSERNS:-}
    [[ -x $nouserns ]] || tier_skip "the cordon-nouserns helper is not built"
fi

TEST_TMP=$(mktemp -d /tmp/cordon-e2e.XXXXXX)
cleanup() {
    if [[ ${CORDON_TEST_KEEP:-0} == 1 ]]; then
        echo "kept $TEST_TMP" >&2
    else
        # Unpacked roots may hold read-only directories.
        chmod -R u+w "$TEST_TMP" 2>/dev/null || true
        rm -rf "$TEST_TMP"
    fi
}
trap cleanup EXIT
mkdir -p "$TEST_TMP/home/.cache"
chmod 0755 "$TEST_TMP"
if [[ $uid != "$(id -u)" ]]; then
    chown -R "$uid:$uid" "$TEST_TMP"
fi
export TEST_TMP HOME=$TEST_TMP/home XDG_CACHE_HOME=$TEST_TMP/home/.cache
# The invoking user's PATH may name directories uid 65534 cannot search
# (/root/...), which turns "not found" into EACCES for execvp.
if [[ $tier != self ]]; then
    export PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin
fi
# lib.sh's own trap leaves the dir to us.
export CORDON_TEST_TMP_OWNED=1
cd "$TEST_TMP"

status=0
case $tier in
self) bash "$script" || status=$? ;;
nobody) setpriv --reuid=65534 --regid=65534 --clear-groups -- bash "$script" || status=$? ;;
nouserns)
    # Fail loudly if the simulation does not hold: a test that passes here
    # must have run without user namespaces and without privileges.
    "$nouserns" bash -c '
        if unshare -U true 2>/dev/null; then
            echo "FAIL: tier nouserns: unshare -U succeeded inside the simulation" >&2
            exit 99
        fi
        if [[ $(id -u) != 65534 ]] || grep -q "^CapEff:.*[1-9a-f]" /proc/self/status; then
            echo "FAIL: tier nouserns: not uid 65534 without capabilities" >&2
            exit 99
        fi
        exec bash "$0"' "$script" || status=$?
    ;;
esac
if [[ $status == 77 ]]; then
    # The script's own skip (lib.sh's skip, or a plain exit 77).
    if [[ ${CORDON_MUST_WORK:-0} == 1 ]] && ! skip_ok; then
        echo "FAIL: $(basename "$script") skipped in tier '$tier' under CORDON_MUST_WORK=1" >&2
        exit 1
    fi
fi
exit "$status"
