#!/bin/bash
# cordon doctor names what the machine allows and the runner `auto` picks:
# namespace where user namespaces work, and, on the simulated machine
# without them (tier nouserns), hook for run and fakechroot for replay. The
# text and the JSON say the same; usage errors exit 125.
# tiers: self nobody nouserns
set -euo pipefail
source "$(dirname "$0")/lib.sh"

assert_status 0 "$CORDON" doctor
cp "$TEST_TMP/out" "$TEST_TMP/text"
for what in 'user namespaces' landlock 'seccomp user notification' 'seccomp sync wake-up' \
    ptrace fakechroot; do
    assert_file_has_content "$TEST_TMP/text" "^$what +(yes|no)"
done
assert_file_has_content "$TEST_TMP/text" '^run: auto picks [a-z]+ because .+'
assert_file_has_content "$TEST_TMP/text" '^replay: auto picks [a-z]+ because .+'
run=$(sed -n 's/^run: auto picks \([a-z]*\) because .*/\1/p' "$TEST_TMP/text")
replay=$(sed -n 's/^replay: auto picks \([a-z]*\) because .*/\1/p' "$TEST_TMP/text")

# What the tier says this machine is; outside nouserns, unshare(1) is the
# independent witness (a machine may lack user namespaces altogether).
userns=yes
if [[ $CORDON_TIER == nouserns ]]; then
    userns=no
elif ! unshare --user --mount true 2>/dev/null; then
    log "unshare --user --mount fails here: expecting the fallbacks in tier $CORDON_TIER"
    userns=no
fi
if [[ $userns == yes ]]; then
    [[ $run == namespace ]] || fail "run: auto picks '$run', expected namespace"
    [[ $replay == namespace ]] || fail "replay: auto picks '$replay', expected namespace"
    assert_file_has_content "$TEST_TMP/text" '^user namespaces +yes$'
else
    [[ $run == hook ]] || fail "run: auto picks '$run' without user namespaces, expected hook"
    [[ $replay == fakechroot ]] || fail "replay: auto picks '$replay', expected fakechroot"
    # The reason is said, with the sysctl that explains it in the simulation.
    assert_file_has_content "$TEST_TMP/text" '^user namespaces +no: .+'
    assert_file_has_content "$TEST_TMP/text" '^run: auto picks hook because user namespaces are unavailable'
    if [[ $CORDON_TIER == nouserns ]]; then
        assert_file_has_content "$TEST_TMP/text" 'max_user_namespaces is 0'
    fi
fi

# The JSON carries the same picks and a yes/no for each capability.
assert_status 0 "$CORDON" doctor --json
jq -e . "$TEST_TMP/out" >/dev/null || fail "doctor --json is not JSON"
[[ $(jq -r .run.backend "$TEST_TMP/out") == "$run" ]] || fail "--json's run pick differs"
[[ $(jq -r .replay.backend "$TEST_TMP/out") == "$replay" ]] || fail "--json's replay pick differs"
for key in user_namespaces landlock seccomp_unotify unotify_sync_wake_up ptrace fakechroot; do
    [[ $(jq -r ".$key.available | type" "$TEST_TMP/out") == boolean ]] ||
        fail "--json lacks $key.available"
done
[[ $(jq -r '.user_namespaces.available' "$TEST_TMP/out") == "$([[ $userns == yes ]] && echo true || echo false)" ]] ||
    fail "--json's user_namespaces.available disagrees with the tier"
[[ $(jq -r '.run.why | length > 0' "$TEST_TMP/out") == true ]] || fail "--json's run has no why"
if [[ $(jq -r .landlock.available "$TEST_TMP/out") == true ]]; then
    [[ $(jq -r .landlock.abi "$TEST_TMP/out") -ge 1 ]] || fail "landlock available with ABI 0"
fi

# Usage errors.
assert_status 125 "$CORDON" doctor --bogus
assert_file_has_content "$TEST_TMP/err" "unknown option '--bogus'"
assert_status 125 "$CORDON" doctor extra
assert_file_has_content "$TEST_TMP/err" "unexpected argument 'extra'"
assert_status 0 "$CORDON" doctor --help
assert_file_has_content "$TEST_TMP/out" '^Usage: cordon doctor \[--json\]'
