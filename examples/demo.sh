#!/bin/bash
# demo.sh: cordon end to end on examples/hello-lib, a small C library with a
# configure script: record `./configure && make && make install`, show the
# manifest, pack the minimal root, replay the build inside it, and check
# that the replay's outputs are identical to the recorded ones.
#
#   examples/demo.sh [--install] [DIR]
#
# DIR (default: a new temp dir) receives the work tree, the manifest, the
# archive and the replayed root. The cordon used is $CORDON, else the one on
# PATH, else build/bin/cordon, built first if it is missing.
# --install (as root, on Debian or Ubuntu) first installs the build
# dependencies with apt-get, builds cordon and installs it under /usr/local.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
install=0
dir=
for arg in "$@"; do
    case $arg in
    --install) install=1 ;;
    -h | --help)
        sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
        exit 0
        ;;
    -*)
        echo "demo.sh: unknown option '$arg'" >&2
        exit 2
        ;;
    *) dir=$arg ;;
    esac
done

if [[ -t 1 ]]; then
    step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
    step() { printf '\n== %s\n' "$*"; }
fi

if [[ $install == 1 ]]; then
    step "installing the build dependencies, building and installing cordon"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq build-essential cmake pkg-config libarchive-dev libjansson-dev \
        libxxhash-dev libcriterion-dev fakechroot zstd >/dev/null
    cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$src/build" -j"$(nproc)"
    cmake --install "$src/build" --prefix /usr/local
    CORDON=/usr/local/bin/cordon
fi
if [[ -z ${CORDON:-} ]]; then
    if command -v cordon >/dev/null; then
        CORDON=$(command -v cordon)
    else
        if [[ ! -x $src/build/bin/cordon ]]; then
            step "building cordon in $src/build"
            cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
            cmake --build "$src/build" -j"$(nproc)"
        fi
        CORDON=$src/build/bin/cordon
    fi
fi

if [[ -z $dir ]]; then
    dir=$(mktemp -d /tmp/cordon-demo.XXXXXX)
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
work=$dir/hello-lib
rm -rf "$work" "$dir/root"
cp -R "$src/examples/hello-lib" "$work"
cd "$work"

step "cordon record: ./configure && make && make install"
"$CORDON" record -o "$dir/hello.json" -- sh -c './configure && make && make install'

step "cordon show"
"$CORDON" show "$dir/hello.json"

step "cordon pack"
"$CORDON" pack "$dir/hello.json" -o "$dir/hello.tar.zst"
ls -l "$dir/hello.tar.zst"

step "cordon replay --into $dir/root --check"
cd "$dir"
"$CORDON" replay "$dir/hello.tar.zst" --into "$dir/root" --check

step "comparing the replay's outputs with the recorded build's"
count=0
while IFS= read -r -d '' f; do
    rel=${f#"$work"/}
    replayed=$dir/root$work/$rel
    if ! cmp -s "$f" "$replayed"; then
        echo "demo.sh: '$rel' differs between the recording and the replay" >&2
        exit 1
    fi
    count=$((count + 1))
done < <(find "$work/_install" -type f -print0)
if [[ $count == 0 ]]; then
    echo "demo.sh: the build installed nothing under '$work/_install'" >&2
    exit 1
fi
"$dir/root$work/_install/bin/hello" cordon 2>/dev/null || true
echo "outputs identical: $count installed files match the recorded build's"
echo "everything is in $dir"
