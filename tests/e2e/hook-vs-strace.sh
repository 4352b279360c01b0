#!/bin/bash
# Completeness of the hook against strace: a small build (two C files
# compiled and linked with gcc, `sh -c 'cat x'`, a make of a tiny Makefile,
# `date`, whose zone file glibc reads out of the hook's sight)
# runs once under `strace -f` and once under the hook; every regular file a
# dynamically linked program opened successfully (strace's view, paths
# resolved by the kernel) must be in the hook's log, as an open, a loader
# open (LD_AUDIT) or a dlopen. What the kernel opens on exec (the program,
# its ELF interpreter) is left out: the hook sees those through EXEC/PROC.
# Standalone: bash tests/e2e/hook-vs-strace.sh BUILD_DIR (or CORDON_BUILD).
# tiers: self
set -euo pipefail
: "${CORDON:=unused}" # lib.sh wants it; this test runs no cordon command
export CORDON
build=${1:-${CORDON_BUILD:-}}
[[ -z $build ]] || build=$(cd "$build" && pwd)
source "$(dirname "$0")/lib.sh"
[[ -n $build ]] || skip "no build dir: give it as \$1 or CORDON_BUILD"
hook=$(find "$build" -name libcordon-hook.so -path '*/cordon/*' -print -quit 2>/dev/null || true)
dump=${CORDON_TRACEDUMP:-$build/tests/cordon-tracedump}
[[ -n $hook && -f $hook ]] || skip "libcordon-hook.so is not built"
[[ -x $dump ]] || skip "cordon-tracedump is not built"
for tool in strace gcc make readelf realpath; do
    command -v $tool >/dev/null || skip "no $tool"
done
strace -f -o /dev/null true 2>/dev/null || skip "strace cannot trace here (ptrace refused)"

W=$TEST_TMP/work
mkdir -p "$W/sub"
cat >"$W/a.c" <<'EOF'
#include <stdio.h>
#include "a.h"
int b(void);
int main(void) { printf("%d\n", A + b()); return 0; }
EOF
echo '#define A 1' >"$W/a.h"
cat >"$W/b.c" <<'EOF'
#include <string.h>
int b(void) { return (int)strlen("bb"); }
EOF
echo 'x marks the spot' >"$W/x"
printf 'int c(void) { return 3; }\n' >"$W/sub/c.c"
printf 'c.o: c.c\n\t$(CC) -c c.c -o c.o\n' >"$W/sub/Makefile"
cat >"$W/build.sh" <<'EOF'
set -e
gcc -c a.c -o a.o
gcc -c b.c -o b.o
gcc a.o b.o -o prog
sh -c 'cat x' >/dev/null
make -s -C sub
date >/dev/null
EOF
clean() { rm -f "$W"/*.o "$W/prog" "$W/sub/c.o"; }

log_step "build under strace"
clean
(cd "$W" && strace -f -qq -y -e trace=%file,%process -o "$TEST_TMP/strace.log" sh build.sh)
log_step "build under the hook"
clean
rm -f "$TEST_TMP/hook.log"
(cd "$W" && CORDON_LOG=$TEST_TMP/hook.log CORDON_HOOK=$hook LD_PRELOAD=$hook LD_AUDIT=$hook \
    sh build.sh)
"$dump" "$TEST_TMP/hook.log" >"$TEST_TMP/hook.trace"

# Keep regular files outside /proc, /sys and /dev, by real path.
regular() {
    while IFS= read -r p; do
        r=$(realpath -e -- "$p" 2>/dev/null) || continue
        [[ -f $r ]] || continue
        case $r in /proc/* | /sys/* | /dev/*) continue ;; esac
        printf '%s\n' "$r"
    done | sort -u
}

# strace: per pid, the program it runs now; its successful opens count if
# that program is dynamically linked.
awk '
    { pid = $1 }
    /execve\(/ && / = 0$/ {
        if (match($0, /execve\("[^"]*"/)) exe[pid] = substr($0, RSTART + 8, RLENGTH - 9)
    }
    /<\.\.\. execve resumed>.* = 0$/ { if (pid in pending) exe[pid] = pending[pid] }
    /execve\(".*<unfinished/ {
        if (match($0, /execve\("[^"]*"/)) pending[pid] = substr($0, RSTART + 8, RLENGTH - 9)
    }
    /(open|openat|openat2|creat)\(/ && / = [0-9]+</ {
        if (match($0, / = [0-9]+<[^>]*>$/)) {
            s = substr($0, RSTART, RLENGTH)
            sub(/^ = [0-9]+</, "", s); sub(/>$/, "", s)
            print (pid in exe ? exe[pid] : "-") "\t" s
        }
    }' "$TEST_TMP/strace.log" >"$TEST_TMP/strace.opens"

declare -A static_exe=()
cut -f1 "$TEST_TMP/strace.opens" | sort -u | while IFS= read -r exe; do
    [[ $exe == - ]] && continue
    if ! readelf -l "$exe" 2>/dev/null | grep -q 'program interpreter'; then
        printf '%s\n' "$exe"
    fi
done >"$TEST_TMP/static.list"
while IFS= read -r exe; do static_exe[$exe]=1; done <"$TEST_TMP/static.list"
while IFS=$'\t' read -r exe path; do
    [[ -n ${static_exe[$exe]:-} ]] && continue
    printf '%s\n' "$path"
done <"$TEST_TMP/strace.opens" | regular >"$TEST_TMP/strace.files"

# the hook: opens, loader opens and dlopens that succeeded.
awk '($1 == "open" || $1 == "la-open") && $3 == 0 { print $5 }
     $1 == "dlopen" && $3 == 0 && $6 == "->" { print $7 }' "$TEST_TMP/hook.trace" |
    regular >"$TEST_TMP/hook.files"

missed=$(comm -23 "$TEST_TMP/strace.files" "$TEST_TMP/hook.files")
extra=$(comm -13 "$TEST_TMP/strace.files" "$TEST_TMP/hook.files")
log "strace saw $(wc -l <"$TEST_TMP/strace.files") files, the hook $(wc -l <"$TEST_TMP/hook.files")"
[[ -z $extra ]] || log "only the hook saw (opened by paths strace resolved differently, or raced):" \
    "$(printf '\n  %s' $extra)"
if [[ -n $missed ]]; then
    log "opened by a dynamic program but not in the hook's log:$(printf '\n  %s' $missed)"
    fail "the hook missed $(wc -l <<<"$missed") files"
fi
log "the hook saw every file strace saw"
