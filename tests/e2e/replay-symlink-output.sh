#!/bin/bash
# A build that makes an absolute symlink (a venv's bin/python3 ->
# /usr/bin/python3) replays to the same symlink with either runner:
# fakechroot stores the root's host path in front of such a target, and the
# replay takes it off again.
# tiers: self nobody nouserns
set -euo pipefail
source "$(dirname "$0")/lib.sh"

mkdir src
cd src
assert_status 0 "$CORDON" record -q -o ../m.json -- sh -c 'mkdir -p out && ln -s /bin/sh out/shell'
cd ..
[[ $(readlink src/out/shell) == /bin/sh ]] || fail "the recorded build made another link"
assert_status 0 "$CORDON" pack -q m.json -o root.tar.zst
backends=(fakechroot)
[[ $CORDON_TIER == nouserns ]] || backends+=(namespace)
for backend in "${backends[@]}"; do
    log_step "$backend"
    assert_status 0 "$CORDON" replay -q --check --backend "$backend" root.tar.zst \
        --into "$TEST_TMP/root-$backend"
    target=$(readlink "$TEST_TMP/root-$backend$TEST_TMP/src/out/shell")
    [[ $target == /bin/sh ]] || fail "$backend: the replayed link points to '$target'"
done
