#!/bin/bash
# Two static programs one after the other from a hooked shell: each gets its
# own filter and listener. The supervisor once judged a listener taken in the
# same poll round as an ended filter's hang-up by that stale hang-up, closed
# it at once, and the second program's exec failed with ENOSYS.
# tiers: self nobody nouserns
set -euo pipefail
source "$(dirname "$0")/lib.sh"

BUSYBOX=$(command -v busybox || true)
[[ -n $BUSYBOX ]] || skip "busybox is not installed (apt-get install busybox-static)"
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' ||
    skip "'$BUSYBOX' is not statically linked (apt-get install busybox-static)"

echo 'second input' >input.txt
for _ in 1 2 3; do
    assert_status 0 "$CORDON" record -q -o m.json -- \
        sh -c "$BUSYBOX true && $BUSYBOX true && $BUSYBOX cat input.txt > out.txt"
    grep -q '"kind": "seccomp-unavailable"' m.json && skip "this kernel has no seccomp user notification"
    assert_file_has_content out.txt '^second input$'
    assert_file_has_content m.json "\"path\": \"$TEST_TMP/input.txt\""
    rm -f out.txt
done
