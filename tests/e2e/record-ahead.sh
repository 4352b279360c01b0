#!/bin/bash
# record hashes the build's inputs while the build runs (recorder/ahead.c)
# and keeps such a hash only while the file's identity holds. A file
# outside the work tree, old enough to be hashed then, is read by the build
# and afterwards rewritten from outside it with the same size and its old
# mtime put back: the hook's record of it (size, mtime, inode) still
# matches, only its ctime moved. The manifest must hold the hash of the
# bytes there at the end, the same as if nothing had been hashed early:
# `verify --rehash` finds no difference. A hash kept on size, mtime and
# inode alone would be the old bytes' and fail it.
# tiers: self nobody
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ext=$TEST_TMP/ext
mkdir -p "$ext" "$TEST_TMP/wt"
printf 'version 1\n' >"$ext/input.cfg"
cp -p "$ext/input.cfg" "$TEST_TMP/ref"
# Older than the two seconds a hash taken during the build must settle.
sleep 2.5

log_step "the build reads the file, then waits while it is rewritten"
build="cat '$ext/input.cfg' >/dev/null; : >'$TEST_TMP/read'
while [ ! -e '$TEST_TMP/rewritten' ]; do sleep 0.05; done"
(cd "$TEST_TMP/wt" && exec "$CORDON" record -q -o "$TEST_TMP/m.json" -- sh -c "$build") &
rec=$!
for _ in $(seq 600); do [[ -e $TEST_TMP/read ]] && break; sleep 0.05; done
[[ -e $TEST_TMP/read ]] || fail "the recorded build did not start"
# The thread looks at the log every 50 ms: give it ample time to hash.
sleep 1
printf 'version 2\n' >"$ext/input.cfg"
touch -r "$TEST_TMP/ref" "$ext/input.cfg"
: >"$TEST_TMP/rewritten"
wait "$rec" || fail "record failed"

log_step "the manifest has the file's bytes as they are"
jq -e --arg p "$ext/input.cfg" '.inputs[] | select(.path == $p) | .xxh3' "$TEST_TMP/m.json" \
    >/dev/null || fail "the file is not a hashed input: $(cat "$TEST_TMP/m.json")"
out=$("$CORDON" verify -q --rehash "$TEST_TMP/m.json" 2>&1) ||
    fail "verify --rehash found a difference: the manifest kept a hash of bytes no longer there: $out"

log_step "and a real change since is still found"
printf 'version 3\n' >"$ext/input.cfg"
touch -r "$TEST_TMP/ref" "$ext/input.cfg"
if "$CORDON" verify -q --rehash "$TEST_TMP/m.json" >/dev/null 2>&1; then
    fail "verify --rehash missed a rewritten input"
fi
