#!/bin/bash
# --complete=always puts every process under the seccomp filter, and the
# hook's own calls pass it without a round trip to the supervisor: the hook
# makes them from its page (recorder/hook/direct.c), which the filter lets
# through. What the programs see does not change: each probe's stdout is
# byte-identical without cordon and under `record --complete=always`. The
# hook records what it did itself (no supervisor record of the same call);
# a raw system call, past libc, is still the supervisor's; the hook's own
# bookkeeping (its readlink of /proc/self/exe) is no input of the build.
# tiers: self nobody nouserns
set -euo pipefail
source "$(dirname "$0")/lib.sh"

build=${CORDON_BUILD:-}
[[ -n $build ]] || skip "CORDON_BUILD is not set"
probes=$build/tests/probes
dump=${CORDON_TRACEDUMP:-$build/tests/cordon-tracedump}
[[ -x $probes/fastlane_probe ]] || skip "the probes are not built (target cordon-probes)"
[[ -x $dump ]] || skip "cordon-tracedump is not built"

scratch() {
    rm -rf "$1"
    mkdir -p "$1/sub"
    echo hello >"$1/in.txt"
    echo a >"$1/sub/a.txt"
    echo raw >"$1/raw.txt"
    ln -s in.txt "$1/link"
}

# run NAME: the probe plain and recorded; stdout compared; the decoded log
# in $T, the manifest in $M, the recorded scratch dir in $S.
run() {
    local name=$1
    scratch "$TEST_TMP/plain-$name"
    scratch "$TEST_TMP/rec-$name"
    (cd "$TEST_TMP/plain-$name" && "$probes/${name}_probe") >"$TEST_TMP/$name.plain" 2>/dev/null
    M=$TEST_TMP/$name.json
    (cd "$TEST_TMP/rec-$name" &&
        "$CORDON" record -q --keep-log --complete=always -o "$M" -- "$probes/${name}_probe") \
        >"$TEST_TMP/$name.rec" 2>"$TEST_TMP/$name.err" || fail "$name: record failed: $(cat "$TEST_TMP/$name.err")"
    if grep -q '"kind": "seccomp-unavailable"' "$M"; then
        skip "this kernel has no seccomp user notification"
    fi
    if ! cmp -s "$TEST_TMP/$name.plain" "$TEST_TMP/$name.rec"; then
        diff -u "$TEST_TMP/$name.plain" "$TEST_TMP/$name.rec" >&2 || true
        fail "$name: stdout differs under record --complete=always"
    fi
    T=$TEST_TMP/$name.trace
    "$dump" "$M.log" >"$T" || fail "$name: the log does not decode"
    S=$TEST_TMP/rec-$name
}

for p in open stat dir write fortify; do
    log_step "$p"
    run "$p"
done

log_step fastlane
run fastlane
P='[0-9]+'
[[ $(grep -c . "$TEST_TMP/fastlane.plain") -gt 40 ]] || fail "the probe stopped early"
# The raw openat: only the supervisor saw it, and it is an input.
assert_file_has_content "$T" "^open $P 0 S $S/raw.txt "
python3 - "$M" "$S" <<'PY' || fail "raw.txt is not a read input"
import json, sys
m = json.load(open(sys.argv[1]))
uses = [i["uses"] for i in m["inputs"] if i["path"] == sys.argv[2] + "/raw.txt"]
sys.exit(0 if uses == [["read"]] else 1)
PY
if [[ $(uname -m) == x86_64 ]]; then
    # The fopen calls and the stat, made by the hook itself: one record each,
    # none from the supervisor.
    assert_file_has_content "$T" "^open $P 0 - $S/made.txt arg=577 "
    assert_not_file_has_content "$T" "^[a-z]+ $P [0-9]+ S $S/(made|in|d)\.txt"
    assert_not_file_has_content "$T" "^[a-z]+ $P [0-9]+ S $S/sub"
    # The hook's own readlink of /proc/self/exe is not the program's.
    assert_not_file_has_content "$M" '"path": "/proc/[0-9]+/exe"'
fi
