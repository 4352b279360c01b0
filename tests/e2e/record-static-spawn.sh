#!/bin/bash
# The complete path through posix_spawn: glibc's posix_spawn clones and
# execs inside libc, so no exec wrapper runs in the child; the hook sends a
# static target through its cordon-exec trampoline (a dynamic helper whose
# hooked execve installs the seccomp filter). A program spawned with
# posix_spawn or posix_spawnp, or run by system() or popen(), is then
# observed like an exec'd one: its reads are inputs, coverage names it
# seccomp-observed (not static-exec), and its argv[0], its exit status and
# the spawn's own errors are what they would be without cordon.
# tiers: self nobody nouserns
set -euo pipefail
source "$(dirname "$0")/lib.sh"

BUSYBOX=$(command -v busybox || true)
[[ -n $BUSYBOX ]] || skip "busybox is not installed (apt-get install busybox-static)"
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' ||
    skip "'$BUSYBOX' is not statically linked (apt-get install busybox-static)"
PROBES=$CORDON_SOURCE/tests/e2e/probes
cc -O -o spawn_static "$PROBES/spawn_static.c"
cc -static -O -o spawn_target "$PROBES/spawn_target.c" 2>/dev/null ||
    skip "no static libc (apt-get install libc6-dev)"
file spawn_static | grep -q 'dynamically linked' || fail "spawn_static is not dynamic"

json_get() { # FILE PYTHON-EXPR over m
    python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print($2)" "$1"
}
# check NAME FILE: the manifest NAME.json lists FILE as read and names only
# seccomp-observed programs in its gaps.
check() {
    [[ $(json_get "$1.json" "[i['uses'] for i in m['inputs'] if i['path']=='$TEST_TMP/$2']") == "[['read']]" ]] ||
        fail "$1: $2 is not a read input: $(json_get "$1.json" "[i['path'] for i in m['inputs']]")"
    [[ $(json_get "$1.json" "sorted({g['kind'] for g in m['coverage']['gaps']})") == "['seccomp-observed']" ]] ||
        fail "$1: expected only seccomp-observed gaps: $(json_get "$1.json" "m['coverage']")"
}
# argv NAME EXE: the argv the manifest has for the process that ran EXE.
argv() {
    json_get "$1.json" "[p.get('argv') for p in m['processes'] if p.get('exe')=='$2']"
}

for f in spawn spawnp bbspawn bbspawnp system popen; do echo "line of $f" >"in-$f.txt"; done

log_step "posix_spawn of a static C program"
assert_status 0 "$CORDON" record -q -o spawn.json -- ./spawn_static spawn my-argv0 ./spawn_target in-spawn.txt 7
if grep -q '"kind": "seccomp-unavailable"' spawn.json; then
    skip "this kernel has no seccomp user notification"
fi
assert_file_has_content out '^target argv0=my-argv0$'
assert_file_has_content out '^target pgrp-leader=0$'
assert_file_has_content out '^target read: line of spawn$'
assert_file_has_content out '^spawn ./spawn_target: exit 7$'
check spawn in-spawn.txt
[[ $(argv spawn "$TEST_TMP/spawn_target") == "[['my-argv0', 'in-spawn.txt', '7']]" ]] ||
    fail "argv of the spawned program: $(argv spawn "$TEST_TMP/spawn_target")"
assert_not_file_has_content spawn.json 'cordon-exec'

log_step "file actions and attributes apply to the spawned program"
mkdir sub && echo 'line of fa' >sub/in-fa.txt
assert_status 0 "$CORDON" record -q -o fa.json -- \
    ./spawn_static spawn-fa sub fa.out fa-argv0 "$TEST_TMP/spawn_target" in-fa.txt 4
assert_file_has_content out "^spawn-fa $TEST_TMP/spawn_target: exit 4$"
assert_file_has_content sub/fa.out '^target argv0=fa-argv0$'
assert_file_has_content sub/fa.out '^target pgrp-leader=1$'
assert_file_has_content sub/fa.out '^target read: line of fa$'
check fa sub/in-fa.txt

log_step "posix_spawnp of a static C program, found on PATH"
assert_status 0 env PATH="$TEST_TMP:$PATH" "$CORDON" record -q -o spawnp.json -- \
    ./spawn_static spawnp other-argv0 spawn_target in-spawnp.txt 3
assert_file_has_content out '^target argv0=other-argv0$'
assert_file_has_content out '^spawnp spawn_target: exit 3$'
check spawnp in-spawnp.txt

log_step "busybox: its argv[0] picks the applet"
assert_status 0 "$CORDON" record -q -o bbspawn.json -- ./spawn_static spawn cat "$BUSYBOX" in-bbspawn.txt
assert_file_has_content out '^line of bbspawn$'
assert_file_has_content out "^spawn $BUSYBOX: exit 0$"
check bbspawn in-bbspawn.txt
assert_status 0 "$CORDON" record -q -o bbspawnp.json -- ./spawn_static spawnp cat busybox in-bbspawnp.txt
assert_file_has_content out '^line of bbspawnp$'
assert_file_has_content out '^spawnp busybox: exit 0$'
check bbspawnp in-bbspawnp.txt

log_step "system() and popen() (a hooked /bin/sh execs the static program)"
assert_status 0 "$CORDON" record -q -o system.json -- ./spawn_static system "./spawn_target in-system.txt 5"
assert_file_has_content out '^target read: line of system$'
assert_file_has_content out '^system: exit 5$'
check system in-system.txt
assert_status 0 "$CORDON" record -q -o popen.json -- ./spawn_static popen "$BUSYBOX cat in-popen.txt"
assert_file_has_content out '^popen read: line of popen$'
assert_file_has_content out '^popen: exit 0$'
check popen in-popen.txt

log_step "a program that cannot run is still the spawn's error"
cp spawn_target noexec && chmod a-x noexec
assert_status 0 "$CORDON" record -q -o missing.json -- sh -c \
    "./spawn_static spawn x ./no-such-program; ./spawn_static spawnp x no-such-program-$$;
     ./spawn_static spawn x ./noexec"
assert_file_has_content out '^spawn ./no-such-program: ENOENT$'
assert_file_has_content out "^spawnp no-such-program-$$: ENOENT$"
assert_file_has_content out '^spawn ./noexec: EACCES$'

log_step "--complete=never: the spawned program is a static-exec gap"
assert_status 0 "$CORDON" record -q --complete=never -o never.json -- ./spawn_static spawn my-argv0 ./spawn_target in-spawn.txt 7
assert_file_has_content out '^spawn ./spawn_target: exit 7$'
assert_file_has_content never.json '"kind": "static-exec"'
assert_not_file_has_content never.json '"seccomp-observed"'

log_step "--complete=always: the caller is filtered, the spawned program too"
assert_status 0 "$CORDON" record -q --complete=always -o always.json -- ./spawn_static spawn my-argv0 ./spawn_target in-spawn.txt 7
assert_file_has_content out '^spawn ./spawn_target: exit 7$'
check always in-spawn.txt

log_step "a hook without its trampoline beside it: the spawn works, the program is a gap"
HOOK=$(find "$CORDON_BUILD" -maxdepth 4 -name libcordon-hook.so -print -quit)
[[ -x $(dirname "$HOOK")/cordon-exec ]] || fail "no cordon-exec beside '$HOOK'"
mkdir lonely && cp "$HOOK" lonely/
assert_status 0 env CORDON_HOOK_LIBRARY="$TEST_TMP/lonely/libcordon-hook.so" \
    "$CORDON" record -q -o lonely.json -- ./spawn_static spawn my-argv0 ./spawn_target in-spawn.txt 7
assert_file_has_content out '^target argv0=my-argv0$'
assert_file_has_content out '^spawn ./spawn_target: exit 7$'
assert_file_has_content lonely.json '"kind": "static-exec"'
