#!/bin/bash
# The hook records each wrapped libc family (tests/e2e/probes/*.c), success
# and failure, with absolute paths and errno, and changes nothing the
# program sees: each probe's stdout (results and errno) is byte-identical
# with and without the hook.
# Standalone: bash tests/e2e/hook-probes.sh BUILD_DIR (or CORDON_BUILD=...).
# tiers: self nobody
set -euo pipefail
: "${CORDON:=unused}" # lib.sh wants it; this test runs no cordon command
export CORDON
build=${1:-${CORDON_BUILD:-}}
[[ -z $build ]] || build=$(cd "$build" && pwd)
source "$(dirname "$0")/lib.sh"
[[ -n $build ]] || skip "no build dir: give it as \$1 or CORDON_BUILD"
hook=$(find "$build" -name libcordon-hook.so -path '*/cordon/*' -print -quit 2>/dev/null || true)
dump=${CORDON_TRACEDUMP:-$build/tests/cordon-tracedump}
probes=$build/tests/probes
[[ -n $hook && -f $hook ]] || skip "libcordon-hook.so is not built"
[[ -x $dump ]] || skip "cordon-tracedump is not built"
[[ -x $probes/open_probe ]] || skip "the probes are not built (target cordon-probes)"

# A fresh scratch dir with the files the probes expect.
scratch() {
    local d=$1
    rm -rf "$d"
    mkdir -p "$d/sub"
    echo hello >"$d/in.txt"
    echo a >"$d/sub/a.txt"
    echo cleared >"$d/env-cleared.txt"
    ln -s in.txt "$d/link"
}

# run NAME ARGS...: the probe without and with the hook; compare stdout;
# leave the decoded log in $TEST_TMP/NAME.trace and the scratch dir in $S.
run() {
    name=$1
    shift
    scratch "$TEST_TMP/plain-$name"
    scratch "$TEST_TMP/hooked-$name"
    (cd "$TEST_TMP/plain-$name" && CORDON_TEST_KNOB=on "$probes/${name}_probe" "$@") \
        >"$TEST_TMP/$name.plain" 2>/dev/null
    local log=$TEST_TMP/$name.log
    rm -f "$log"
    (cd "$TEST_TMP/hooked-$name" &&
        CORDON_TEST_KNOB=on CORDON_LOG=$log CORDON_HOOK=$hook LD_PRELOAD=$hook LD_AUDIT=$hook \
            "$probes/${name}_probe" "$@") >"$TEST_TMP/$name.hooked" 2>/dev/null
    if ! cmp -s "$TEST_TMP/$name.plain" "$TEST_TMP/$name.hooked"; then
        diff -u "$TEST_TMP/$name.plain" "$TEST_TMP/$name.hooked" >&2 || true
        fail "$name: stdout differs under the hook"
    fi
    "$dump" "$log" >"$TEST_TMP/$name.trace" || fail "$name: the log does not decode"
    S=$TEST_TMP/hooked-$name
    T=$TEST_TMP/$name.trace
    assert_file_has_content "$T" "^proc [0-9]+ 0 - $probes/${name}_probe -> $S arg="
}

# count REGEX: how many records of $T match.
count() { grep -cE -- "$1" "$T" || true; }

expect_count() {
    local n
    n=$(count "$2")
    [[ $n == "$1" ]] || {
        cat "$T" >&2
        fail "$name: $n records match /$2/, expected $1"
    }
}

P='[0-9]+' # a pid

log_step open
run open
assert_file_has_content "$T" "^open $P 0 - $S/sub arg=$((0x10000)) mode=40755"
expect_count 1 "^open $P 0 - $S/in.txt arg=0 mode=100644 size=6 "
assert_file_has_content "$T" "^open $P 2 - $S/missing.txt arg=0$"
assert_file_has_content "$T" "^open $P 0 - $S/sub/made.txt arg=577 mode=100644"
assert_file_has_content "$T" "^open $P 2 - $S/sub/nope arg=0$"
assert_file_has_content "$T" "^open $P 0 - $S/created.txt arg=577 mode=100600"
assert_file_has_content "$T" "^open $P 2 - $S/missing2.txt arg=0$"
assert_file_has_content "$T" "^open $P 0 - $S/written.txt arg=577 "
assert_file_has_content "$T" "^open $P 0 - $S/appended.txt arg=1090 "
assert_file_has_content "$T" "^open $P 0 - $S/tmp[A-Za-z0-9]{6} arg=194 mode=100600"
assert_file_has_content "$T" "^la-open $P 0 A /.*/libc.so.6 arg=0 mode=100"

log_step fortify
run fortify
nm "$probes/fortify_probe" | grep -q __open_2 || fail "fortify_probe does not call __open_2"
expect_count 1 "^open $P 0 - $S/in.txt arg=0 mode=100644"
assert_file_has_content "$T" "^open $P 2 - $S/fortify-missing arg=0$"

log_step stat
run stat
assert_file_has_content "$T" "^stat $P 0 - $S/in.txt arg=0 mode=100644 size=6 "
assert_file_has_content "$T" "^stat $P 2 - $S/st-missing arg=0$"
assert_file_has_content "$T" "^stat $P 0 - $S/link arg=1 mode=120777"
assert_file_has_content "$T" "^stat $P 0 - $S/in.txt arg=1 mode=100644"
assert_file_has_content "$T" "^stat $P 2 - $S/sx-missing arg=0$"
assert_file_has_content "$T" "^stat $P 2 - $S/ac-missing arg=0$"
assert_file_has_content "$T" "^readlink $P 0 - $S/link -> in.txt arg=0$"
assert_file_has_content "$T" "^readlink $P 2 - $S/rl-missing arg=0$"
assert_file_has_content "$T" "^stat $P 0 - $S/link arg=0$"
assert_file_has_content "$T" "^stat $P 2 - $S/rp-missing arg=0$"

log_step exec
run exec "$probes/static_probe"
assert_file_has_content "$T" "^fork $P 0 - - arg="
assert_file_has_content "$T" "^exec $P 0 - (/usr)?/bin/sh arg=0$"
assert_file_has_content "$T" "^argv $P 0 - sh -c cat in.txt >/dev/null chunk=0 argc=3 last=1"
assert_file_has_content "$T" "^exec $P 2 - $S/no-such-program arg=0$"
# execle with a scrubbed environment: the shell and its cat still record.
assert_file_has_content "$T" "^open $P 0 - $S/env-cleared.txt arg=0 "
assert_file_has_content "$T" "^exec $P 0 - $probes/static_probe arg=1$"
assert_file_has_content "$T" "^argv $P 0 - $probes/static_probe from-exec-probe chunk=0 argc=2"
assert_file_has_content "$T" "^wait $P 0 - - arg=0 child=$P"
assert_file_has_content "$T" "^wait $P 0 - - arg=$((127 << 8)) child=$P"
assert_file_has_content "$T" "^stat $P 2 - /.*/no-such-command-xyz arg=0$"

log_step spawn
run spawn "$probes/static_probe"
# A spawn's EXEC is the child's: the pid of the process that ran the program.
cat_pid=$(sed -nE 's,^proc ([0-9]+) 0 - (/usr)?/bin/cat .*,\1,p' "$T" | head -1)
[[ -n $cat_pid ]] || fail "no proc record for cat"
assert_file_has_content "$T" "^exec $cat_pid 0 - (/usr)?/bin/cat arg=0$"
assert_file_has_content "$T" "^exec $P 0 - $probes/static_probe arg=1$"
static_pid=$(sed -nE "s,^exec ([0-9]+) 0 - $probes/static_probe arg=1,\1,p" "$T")
spawner=$(sed -nE 's/^proc ([0-9]+) .*spawn_probe.*/\1/p' "$T")
[[ $static_pid != "$spawner" ]] || fail "the static child's exec is recorded under its parent"
assert_file_has_content "$T" "^argv $static_pid 0 - $probes/static_probe from-spawn-probe chunk=0 argc=2"
assert_file_has_content "$T" "^exec $P 0 - (/usr)?/bin/cat arg=0$"
assert_file_has_content "$T" "^exec $P 2 - /no/such/program arg=0$"
assert_file_has_content "$T" "^argv $P 0 - sh -c exit 3 chunk=0"
assert_file_has_content "$T" "^argv $P 0 - sh -c cat in.txt chunk=0"
expect_count 2 "^open $P 0 - $S/in.txt arg=0 "

log_step vfork
run vfork
parent=$(sed -nE 's/^proc ([0-9]+) .*vfork_probe.*/\1/p' "$T")
[[ -n $parent ]] || fail "no proc record for vfork_probe"
assert_file_has_content "$T" "^exec $P 0 - /bin/cat arg=0$"
child_exec=$(sed -nE 's,^exec ([0-9]+) 0 - /bin/cat .*,\1,p' "$T")
[[ $child_exec != "$parent" ]] || fail "the vfork child's exec was recorded under the parent's pid"
# The child's stat does not hide the parent's (the child must not write
# the shared de-duplication table).
expect_count 2 "^stat $P 2 - $S/vfork-child-stat arg=0$"
assert_file_has_content "$T" "^stat $parent 2 - $S/vfork-child-stat arg=0$"
assert_file_has_content "$T" "^chdir $P 0 - $S/sub arg=0"
assert_file_has_content "$T" "^stat $P 0 - $S/sub/a.txt arg=0 mode=100644"
assert_file_has_content "$T" "^stat $parent 0 - $S/in.txt arg=0 mode=100644"

log_step dir
run dir
assert_file_has_content "$T" "^list $P 0 - $S/sub arg=0 mode=40755"
assert_file_has_content "$T" "^list $P 2 - $S/no-dir arg=0$"
assert_file_has_content "$T" "^list $P 0 - $S arg=0"
# nftw(FTW_CHDIR) moved the cwd; the callback's relative open is still right.
assert_file_has_content "$T" "^open $P 0 - $S/sub/a.txt arg=0 "

log_step write
run write
assert_file_has_content "$T" "^mkdir $P 0 - $S/newdir arg=493$"
assert_file_has_content "$T" "^mkdir $P 17 - $S/newdir arg=493$"
assert_file_has_content "$T" "^rename $P 0 - $S/newdir/f -> $S/newdir/g arg=0$"
assert_file_has_content "$T" "^rename $P 2 - $S/newdir/f -> $S/newdir/h arg=0$"
assert_file_has_content "$T" "^link $P 0 - $S/newdir/g -> $S/newdir/hard arg=0$"
assert_file_has_content "$T" "^symlink $P 0 - g -> $S/newdir/soft arg=0$"
assert_file_has_content "$T" "^truncate $P 0 - $S/newdir/g arg=0$"
assert_file_has_content "$T" "^chmod $P 0 - $S/newdir/g arg=384$"
assert_file_has_content "$T" "^utime $P 0 - $S/newdir/g arg=0$"
expect_count 1 "^unlink $P 0 - $S/newdir/g arg=0$"
assert_file_has_content "$T" "^unlink $P 2 - $S/newdir/g arg=0$"
assert_file_has_content "$T" "^unlink $P 0 - $S/newdir/hard arg=0$"
assert_file_has_content "$T" "^rmdir $P 0 - $S/newdir arg=0$"

log_step env
run env
expect_count 1 "^getenv $P 0 - CORDON_TEST_KNOB -> on arg=1$"
expect_count 1 "^getenv $P 0 - CORDON_TEST_UNSET_KNOB arg=0$"

log_step dlopen
run dlopen "$probes/libdlopen_outer.so"
assert_file_has_content "$TEST_TMP/dlopen.hooked" "^outer_load = 42$"
assert_file_has_content "$T" "^la-open $P 0 A $probes/inner/libdlopen_inner.so arg=0 mode=100"
assert_file_has_content "$T" "^dlopen $P 0 - libm.so.6 -> /.*/libm.so.6 arg=0 mode=100"
assert_file_has_content "$T" "^dlopen $P 2 - /no/such/lib.so arg=0$"
assert_file_has_content "$T" "^la-open $P 0 A /.*/libm.so.6 arg=0 mode=100"

log_step threads
run threads
for i in 0 1 2 3; do
    expect_count 1 "^open $P 0 - $S/thread-$i arg=0 "
    expect_count 1 "^stat $P 0 - $S/thread-$i arg=0 "
done

log_step fd
run fd
assert_file_has_content "$T" "^open $P 0 - $S/in.txt arg=0 "
assert_file_has_content "$T" "^stat $P 2 - $S/after-dup2 arg=0$"

log "all probes recorded as expected"
