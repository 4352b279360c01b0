#!/bin/bash
# An observed (static) program that opens a new file O_RDWR|O_CREAT creates
# it: it reads nothing. The supervisor once recorded that open as a read
# without looking, so the new file became an input read before it existed
# (changed, unhashed) and `cordon pack` refused the manifest. Go's build
# cache writes every entry so. busybox's `1<>file` is that open.
# tiers: self nobody nouserns
set -euo pipefail
source "$(dirname "$0")/lib.sh"

BUSYBOX=$(command -v busybox || true)
[[ -n $BUSYBOX ]] || skip "busybox is not installed (apt-get install busybox-static)"
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' ||
    skip "'$BUSYBOX' is not statically linked (apt-get install busybox-static)"

echo old >old.txt
assert_status 0 "$CORDON" record -q -o m.json -- \
    "$BUSYBOX" sh -c 'echo new 1<>new.txt; echo more 1<>old.txt; cat new.txt old.txt >/dev/null'
grep -q '"kind": "seccomp-unavailable"' m.json && skip "this kernel has no seccomp user notification"
python3 - "$TEST_TMP" <<'PY' || fail "wrong inputs: $(cat m.json)"
import json, sys
m = json.load(open("m.json"))
ins = {i["path"]: i for i in m["inputs"]}
outs = {o["path"] for o in m["outputs"]}
t = sys.argv[1]
assert t + "/new.txt" not in ins, "new.txt is an input"
assert t + "/new.txt" in outs, "new.txt is not an output"
# old.txt existed: the read-write open read it first
assert "read" in ins[t + "/old.txt"]["uses"], "old.txt is not read"
assert "unhashed" not in ins[t + "/old.txt"].get("flags", []), "old.txt is unhashed"
PY
assert_status 0 "$CORDON" pack m.json -o root.tar --format tar --quiet
