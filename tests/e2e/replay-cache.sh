#!/bin/bash
# record -> pack -> replay, and the cache of unpacked roots: the first
# replay unpacks, the next reuse it; each replay runs in a fresh working
# root of hard links in which the work tree is copied, so the build's
# outputs never land in the cached root; a build that writes a linked
# file in place gets the cached root dropped (and the next replay unpacks
# again); --into keeps the root where asked and refuses a non-empty
# directory; --record names what the root lacked. Under every runner the
# tier has.
# tiers: self nobody nouserns
set -euo pipefail
source "$(dirname "$0")/lib.sh"

mkdir src data
echo "from the work tree" >src/in.txt
echo "from outside it" >data/data.txt
# The absolute path: the recorder does not see its own exec of the command.
build="cat in.txt ../data/data.txt >out.txt"
(cd src && "$CORDON" record -q -o ../m.json -- /usr/bin/dash -c "$build") ||
    fail "the recording failed"
assert_status 0 "$CORDON" pack -q -o a.tar.zst m.json

backends="namespace fakechroot"
if [[ $CORDON_TIER == nouserns ]] || ! unshare -Ur true 2>/dev/null; then
    backends=fakechroot
fi
cache=$XDG_CACHE_HOME/cordon/roots

for b in $backends; do
    rm -rf "$cache"
    log_step "$b: the first replay unpacks into the cache"
    assert_status 0 "$CORDON" replay --backend "$b" a.tar.zst
    assert_file_has_content "$TEST_TMP/out" "^outputs: identical \\(1 file\\)$"
    assert_file_has_content "$TEST_TMP/err" "root: $cache/[0-9a-f]{32}\\.run$"
    run=$(sed -n 's/^cordon: root: //p' "$TEST_TMP/err")
    pristine=${run%.run}
    assert_file_exists "$run$TEST_TMP/src/out.txt"
    assert_not_file_exists "$pristine$TEST_TMP/src/out.txt"
    assert_file_exists "$pristine/.cordon/unpacked"
    # Linked outside the work tree, copied inside it.
    [[ $(stat -c %i "$run$TEST_TMP/data/data.txt") == $(stat -c %i "$pristine$TEST_TMP/data/data.txt") ]] ||
        fail "$b: a file outside the work tree was copied, not linked"
    [[ $(stat -c %i "$run$TEST_TMP/src/in.txt") != $(stat -c %i "$pristine$TEST_TMP/src/in.txt") ]] ||
        fail "$b: a file of the work tree is linked to the cached root"

    log_step "$b: the next replay reuses it"
    assert_status 0 "$CORDON" replay --backend "$b" a.tar.zst
    assert_file_has_content "$TEST_TMP/err" "root: .*\\.run \\(cached\\)$"
    assert_file_has_content "$TEST_TMP/out" "^outputs: identical"

    log_step "$b: a write through a link drops the cached root"
    assert_status 0 "$CORDON" replay --backend "$b" a.tar.zst -- \
        /usr/bin/dash -c "echo more >>$TEST_TMP/data/data.txt"
    assert_file_has_content "$TEST_TMP/err" \
        "the build changed '$TEST_TMP/data/data.txt' in place.*removing the cached root"
    assert_not_file_exists "$pristine"
    assert_status 0 "$CORDON" replay --backend "$b" a.tar.zst
    assert_not_file_has_content "$TEST_TMP/err" "\\(cached\\)"
    assert_file_has_content "$TEST_TMP/out" "^outputs: identical"
    [[ $(cat "$pristine$TEST_TMP/data/data.txt") == "from outside it" ]] ||
        fail "$b: the unpacked-again root has the changed file"

    log_step "$b: a differing output is named"
    assert_status 0 "$CORDON" replay --backend "$b" a.tar.zst -- \
        /usr/bin/dash -c "echo other >out.txt"
    assert_file_has_content "$TEST_TMP/out" "^differs +$TEST_TMP/src/out.txt$"
    assert_status 1 "$CORDON" replay -q --check --backend "$b" a.tar.zst -- \
        /usr/bin/dash -c "echo other >out.txt"
    assert_status 3 "$CORDON" replay -q --check --backend "$b" a.tar.zst -- \
        /usr/bin/dash -c "exit 3"
    assert_file_has_content "$TEST_TMP/out" "^missing +$TEST_TMP/src/out.txt$"

    log_step "$b: --into keeps the root and refuses a non-empty directory"
    rm -rf into
    assert_status 0 "$CORDON" replay --backend "$b" --into into a.tar.zst
    assert_file_exists "into$TEST_TMP/src/out.txt"
    assert_status 125 "$CORDON" replay --backend "$b" --into into a.tar.zst
    assert_file_has_content "$TEST_TMP/err" "'into' must not exist or be empty"

    log_step "$b: --record names what the root lacked"
    rm "into$TEST_TMP/data/data.txt"
    assert_status 1 "$CORDON" replay --record --backend "$b" --root into
    assert_file_has_content "$TEST_TMP/out" "^lacked: $TEST_TMP/data/data.txt$"
    assert_not_file_has_content "$TEST_TMP/out" "^lacked: .*in\\.txt"
done

log_step "a missing archive is cordon's failure, not the command's"
assert_status 125 "$CORDON" replay no-such.tar.zst
assert_file_has_content "$TEST_TMP/err" "no-such.tar.zst"
