#!/bin/bash
# import-zlib.sh: issue 19's strace acceptance on a real build: zlib's Debian
# source, `./configure --prefix=W/prefix && make -j2 && make install`.
#
#   bench/import-zlib.sh [--dir W] [--keep]
#
#  1. strace: the build under `strace -f -tt -y -s 256 -o W/zlib.strace` in a
#     fresh copy of the source at W/zlib;
#  2. record: `cordon record` of the same build in another fresh copy at the
#     same path;
#  3. import: `cordon import --from strace` of the log (timed);
#  4. the difference between the two input sets (files read, executed or
#     loaded, by real path; the kernel's virtual files /proc, /sys, /dev left
#     out): expected empty; also the probes and stats only one side has, for
#     information (strace cannot see the recorder's own PATH search for the
#     command, the hook cannot see an fstat);
#  5. the time to import a 100,000-line strace log: the first 100,000 lines
#     of zlib's log, or, when it is shorter, copies of it with their pids
#     renumbered; with --no-hash (parsing and building) and with hashing.
#
# `make install` runs with LDCONFIG=true so that the host's ld.so.cache is
# left alone. The cordon used is $CORDON, else build/bin/cordon beside
# bench/. The source is the bench's copy under bench/work/src/zlib-*/ (see
# bench/run.sh) or bench/work/zlib-src (zlib-acceptance.sh), else fetched
# with `apt-get source zlib` (root, once). W (default /tmp/cordon-import-zlib)
# is emptied first and removed at the end unless --keep is given or a check
# failed. Exit status: 0 when the input sets are equal and the 100,000-line
# import took under 2 s, 1 otherwise.
#
# The whole script is one block, read before it runs: editing this file
# while a run is under way does not change that run.
{
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
W=/tmp/cordon-import-zlib
keep=0
while (($#)); do
    case $1 in
    --dir)
        W=${2:?--dir needs a directory}
        shift
        ;;
    --keep) keep=1 ;;
    -h | --help)
        sed -n '2,/^# The whole script/{/^# The whole script/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
        exit 0
        ;;
    *)
        echo "import-zlib.sh: unknown argument '$1'" >&2
        exit 2
        ;;
    esac
    shift
done

CORDON=${CORDON:-$repo/build/bin/cordon}
[[ -x $CORDON ]] || {
    echo "import-zlib.sh: no cordon at '$CORDON' (set CORDON)" >&2
    exit 2
}
CORDON=$(realpath "$CORDON")
for tool in strace python3 awk; do
    command -v "$tool" >/dev/null || {
        echo "import-zlib.sh: '$tool' is needed" >&2
        exit 2
    }
done
step() { printf '\n== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }
now() { date +%s.%N; }
since() { python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$(now)"; }
failed=0

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
        echo "import-zlib.sh: no zlib source under bench/work; fetching it needs root once" >&2
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
        echo "import-zlib.sh: apt-get source gave no zlib tree" >&2
        exit 2
    }
fi

chmod -R u+w "$W" 2>/dev/null || true
rm -rf -- "$W"
mkdir -p "$W"
printf '# bench/import-zlib.sh %s: %s, %s CPUs, load %s; cordon %s (%s); source %s\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uname -r)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" \
    "$CORDON" "$(git -C "$repo" describe --always --dirty 2>/dev/null || echo '?')" "$SRC"

fresh() {
    chmod -R u+w "$W/zlib" "$W/prefix" 2>/dev/null || true
    rm -rf -- "$W/zlib" "$W/prefix"
    cp -a -- "$SRC" "$W/zlib"
}
BUILD="./configure --prefix=$W/prefix >/dev/null && make -j2 >/dev/null && make install LDCONFIG=true >/dev/null"

step "1. the build under strace -f -tt -y -s 256"
fresh
(cd "$W/zlib" && strace -f -tt -y -s 256 -o "$W/zlib.strace" sh -c "$BUILD")
lines=$(wc -l <"$W/zlib.strace")
note "$lines lines, $(du -h "$W/zlib.strace" | cut -f1)"

step "2. the build under cordon record"
fresh
(cd "$W/zlib" && "$CORDON" record -q -o "$W/rec.json" -- sh -c "$BUILD")

step "3. cordon import --from strace"
t0=$(now)
"$CORDON" import --from strace -o "$W/imp.json" "$W/zlib.strace"
note "$(since "$t0") s"

step "4. the input sets: read, executed or loaded, by real path"
sets() { # MANIFEST OUT-PREFIX
    python3 - "$1" "$2" <<'PY'
import json, os, sys
m = json.load(open(sys.argv[1]))
content, other = set(), set()
for i in m["inputs"]:
    p = i["path"]
    if p.split("/")[1] in ("proc", "sys", "dev"):
        continue
    if set(i["uses"]) & {"read", "exec", "load"}:
        content.add(os.path.realpath(p))
    else:
        other.add(p)
open(sys.argv[2] + ".content", "w").write("".join(x + "\n" for x in sorted(content)))
open(sys.argv[2] + ".other", "w").write("".join(x + "\n" for x in sorted(other)))
PY
}
sets "$W/rec.json" "$W/rec"
sets "$W/imp.json" "$W/imp"
note "record: $(wc -l <"$W/rec.content") files read or executed; import: $(wc -l <"$W/imp.content")"
if diff -u "$W/rec.content" "$W/imp.content" >"$W/content.diff"; then
    note "difference: none"
else
    note "difference (- record only, + import only):"
    grep '^[-+]/' "$W/content.diff" | sed 's/^/     /'
    failed=1
fi
only_rec=$(comm -23 "$W/rec.other" "$W/imp.other" | wc -l)
only_imp=$(comm -13 "$W/rec.other" "$W/imp.other" | wc -l)
note "stat'ed or probed only (for information): $only_rec paths only in record, $only_imp only in the import"
if "$CORDON" verify -q "$W/imp.json" >"$W/verify.txt" 2>&1; then
    note "cordon verify: no differences"
else
    note "cordon verify: $(tail -1 "$W/verify.txt")"
fi

step "5. importing a 100,000-line strace log"
N=100000
if ((lines >= N)); then
    head -n "$N" "$W/zlib.strace" >"$W/big.strace"
    note "the first $N lines of zlib's log"
else
    # Copies with every pid (line prefixes, fork results) moved up by
    # 100,000 a copy, so that each copy is processes of its own.
    copies=$(((N + lines - 1) / lines))
    for ((k = 0; k < copies; k++)); do
        awk -v off=$((k * 100000)) '
            match($0, /^[0-9]+/) { $0 = (substr($0, 1, RLENGTH) + off) substr($0, RLENGTH + 1) }
            /(clone|clone3|fork|vfork)[(]|(clone|clone3|fork|vfork) resumed>/ && match($0, / = [0-9]+$/) {
                $0 = substr($0, 1, RSTART + 2) (substr($0, RSTART + 3) + off)
            }
            { print }' "$W/zlib.strace"
    done | head -n "$N" >"$W/big.strace"
    note "$copies copies of zlib's $lines-line log, pids renumbered, cut at $N lines"
fi
timed() { # ARGS...
    local t0
    t0=$(now)
    # A log cut at N lines ends with calls never resumed: warnings, not errors.
    "$CORDON" import -q --from strace -o "$W/big.json" "$@" "$W/big.strace" 2>"$W/big.err"
    since "$t0"
}
nohash=$(timed --no-hash)
hashed=$(timed)
note "import --no-hash: ${nohash} s (parse, resolve, stat, classify, write)"
note "import with hashing: ${hashed} s"
note "warnings: $(grep -c . "$W/big.err") lines ($(tail -1 "$W/big.err"))"
if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 2.0 else 1)" "$nohash"; then
    note "target (under 2 s): met"
else
    note "target (under 2 s): NOT met"
    failed=1
fi

if ((failed)); then
    echo "import-zlib: a check failed; everything is in $W"
    exit 1
fi
echo "import-zlib: the imported input set equals the recorded one"
if ((keep)); then echo "everything is in $W"; else rm -rf -- "$W"; fi
exit 0
}
