#!/bin/bash
# learn-zlib.sh: issue 18's learn acceptance, shown on a real build: zlib's
# Debian source, `./configure --prefix=W/prefix && make -j2 && make install
# LDCONFIG=true` (LDCONFIG=true: as root, zlib's install would otherwise
# rewrite the host's /etc/ld.so.cache).
#
#   bench/learn-zlib.sh [--dir W] [--keep]
#
#  1. learn: `cordon learn -o W/zlib.policy -- sh -c BUILD` in a fresh copy
#     of the source at W/zlib (learn records in a copy of that, and verifies
#     in another copy under `cordon run --policy` alone);
#  2. the policy holds at most 30 rules, no blanket `ro /`, and learn's own
#     verification passed;
#  3. alone: the build again, in another fresh copy, under
#     `cordon run --policy W/zlib.policy` and nothing else, with the prefix
#     emptied first: it succeeds and installs libz.a, libz.so, zlib.h and
#     zlib.pc;
#  4. a summary: PASS/FAIL per check with its numbers; exit 1 on any FAIL.
#
# The cordon used is $CORDON, else build/bin/cordon beside bench/. W
# (default /tmp/cordon-learn-zlib) is emptied first and removed at the end
# unless --keep is given or a check failed.
#
# The source: the bench's copy under bench/work/src/zlib-*/ when there is one
# (used read-only), else `apt-get source zlib` into bench/work/zlib-src (root,
# once; adds a deb-src entry copied from /etc/apt/sources.list.d/debian.sources),
# as bench/run.sh and bench/zlib-acceptance.sh do.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
W=/tmp/cordon-learn-zlib
keep=0
while (($#)); do
    case $1 in
    --dir)
        W=${2:?--dir needs a directory}
        shift
        ;;
    --keep) keep=1 ;;
    -h | --help)
        sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
        exit 0
        ;;
    *)
        echo "learn-zlib.sh: unknown argument '$1'" >&2
        exit 2
        ;;
    esac
    shift
done

CORDON=${CORDON:-$repo/build/bin/cordon}
[[ -x $CORDON ]] || {
    echo "learn-zlib.sh: no cordon at '$CORDON' (set CORDON)" >&2
    exit 2
}
CORDON=$(realpath "$CORDON")

step() { printf '\n== %s\n' "$*"; }
declare -a SUMMARY=()
failed=0
result() { # STATUS CHECK DETAILS
    SUMMARY+=("$(printf '%-4s  %-34s %s' "$1" "$2" "$3")")
    printf '   -> %s: %s (%s)\n' "$1" "$2" "$3"
    [[ $1 != FAIL ]] || failed=$((failed + 1))
}
rm_w() {
    chmod -R u+w "$W" 2>/dev/null || true
    rm -rf -- "$W"
}

# ------------------------------------------------------------------- source
SRC=
for d in "$repo"/bench/work/src/zlib-*/ "$repo"/bench/work/zlib-src/zlib-*/; do
    if [[ -f $d/configure && -f $d/Makefile.in ]]; then
        SRC=${d%/}
        break
    fi
done
if [[ -z $SRC ]]; then
    ((EUID == 0)) || {
        echo "learn-zlib.sh: no zlib source under bench/work; fetching it needs root once" >&2
        exit 2
    }
    step "fetching zlib's Debian source into bench/work/zlib-src"
    mkdir -p "$repo/bench/work/zlib-src"
    if ! grep -qsE '^Types:.*deb-src' /etc/apt/sources.list.d/*.sources &&
        ! grep -qsE '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list; then
        sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
            >/etc/apt/sources.list.d/debian-src.sources
        apt-get update -qq
    fi
    command -v dpkg-source >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpkg-dev
    # The security pool may answer 404 for its version: fall back to the
    # main archive's (apt-cache showsrc zlib lists it).
    (cd "$repo/bench/work/zlib-src" && { apt-get source -qq zlib ||
        apt-get source -qq "zlib=$(apt-cache showsrc zlib | awk '/^Version:/ { print $2; exit }')"; })
    for d in "$repo"/bench/work/zlib-src/zlib-*/; do
        [[ -f $d/configure ]] && SRC=${d%/} && break
    done
    [[ -n $SRC ]] || {
        echo "learn-zlib.sh: apt-get source gave no zlib tree" >&2
        exit 2
    }
fi

rm_w
mkdir -p "$W"
W=$(realpath "$W")
export XDG_CACHE_HOME=$W/cache # the recording's store, not the user's
BUILD="./configure --prefix=$W/prefix && make -j2 && make install LDCONFIG=true"
printf 'cordon %s\nsource %s\nbuild   %s\n' "$("$CORDON" --version 2>/dev/null | head -1)" "$SRC" "$BUILD"

# -------------------------------------------------------------------- learn
step "1. cordon learn in a copy of the source"
cp -a "$SRC" "$W/zlib"
mkdir -p "$W/prefix"
status=0
start=$(date +%s.%N)
(cd "$W/zlib" && "$CORDON" learn -o "$W/zlib.policy" -- sh -c "$BUILD") >"$W/learn.out" 2>"$W/learn.err" ||
    status=$?
secs=$(echo "$(date +%s.%N) - $start" | bc)
tail -5 "$W/learn.err"
printf '\n--- the learned policy (%s):\n' "$W/zlib.policy"
cat "$W/zlib.policy"
rules=$(grep -cE '^(ro|rw|hide|deny|empty|redirect|tmpfs|dev|proc|home|network) ' "$W/zlib.policy" || true)
if ((status == 0)) && grep -q '^# Verification: passed' "$W/zlib.policy"; then
    result PASS "learn's own verification" "exit 0, $(printf '%.0f' "$secs") s for record + learn + verify"
else
    result FAIL "learn's own verification" "exit $status; see $W/learn.err"
fi

step "2. the size of the policy"
if ((rules >= 1 && rules <= 30)); then
    result PASS "at most 30 rules" "$rules rules"
else
    result FAIL "at most 30 rules" "$rules rules"
fi
if grep -qE '^ro /( |$)' "$W/zlib.policy"; then
    result FAIL "no blanket ro /" "found"
else
    result PASS "no blanket ro /" "none"
fi

# -------------------------------------------------------------------- alone
step "3. the build alone under the policy, in a fresh copy"
rm -rf "$W/prefix" "$W/alone"
mkdir -p "$W/prefix"
cp -a "$SRC" "$W/alone"
status=0
(cd "$W/alone" && "$CORDON" run -q --policy "$W/zlib.policy" -- sh -c "$BUILD") >"$W/alone.log" 2>&1 ||
    status=$?
missing=()
for f in lib/libz.a lib/libz.so include/zlib.h include/zconf.h lib/pkgconfig/zlib.pc; do
    [[ -s $W/prefix/$f ]] || missing+=("$f")
done
if ((status == 0 && ${#missing[@]} == 0)); then
    result PASS "the build under the policy alone" "exit 0, prefix complete"
else
    tail -20 "$W/alone.log"
    result FAIL "the build under the policy alone" "exit $status, missing: ${missing[*]:-none}"
fi

step "summary"
printf '%s\n' "${SUMMARY[@]}"
if ((failed)); then
    echo "learn-zlib: $failed check(s) failed; everything is in $W"
    exit 1
fi
echo "learn-zlib: every check passed ($rules rules)"
if ((keep)); then echo "everything is in $W"; else rm_w; fi
