#!/bin/bash
# `cordon record` sees the dynamic loader through an LD_AUDIT module of its
# own, libcordon-audit.so, which has no libc: a process of the build maps
# one libc, as it would without cordon, and the loader's searches and loads
# are still in the manifest. A program that drops LD_AUDIT from its
# children's environment gets the module put back. The recorder's own
# files are never inputs of the build, even when the complete path sees the
# loader open them. A library with a large initial-exec TLS block (rustc's
# driver has 23 KiB), which an audit module would leave no room for, loads
# under record as it does without it, after `env -i` too. A program the
# loader cannot start (its library is gone) is recorded with the places the
# loader looked for it.
# tiers: self nobody nouserns
set -euo pipefail
source "$(dirname "$0")/lib.sh"

libc_maps='grep -c "/libc\.so\.6$" /proc/self/maps'
native=$(sh -c "$libc_maps")
assert_status 0 "$CORDON" record -q -o m.json -- sh -c "$libc_maps"
[[ $(cat "$TEST_TMP/out") == "$native" ]] ||
    fail "libc is mapped $(cat "$TEST_TMP/out") times under record, $native without"

json() { python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print($2)" "$1"; }
uses=$(json m.json "sorted({u for i in m['inputs'] if i['path'].endswith('/libc.so.6') for u in i['uses']})")
[[ $uses == *"'load'"* && $uses == *"'search'"* ]] ||
    fail "libc.so.6 is not recorded as searched and loaded: $uses"

# Dropped by a program, put back at its next exec.
assert_status 0 "$CORDON" record -q -o dropped.json -- env -u LD_AUDIT sh -c 'echo "$LD_AUDIT"'
assert_file_has_content "$TEST_TMP/out" '/libcordon-audit\.so$'

# Not an input: the hook, the module, the trampoline.
for mode in auto always; do
    assert_status 0 "$CORDON" record -q --complete=$mode -o $mode.json -- sh -c 'cat /etc/hostname >/dev/null'
    mine=$(json $mode.json "[i['path'] for i in m['inputs'] if '/libcordon-' in i['path'] or i['path'].endswith('/cordon-exec')]")
    [[ $mine == "[]" ]] || fail "--complete=$mode: the recorder's own files are inputs: $mine"
done

# A 24 KiB initial-exec TLS block in a library the program needs.
if command -v cc >/dev/null; then
    cat >bigtls.c <<'C'
__attribute__((tls_model("initial-exec"))) __thread char big[24576];
int bigtls(void) { big[100] = 7; return big[100]; }
C
    printf 'int bigtls(void);\nint main(void) { return bigtls() == 7 ? 0 : 1; }\n' >main.c
    cc -shared -fPIC -o libbigtls.so bigtls.c && cc -o bigmain main.c -L. -lbigtls -Wl,-rpath,"$TEST_TMP"
    ./bigmain || fail "the big-TLS program fails without cordon"
    assert_status 0 "$CORDON" record -q -o tls.json -- ./bigmain
    assert_status 0 "$CORDON" record -q -o tls-envi.json -- sh -c 'env -i ./bigmain'
fi

# The library is gone: the loader ends the program (127) inside its search,
# and that search is the recording.
if command -v cc >/dev/null; then
    printf 'int gone(void) { return 0; }\n' >gone.c
    printf 'int gone(void);\nint main(void) { return gone(); }\n' >needs.c
    mkdir -p gonedir
    cc -shared -fPIC -o gonedir/libgone.so gone.c &&
        cc -o needsgone needs.c -Lgonedir -lgone -Wl,-rpath,"$TEST_TMP/gonedir"
    ./needsgone || fail "the program does not run while its library is there"
    rm gonedir/libgone.so
    assert_status 127 "$CORDON" record -q -o gone.json -- ./needsgone
    probes=$(json gone.json "[i['uses'] for i in m['inputs'] if i['path']=='$TEST_TMP/gonedir/libgone.so' and i['type']=='missing']")
    [[ $probes == "[['probe']]" ]] || fail "the loader's search for libgone.so is not recorded: $probes"
fi
