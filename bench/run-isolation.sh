#!/bin/bash
# run-isolation.sh: what `cordon run` costs (issue 17's performance targets).
#
#   bench/run-isolation.sh [--rounds N] [--startup-runs N] [--only LIST]
#
#  1. zlib's build (`./configure --prefix=$PWD/prefix && make -j2 && make
#     install LDCONFIG=true`, in a fresh copy of zlib's Debian source per
#     run) natively and under `cordon run -q --backend B --` for B in
#     namespace, hook and landlock (those that start here), the variants
#     interleaved within each round; prints each one's median and fastest
#     time and the ratios to native (median/median, and the median of the
#     per-round ratios). Targets: namespace <= 1.03x, hook <= 1.05x.
#  2. start-up: `cordon run -- true` against bubblewrap with the same view
#     (the host's root read-only, a minimal /dev, a fresh /proc, a tmpfs on
#     /tmp, in user, pid, ipc and uts namespaces) with hyperfine (installed
#     with apt-get where missing and root); also cordon with the default
#     profile (build), which hides more. Target: cordon no slower than bwrap.
#
# The cordon used is $CORDON, else build/bin/cordon beside bench/. The
# source: bench/work/src/zlib-*/ (bench/run.sh's) when there, else `apt-get
# source zlib` into bench/work/src (root, once), as bench/run.sh does. Runs
# go to a fresh W=/var/tmp/cordon-run-isolation.XXXXXX (removed at the end):
# not under /tmp, which the default profile makes private.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
ROUNDS=5
STARTUP_RUNS=200
ONLY=native,namespace,hook,landlock
while (($#)); do
    case $1 in
    --rounds)
        ROUNDS=${2:?--rounds needs a number}
        shift
        ;;
    --startup-runs)
        STARTUP_RUNS=${2:?--startup-runs needs a number}
        shift
        ;;
    --only)
        ONLY=${2:?--only needs a list}
        shift
        ;;
    -h | --help)
        sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
        exit 0
        ;;
    *)
        echo "run-isolation.sh: unknown argument '$1'" >&2
        exit 2
        ;;
    esac
    shift
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ && $STARTUP_RUNS =~ ^[1-9][0-9]*$ ]] || {
    echo "run-isolation.sh: --rounds and --startup-runs take positive integers" >&2
    exit 2
}

CORDON=${CORDON:-$repo/build/bin/cordon}
[[ -x $CORDON ]] || {
    echo "run-isolation.sh: no cordon at '$CORDON' (set CORDON)" >&2
    exit 2
}
CORDON=$(realpath "$CORDON")

# ------------------------------------------------------------------- source
SRC=
find_src() {
    local d
    for d in "$repo"/bench/work/src/zlib-*/; do
        if [[ -f $d/configure && -f $d/Makefile.in ]]; then
            SRC=${d%/}
            return 0
        fi
    done
    return 1
}
if ! find_src; then
    ((EUID == 0)) || {
        echo "run-isolation.sh: no zlib source under bench/work/src; fetching it needs root once" >&2
        exit 2
    }
    echo "fetching zlib's Debian source into bench/work/src"
    mkdir -p "$repo/bench/work/src"
    if ! grep -qsE '^Types:.*deb-src' /etc/apt/sources.list.d/*.sources &&
        ! grep -qsE '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list; then
        sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
            >/etc/apt/sources.list.d/debian-src.sources
        apt-get update -qq
    fi
    command -v dpkg-source >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpkg-dev
    (cd "$repo/bench/work/src" && { apt-get source -qq zlib ||
        apt-get source -qq "zlib=$(apt-cache showsrc zlib | awk '/^Version:/ { print $2; exit }')"; })
    find_src || {
        echo "run-isolation.sh: apt-get source gave no zlib tree" >&2
        exit 2
    }
fi

W=$(mktemp -d /var/tmp/cordon-run-isolation.XXXXXX)
cleanup() {
    chmod -R u+w "$W" 2>/dev/null || true
    rm -rf -- "$W"
}
trap cleanup EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
fastest() { sort -g | head -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'; }
now() { date +%s.%N; }

# ---------------------------------------------------------------- variants
IFS=, read -r -a wanted <<<"$ONLY"
variants=()
for v in "${wanted[@]}"; do
    case $v in
    native) variants+=(native) ;;
    namespace | hook | landlock)
        if (cd "$W" && "$CORDON" run -q --backend "$v" -- true) 2>"$W/probe-$v.err"; then
            variants+=("$v")
        else
            echo "note: $v does not start here: $(head -c 300 "$W/probe-$v.err")"
        fi
        ;;
    *)
        echo "run-isolation.sh: unknown variant '$v' (native, namespace, hook, landlock)" >&2
        exit 2
        ;;
    esac
done

printf '# bench/run-isolation.sh %s: kernel %s, %s CPUs, load %s, cordon %s (%s), %d rounds\n' \
    "$(date -u +%FT%TZ)" "$(uname -r)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" \
    "$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')" "$CORDON" "$ROUNDS"

BUILD='./configure --prefix=$PWD/prefix >/dev/null && make -j2 >/dev/null && make install LDCONFIG=true >/dev/null'
declare -A T
# A warm-up build: the page cache and the compilers' first start.
cp -a "$SRC" "$W/warm" && (cd "$W/warm" && sh -c "$BUILD") >"$W/warm.log" 2>&1 || {
    echo "run-isolation.sh: the native warm-up build failed, see $W/warm.log" >&2
    exit 1
}
rm -rf "$W/warm"
for ((r = 1; r <= ROUNDS; r++)); do
    for v in "${variants[@]}"; do
        d=$W/r$r-$v
        cp -a "$SRC" "$d"
        log=$W/r$r-$v.log
        t0=$(now)
        if [[ $v == native ]]; then
            (cd "$d" && sh -c "$BUILD") >"$log" 2>&1 || st=$?
        else
            (cd "$d" && "$CORDON" run -q --backend "$v" -- sh -c "$BUILD") >"$log" 2>&1 || st=$?
        fi
        t1=$(now)
        if [[ ${st:-0} != 0 || ! -s $d/prefix/lib/libz.a ]]; then
            echo "run-isolation.sh: round $r, $v: the build failed (status ${st:-0}), see $log" >&2
            trap - EXIT
            exit 1
        fi
        unset st
        T[$r,$v]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
        printf 'round %d %-10s %8.3f s\n' "$r" "$v" "${T[$r,$v]}"
        chmod -R u+w "$d"
        rm -rf "$d"
    done
done

echo
echo "## zlib: configure + make -j2 + make install, $ROUNDS rounds"
printf '%-10s %9s %9s %13s %13s %14s\n' variant median fastest 'x native(med)' 'x native(fst)' 'median of r/r'
nat_med=$(for ((r = 1; r <= ROUNDS; r++)); do echo "${T[$r,native]:-0}"; done | median)
nat_fst=$(for ((r = 1; r <= ROUNDS; r++)); do echo "${T[$r,native]:-0}"; done | fastest)
for v in "${variants[@]}"; do
    med=$(for ((r = 1; r <= ROUNDS; r++)); do echo "${T[$r,$v]}"; done | median)
    fst=$(for ((r = 1; r <= ROUNDS; r++)); do echo "${T[$r,$v]}"; done | fastest)
    paired=$(for ((r = 1; r <= ROUNDS; r++)); do ratio "${T[$r,$v]}" "${T[$r,native]:-0}"; echo; done | median)
    printf '%-10s %9.3f %9.3f %13s %13s %14s\n' "$v" "$med" "$fst" "$(ratio "$med" "$nat_med")" \
        "$(ratio "$fst" "$nat_fst")" "$paired"
done
echo "targets: namespace <= 1.03x, hook <= 1.05x"

# ------------------------------------------------------------------ start-up
echo
echo "## start-up: cordon run -- true against bwrap with the same view"
if ! command -v hyperfine >/dev/null && ((EUID == 0)); then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null 2>&1 || true
fi
if ! command -v hyperfine >/dev/null || ! command -v bwrap >/dev/null; then
    echo "note: hyperfine or bwrap is missing: no start-up comparison"
    exit 0
fi
printf 'ro /\ndev /dev\nproc /proc\ntmpfs /tmp\n' >"$W/view.policy"
cd "$W"
json=$W/startup.json
bwrap=(bwrap --unshare-user --unshare-pid --unshare-ipc --unshare-uts --ro-bind / / --dev /dev
    --proc /proc --tmpfs /tmp -- true)
cmds=("${bwrap[*]}")
names=(bwrap)
for v in namespace landlock hook; do
    [[ " ${variants[*]} " == *" $v "* ]] || continue
    cmds+=("$CORDON run -q --backend $v --policy $W/view.policy -- true")
    names+=("cordon-$v")
done
if [[ " ${variants[*]} " == *" namespace "* ]]; then
    cmds+=("$CORDON run -q --backend namespace -- true")
    names+=("cordon-namespace(build profile)")
fi
hyperfine -N --warmup 20 --runs "$STARTUP_RUNS" --export-json "$json" "${cmds[@]}" >"$W/hyperfine.log" 2>&1 || {
    echo "hyperfine failed:"
    cat "$W/hyperfine.log"
    exit 1
}
# mean, median and min (ms) of each command, and the ratio of medians to bwrap.
python3 - "$json" "${names[@]}" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
names = sys.argv[2:]
base = res[0]["median"]
print(f"{'command':34} {'mean ms':>8} {'median ms':>10} {'min ms':>8} {'x bwrap':>8}")
for name, r in zip(names, res):
    print(f"{name:34} {r['mean']*1e3:8.2f} {r['median']*1e3:10.2f} {r['min']*1e3:8.2f} {r['median']/base:8.3f}")
print("target: cordon-namespace <= 1.00x bwrap")
PY
