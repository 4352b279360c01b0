#!/bin/bash
# cordon import --from strace against cordon record on the same small C build
# (cc + ar, a few headers): a real `strace -f -tt -y -s 256 -o LOG` of the
# build, imported, must list the same files read and executed as the
# recording, compared by real path (strace -y names some files by the
# kernel's path, /usr/lib/..., where the hook saw /lib/...). What strace
# cannot know and the test leaves out: the kernel's virtual files (/proc,
# /sys, /dev). Then show, verify (nothing changed: exit 0), report and diff
# work on the imported manifest, and -ff logs (a directory, or the prefix of
# LOG.PID files) import to the same inputs.
# tiers: self nobody
set -euo pipefail
source "$(dirname "$0")/lib.sh"

for tool in strace cc ar python3; do
    command -v $tool >/dev/null || skip "no $tool"
done
strace -f -o /dev/null true 2>/dev/null || skip "strace cannot trace here (ptrace refused)"

W=$TEST_TMP/work
mkdir -p "$W/inc"
cat >"$W/a.c" <<'EOF'
#include "inc/a.h"
#include "common.h"
int a(void) { return A + COMMON; }
EOF
cat >"$W/b.c" <<'EOF'
#include <string.h>
#include "common.h"
int b(void) { return (int)strlen("bb") + COMMON; }
EOF
cat >"$W/main.c" <<'EOF'
#include <stdio.h>
#include "inc/a.h"
int a(void);
int b(void);
int main(void) { printf("%d\n", a() + b()); return 0; }
EOF
echo '#define A 1' >"$W/inc/a.h"
echo '#define COMMON 2' >"$W/common.h"
cat >"$W/build.sh" <<'EOF'
set -e
cc -c a.c -o a.o
cc -c b.c -o b.o
ar rcs libab.a a.o b.o
cc main.c libab.a -o prog
./prog >out.txt
EOF
clean() { rm -f "$W"/*.o "$W/libab.a" "$W/prog" "$W/out.txt"; }

log_step "the build under strace"
clean
(cd "$W" && strace -f -tt -y -s 256 -o "$TEST_TMP/build.strace" sh build.sh)
log_step "the build under cordon record"
clean
(cd "$W" && assert_status 0 "$CORDON" record -q -o "$TEST_TMP/rec.json" -- sh build.sh)

log_step "import"
assert_status 0 "$CORDON" import --from strace -o imp.json build.strace
assert_file_has_content err "imported [0-9]+ inputs .* from strace log"
assert_file_has_content imp.json '"kind": "imported"'
assert_file_has_content imp.json "\"path\": \"$W/inc/a.h\""

# The files read or executed (or loaded), by real path, virtual files left out.
files() {
    python3 - "$1" <<'PY'
import json, os, sys
m = json.load(open(sys.argv[1]))
out = set()
for i in m["inputs"]:
    if not set(i["uses"]) & {"read", "exec", "load"}:
        continue
    p = os.path.realpath(i["path"])
    if p.split("/")[1] in ("proc", "sys", "dev"):
        continue
    out.add(p)
print("\n".join(sorted(out)))
PY
}
files rec.json >rec.files
files imp.json >imp.files
log "record read or executed $(wc -l <rec.files) files, the import $(wc -l <imp.files)"
if ! diff -u rec.files imp.files >files.diff; then
    cat files.diff >&2
    fail "the imported input set differs from the recorded one"
fi
grep -qx "$W/common.h" imp.files || fail "common.h is not among the imported inputs"
grep -q '/cc1$' imp.files || fail "cc1 is not among the imported inputs"

log_step "show, verify, report and diff on the imported manifest"
assert_status 0 "$CORDON" show imp.json
assert_file_has_content out "^inputs: [0-9]+"
assert_status 0 "$CORDON" verify imp.json
assert_file_has_content out "^no differences"
echo '#define COMMON 3' >"$W/common.h"
assert_status 1 "$CORDON" verify imp.json
assert_file_has_content out "common.h"
echo '#define COMMON 2' >"$W/common.h"
if "$CORDON" report --help >/dev/null 2>&1; then
    code=0
    "$CORDON" report imp.json >report.txt 2>&1 || code=$?
    [[ $code == 0 || $code == 1 ]] || fail "cordon report exited $code"
fi
code=0
"$CORDON" diff rec.json imp.json >diff.txt 2>&1 || code=$?
[[ $code == 0 || $code == 1 ]] || fail "cordon diff exited $code"
# Both name the work tree's files alike (the import takes the traced cwd as
# its work tree); diff pairs them, so none is "read by A only".
assert_not_file_has_content diff.txt "$W/.*(read|executed|loaded) by [AB] only"

log_step "strace -ff: a directory, and the LOG.PID prefix"
clean
mkdir ff
(cd "$W" && strace -ff -tt -y -s 256 -o "$TEST_TMP/ff/trace" sh build.sh)
assert_status 0 "$CORDON" import -q --from strace -o ff-dir.json ff
assert_status 0 "$CORDON" import -q --from strace -o ff-prefix.json ff/trace
files ff-dir.json >ff-dir.files
files ff-prefix.json >ff-prefix.files
diff -u rec.files ff-dir.files >&2 || fail "the -ff import (directory) differs from the recording"
diff -u ff-dir.files ff-prefix.files >&2 || fail "the -ff import (prefix) differs from the directory's"

log_step "bad input names the file and line"
printf '100 openat(AT_FDCWD, "/etc/hosts", O_RDONLY) = 3\n100 openat(AT_FDCWD, "/etc/pass\n' >bad.strace
assert_status 0 "$CORDON" import --from strace -o bad.json bad.strace
assert_file_has_content err "bad.strace:2: unterminated string"
printf 'hello\n100 openat(AT_FDCWD, "/etc/pass\n' >junk.strace
assert_status 125 "$CORDON" import --from strace -o junk.json junk.strace
assert_file_has_content err "junk.strace:1:.*not an strace log"
assert_not_file_exists junk.json
assert_status 125 "$CORDON" import --from nosuch -o x.json bad.strace
assert_status 125 "$CORDON" import --from strace -o x.json nonexistent.strace
assert_file_has_content err "nonexistent.strace"
