#!/bin/bash
# fakechroot-replay.sh: cordon's fakechroot replay against fakechroot's own
# cost on the same root, side by side.
#
#   bench/fakechroot-replay.sh ARCHIVE [ROUNDS]
#
# ARCHIVE is a root made by `cordon pack` (bench/run.sh leaves one in
# bench/work/runs/ref-cordon/root.tar.zst). The root is unpacked once; then
# each round restores the recorded work tree from the archive and runs the
# recorded command (a) with `cordon replay --root ROOT --backend fakechroot`
# (which also builds its environment, finds the root's loader and compares
# the outputs), and (b) with Debian's own `fakechroot chroot ROOT sh -c
# 'cd CWD && COMMAND'`, alternating, so drift hits both alike. It prints
# each run, the fastest of each, and their ratio: the issue's bar is (a)
# within 5% of (b).
set -euo pipefail
archive=$(realpath "${1:?usage: fakechroot-replay.sh ARCHIVE [ROUNDS]}")
rounds=${2:-3}
cordon=${CORDON:-$(cd "$(dirname "$0")/.." && pwd)/build/bin/cordon}
command -v fakechroot >/dev/null || { echo "fakechroot is not installed" >&2; exit 1; }
command -v jq >/dev/null || { echo "jq is needed" >&2; exit 1; }

w=$(mktemp -d /tmp/cordon-fcbench.XXXXXX)
trap 'chmod -R u+w "$w" 2>/dev/null; rm -rf "$w"' EXIT
export XDG_CACHE_HOME=$w/cache
"$cordon" replay -q "$archive" --backend fakechroot --into "$w/root" -- sh -c : >/dev/null
jq -r '.command.cwd' "$w/root/.cordon/manifest.json" >"$w/cwd"
jq -r '.command.argv | if .[0] == "sh" and .[1] == "-c" then .[2] else (map(@sh) | join(" ")) end' \
    "$w/root/.cordon/manifest.json" >"$w/cmd"
cwd=$(cat "$w/cwd")
rel=${cwd#/}
mkdir -p "$w/pristine"
tar --zstd -xf "$archive" -C "$w/pristine" "$rel"
printf 'cd %q && %s\n' "$cwd" "$(cat "$w/cmd")" >"$w/root/.cordon/bench.sh"

reset() {
    chmod -R u+w "$w/root/$rel" 2>/dev/null || true
    rm -rf "${w:?}/root/$rel"
    cp -a "$w/pristine/$rel" "$w/root/$rel"
}
timed() { # LABEL CMD...: seconds on stdout, the command's output discarded
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>"$w/err" || { echo "$1 failed:" >&2; tail -5 "$w/err" >&2; return 1; }
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}
a=() b=()
for r in $(seq "$rounds"); do
    reset
    t=$(timed "$cordon" replay -q --root "$w/root" --backend fakechroot)
    a+=("$t")
    reset
    t2=$(timed fakechroot chroot "$w/root" sh /.cordon/bench.sh)
    b+=("$t2")
    printf 'round %d: cordon replay (fakechroot) %.2f s, fakechroot chroot %.2f s, ratio %.3f\n' \
        "$r" "$t" "$t2" "$(echo "$t / $t2" | bc -l)"
done
amin=$(printf '%s\n' "${a[@]}" | sort -g | head -1)
bmin=$(printf '%s\n' "${b[@]}" | sort -g | head -1)
printf 'fastest: cordon replay (fakechroot) %.2f s, fakechroot chroot %.2f s, ratio %.3f (load %s)\n' \
    "$amin" "$bmin" "$(echo "$amin / $bmin" | bc -l)" "$(cut -d' ' -f1-3 /proc/loadavg)"
