#!/bin/bash
# The complete path: a statically linked program runs without the hook, so
# `cordon record --complete=auto` (the default) watches it through seccomp
# user notification: its reads and writes reach the manifest, and coverage
# names it as seccomp-observed instead of an unobserved static-exec. With
# --complete=never it is a static-exec gap and its input is unknown. Its
# io_uring is refused (ENOSYS), so it falls back to calls that are seen.
# tiers: self nobody nouserns
set -euo pipefail
source "$(dirname "$0")/lib.sh"

BUSYBOX=$(command -v busybox || true)
[[ -n $BUSYBOX ]] || skip "busybox is not installed (apt-get install busybox-static)"
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' ||
    skip "'$BUSYBOX' is not statically linked (apt-get install busybox-static)"

echo 'static input' >input.txt
assert_status 0 "$CORDON" record -q -o auto.json -- \
    "$BUSYBOX" sh -c "$BUSYBOX cat input.txt > out.txt"
assert_file_has_content out.txt 'static input'
if grep -q '"kind": "seccomp-unavailable"' auto.json; then
    skip "this kernel has no seccomp user notification"
fi
json_get() { # FILE PYTHON-EXPR over m
    python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print($2)" "$1"
}
# input.txt was read, out.txt written; the program is seen, not a gap.
[[ $(json_get auto.json "[i['uses'] for i in m['inputs'] if i['path']=='$TEST_TMP/input.txt']") == "[['read']]" ]] ||
    fail "input.txt is not a read input under --complete=auto"
[[ $(json_get auto.json "[o['path'] for o in m['outputs']]") == *"'$TEST_TMP/out.txt'"* ]] ||
    fail "out.txt is not an output under --complete=auto"
[[ $(json_get auto.json "sorted({g['kind'] for g in m['coverage']['gaps']})") == "['seccomp-observed']" ]] ||
    fail "expected only seccomp-observed gaps: $(json_get auto.json "m['coverage']")"

# never: today's behaviour, the program is a gap and its input unknown.
rm -f out.txt
assert_status 0 "$CORDON" record -q --complete=never -o never.json -- \
    "$BUSYBOX" sh -c "$BUSYBOX cat input.txt > out.txt"
assert_file_has_content never.json '"kind": "static-exec"'
assert_not_file_has_content never.json "\"path\": \"$TEST_TMP/input.txt\""
assert_not_file_has_content never.json '"seccomp-observed"'

# A static program reached through a dynamic one (the hook's exec wrapper
# installs the filter) and a bad value.
rm -f out.txt
assert_status 0 "$CORDON" record -q -o dyn.json -- \
    sh -c "exec $BUSYBOX cat input.txt > out.txt"
[[ $(json_get dyn.json "[i['uses'] for i in m['inputs'] if i['path']=='$TEST_TMP/input.txt']") == "[['read']]" ]] ||
    fail "input.txt is not a read input when a hooked shell execs the static program"
assert_file_has_content dyn.json '"kind": "seccomp-observed"'
assert_status 125 "$CORDON" record -q --complete=sometimes -- true

# always: the whole tree is filtered from the command on; a dynamic shell's
# read is recorded (twice: hook and supervisor, merged per path).
rm -f out.txt
assert_status 0 "$CORDON" record -q --complete=always -o always.json -- \
    sh -c "cat input.txt > out.txt"
[[ $(json_get always.json "[i['uses'] for i in m['inputs'] if i['path']=='$TEST_TMP/input.txt']") == "[['read']]" ]] ||
    fail "input.txt is not a read input under --complete=always"
assert_file_has_content out.txt 'static input'

# io_uring: refused under the filter, the program falls back and is seen.
if cc -static -O -o uring "$(dirname "$0")/static-uring.c" 2>/dev/null; then
    echo 'ring data' >ring.txt
    "$CORDON" record -q -o uring.json -- ./uring ring.txt >uring.out
    assert_file_has_content uring.out '^fallback ENOSYS$'
    assert_file_has_content uring.out '^ring data$'
    [[ $(json_get uring.json "[i['uses'] for i in m['inputs'] if i['path']=='$TEST_TMP/ring.txt']") == "[['read']]" ]] ||
        fail "ring.txt is not a read input of the io_uring program"
else
    echo "no static libc: the io_uring part is not run" >&2
fi
