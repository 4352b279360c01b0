#!/bin/bash
# io_uring is refused (ENOSYS) in the whole recorded tree, not only under
# the complete path's filter for static programs: a dynamic program's ring
# opens its files in the kernel, where neither the hook nor the supervisor
# sees them. The program (static-uring.c, linked dynamically here) falls
# back to open/read, and its file is a read input. With --complete=never
# nothing is filtered: the hook's limits are documented, not hidden.
# tiers: self nobody nouserns
set -euo pipefail
source "$(dirname "$0")/lib.sh"

cc -O -o uring "$CORDON_SOURCE/tests/e2e/static-uring.c" 2>/dev/null || skip "no C compiler"
readelf -lW uring | grep -q INTERP || fail "the test program is not dynamically linked"
# Does this kernel give io_uring at all (it may be disabled by sysctl or a
# container's own filter)? Only then does refusing it mean anything.
echo 'ring data' >ring.txt
./uring ring.txt >plain.out
grep -qx io_uring plain.out || skip "io_uring is not available here: $(head -n1 plain.out)"

assert_status 0 "$CORDON" record -q -o auto.json -- ./uring ring.txt
cp out auto.out
assert_file_has_content auto.out '^fallback ENOSYS$'
assert_file_has_content auto.out '^ring data$'
python3 - "$TEST_TMP" <<'PY' || fail "ring.txt is not a read input of the dynamic io_uring program"
import json, sys
m = json.load(open("auto.json"))
uses = [i.get("uses") for i in m["inputs"] if i["path"] == sys.argv[1] + "/ring.txt"]
sys.exit(0 if uses == [["read"]] else 1)
PY
# The filter is inherited: a grandchild through a hooked shell is refused too.
assert_status 0 "$CORDON" record -q -o sh.json -- sh -c './uring ring.txt'
assert_file_has_content out '^fallback ENOSYS$'

assert_status 0 "$CORDON" record -q --complete=never -o never.json -- ./uring ring.txt
assert_file_has_content out '^io_uring$'
