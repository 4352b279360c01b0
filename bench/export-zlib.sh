#!/bin/bash
# export-zlib.sh: issue 19's "the exported bwrap script runs zlib's build and
# hides a file the manifest does not list", on zlib's Debian source
# (`./configure --prefix=W/prefix && make -j2 && make install`).
#
#   bench/export-zlib.sh [--dir W] [--keep] [--collapse]
#
#  1. record the build in W/zlib (a copy of the source) with HOME=W/home;
#  2. `cordon export --to bwrap` of the manifest (with --collapse if asked);
#  3. plant files the manifest cannot list: W/home/.gitconfig,
#     /var/tmp/cordon-export-zlib.secret and, as root,
#     /usr/include/cordon-export-secret.h beside zlib's own headers and
#     /etc/cordon-export-secret; check they are readable outside;
#  4. run the script in a fresh copy of the source (CORDON_WORKTREE=W/fresh)
#     with W/prefix emptied: the build must pass and install libz.a,
#     libz.so, zlib.h, zconf.h and zlib.pc; compare them with the recorded
#     build's (cmp);
#  5. inside the same sandbox, each planted file must be absent, and the
#     inputs the build read present;
#  6. the same with the exported Landlock program (compiled with -Wall
#     -Werror) in another fresh copy: the build passes and the planted
#     files are refused (EACCES) while an input is readable (SKIP where the
#     kernel has no Landlock);
#  7. a summary: PASS/FAIL per check, times; exit 1 on any FAIL.
#
# The cordon used is $CORDON, else build/bin/cordon beside bench/. The source
# is the bench's copy under bench/work/src/zlib-*/ (see bench/run.sh and
# bench/zlib-acceptance.sh, which fetch it with apt-get source). W defaults
# to /tmp/cordon-export-zlib; it is emptied first and removed at the end
# unless --keep is given or a check failed. The planted files are removed on
# exit.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
W=/tmp/cordon-export-zlib
keep=0
collapse=()
while (($#)); do
    case $1 in
    --dir)
        W=${2:?--dir needs a directory}
        shift
        ;;
    --keep) keep=1 ;;
    --collapse) collapse=(--collapse) ;;
    -h | --help)
        sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
        exit 0
        ;;
    *)
        echo "export-zlib.sh: unknown argument '$1'" >&2
        exit 2
        ;;
    esac
    shift
done

CORDON=${CORDON:-$repo/build/bin/cordon}
[[ -x $CORDON ]] || {
    echo "export-zlib.sh: no cordon at '$CORDON' (set CORDON)" >&2
    exit 2
}
CORDON=$(realpath "$CORDON")
command -v bwrap >/dev/null || {
    echo "export-zlib.sh: bubblewrap is needed" >&2
    exit 2
}

SRC=
for d in "$repo"/bench/work/src/zlib-*/ "$repo"/bench/work/zlib-src/zlib-*/; do
    if [[ -f $d/configure && -f $d/Makefile.in ]]; then
        SRC=${d%/}
        break
    fi
done
[[ -n $SRC ]] || {
    echo "export-zlib.sh: no zlib source under bench/work (bench/zlib-acceptance.sh fetches it)" >&2
    exit 2
}

step() { printf '\n== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }
declare -a SUMMARY=()
failed=0
result() { # STATUS CHECK DETAILS
    SUMMARY+=("$(printf '%-4s  %-40s %s' "$1" "$2" "$3")")
    printf '   -> %s: %s (%s)\n' "$1" "$2" "$3"
    [[ $1 != FAIL ]] || failed=$((failed + 1))
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

planted=("$W/home/.gitconfig" /var/tmp/cordon-export-zlib.secret)
if ((EUID == 0)); then
    planted+=(/usr/include/cordon-export-secret.h /etc/cordon-export-secret)
fi
cleanup() {
    local f
    for f in "${planted[@]:1}"; do rm -f -- "$f"; done
}
trap cleanup EXIT

chmod -R u+w "$W" 2>/dev/null || true
rm -rf -- "$W"
mkdir -p "$W/home"
cp -a "$SRC" "$W/zlib"
cp -a "$SRC" "$W/fresh"
export HOME=$W/home
build="./configure --prefix=$W/prefix && make -j2 && make install"

step "record (cordon $("$CORDON" --version 2>/dev/null | head -1), zlib from $SRC)"
t0=$(now)
(cd "$W/zlib" && "$CORDON" record -q -o "$W/m.json" -- sh -c "$build") >"$W/record.log" 2>&1 ||
    {
        tail "$W/record.log"
        result FAIL "record" "see $W/record.log"
    }
t1=$(now)
inputs=$(jq '[.inputs[] | select(.type != "missing")] | length' "$W/m.json")
note "manifest: $inputs inputs present, $(jq '.outputs | length' "$W/m.json") outputs, in $(secs "$t0" "$t1") s"
for f in libz.a zlib.h zconf.h; do
    cp "$W/prefix/$([[ $f == *.h ]] && echo include || echo lib)/$f" "$W/recorded-$f"
done

step "export"
t0=$(now)
"$CORDON" export --to bwrap "${collapse[@]}" -o "$W/build.sh" "$W/m.json"
t1=$(now)
binds=$(grep -c -- '--ro-bind ' "$W/build.sh" || true)
links=$(grep -c -- '--symlink ' "$W/build.sh" || true)
note "script: $(wc -l <"$W/build.sh") lines, $binds read-only binds, $links symlinks, in $(secs "$t0" "$t1") s"
result PASS "export" "$binds ro-binds, $links symlinks"

step "plant files the manifest does not list"
for f in "${planted[@]}"; do
    echo "planted by export-zlib.sh" >"$f"
done
visible=0
for f in "${planted[@]}"; do [[ -r $f ]] && visible=$((visible + 1)); done
listed=$(jq -r '.inputs[].path' "$W/m.json" | grep -cxF -f <(printf '%s\n' "${planted[@]}") || true)
if ((listed)); then
    result FAIL "planted files not in the manifest" "the manifest names one"
else
    result PASS "planted files not in the manifest" "$visible of ${#planted[@]} readable outside"
fi

step "the script builds zlib in a fresh copy of the source"
rm -rf -- "$W/prefix"
t0=$(now)
if CORDON_WORKTREE=$W/fresh "$W/build.sh" >"$W/bwrap-build.log" 2>&1; then
    t1=$(now)
    missing=()
    for f in lib/libz.a lib/libz.so include/zlib.h include/zconf.h lib/pkgconfig/zlib.pc; do
        [[ -s $W/prefix/$f ]] || missing+=("$f")
    done
    if ((${#missing[@]})); then
        result FAIL "zlib builds under bwrap" "not installed: ${missing[*]}"
    else
        result PASS "zlib builds under bwrap" "configure + make -j2 + install in $(secs "$t0" "$t1") s"
    fi
    same=()
    differ=()
    for f in libz.a zlib.h zconf.h; do
        p=$W/prefix/$([[ $f == *.h ]] && echo include || echo lib)/$f
        if cmp -s "$p" "$W/recorded-$f"; then same+=("$f"); else differ+=("$f"); fi
    done
    note "identical to the recorded build: ${same[*]:-none}; different: ${differ[*]:-none}"
else
    tail -20 "$W/bwrap-build.log"
    result FAIL "zlib builds under bwrap" "see $W/bwrap-build.log"
fi

step "inside, the planted files are absent and the inputs present"
# shellcheck disable=SC2016 # expanded by the sandbox's sh
probe='for f in "$@"; do if [ -e "$f" ]; then echo "present $f"; else echo "absent $f"; fi; done'
inside=$(CORDON_WORKTREE=$W/fresh "$W/build.sh" /bin/sh -c "$probe" sh "${planted[@]}" \
    /usr/include/stdio.h /usr/include/zlib.h "$W/zlib/zlib.h" 2>&1) || true
printf '%s\n' "$inside" | sed 's/^/   /'
leaked=0
hidden=0
for f in "${planted[@]}"; do
    if printf '%s\n' "$inside" | grep -qxF "absent $f"; then hidden=$((hidden + 1)); fi
    if printf '%s\n' "$inside" | grep -qxF "present $f"; then leaked=$((leaked + 1)); fi
done
if ((leaked == 0 && hidden == ${#planted[@]})); then
    result PASS "planted files hidden inside" "$hidden of ${#planted[@]} absent"
else
    result FAIL "planted files hidden inside" "$leaked visible, $hidden absent"
fi
if printf '%s\n' "$inside" | grep -q '^present /usr/include/stdio.h'; then
    result PASS "an input is visible inside" "/usr/include/stdio.h"
else
    result FAIL "an input is visible inside" "/usr/include/stdio.h is absent"
fi
# The host's own zlib.h is not an input of a build that ships its own.
if printf '%s\n' "$inside" | grep -q '^absent /usr/include/zlib.h'; then
    note "the host's /usr/include/zlib.h is absent inside (the build used its own)"
fi

step "the Landlock program builds zlib in another fresh copy and refuses the planted files"
cp -a "$SRC" "$W/fresh-ll"
"$CORDON" export --to landlock -o "$W/landlock.c" "$W/m.json"
if ! cc -Wall -Werror -o "$W/cordon-landlock" "$W/landlock.c" 2>"$W/landlock-cc.log"; then
    result FAIL "Landlock program compiles" "see $W/landlock-cc.log"
else
    rm -rf -- "$W/prefix"
    t0=$(now)
    status=0
    (cd "$W/fresh-ll" && CORDON_WORKTREE=$W/fresh-ll "$W/cordon-landlock") >"$W/landlock-build.log" 2>&1 ||
        status=$?
    t1=$(now)
    if ((status == 125)) && grep -q 'landlock: ' "$W/landlock-build.log"; then
        result SKIP "zlib builds under Landlock" "$(grep -m1 'landlock: ' "$W/landlock-build.log")"
    elif ((status == 0)) && [[ -s $W/prefix/lib/libz.a ]]; then
        result PASS "zlib builds under Landlock" "configure + make -j2 + install in $(secs "$t0" "$t1") s"
    else
        tail -20 "$W/landlock-build.log"
        result FAIL "zlib builds under Landlock" "exit $status, see $W/landlock-build.log"
    fi
    # shellcheck disable=SC2016 # expanded by the confined sh
    probe_ll=$(cd "$W/fresh-ll" && CORDON_WORKTREE=$W/fresh-ll "$W/cordon-landlock" /bin/sh -c \
        'for f in "$@"; do if (: <"$f") 2>/dev/null; then echo "readable $f"; else echo "refused $f"; fi; done' \
        sh "${planted[@]}" /usr/include/stdio.h 2>&1) || true
    printf '%s\n' "$probe_ll" | sed 's/^/   /'
    refused=$(printf '%s\n' "$probe_ll" | grep -c '^refused .*\(gitconfig\|cordon-export-secret\|cordon-export-zlib\.secret\)' || true)
    if ((refused == ${#planted[@]})) && printf '%s\n' "$probe_ll" | grep -q '^readable /usr/include/stdio.h'; then
        result PASS "planted files refused under Landlock" "$refused of ${#planted[@]} refused, an input readable"
    else
        result FAIL "planted files refused under Landlock" "$refused of ${#planted[@]} refused"
    fi
fi

step "summary"
printf '%s\n' "${SUMMARY[@]}"
if ((failed)); then
    echo "export-zlib: $failed check(s) failed; everything is in $W"
    exit 1
fi
echo "export-zlib: every check passed"
if ((keep)); then
    echo "everything is in $W"
else
    chmod -R u+w "$W" 2>/dev/null || true
    rm -rf -- "$W"
fi
