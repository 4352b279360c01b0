#!/bin/bash
# cordon pack through the binary: its summary, deterministic archives, the
# formats, and clear failures for a changed input, an unknown category and a
# broken manifest.
# tiers: self nobody
set -euo pipefail
source "$(dirname "$0")/lib.sh"

mkdir src inc
printf '#define ONE 1\n' >inc/one.h
printf '#include "one.h"\nint f(void) { return ONE; }\n' >src/f.c
cd src
assert_status 0 "$CORDON" record -q -o ../m.json -- cc -I../inc -c f.c -o f.o
cd ..

log_step "summary and determinism"
assert_status 0 "$CORDON" pack m.json -o a.tar.zst
assert_file_has_content "$TEST_TMP/out" '^packed [0-9]+ files \([0-9]+ sparse\), [0-9]+ dirs, [0-9]+ symlinks'
assert_status 0 "$CORDON" pack -q m.json -o b.tar.zst
cmp a.tar.zst b.tar.zst || fail "the same manifest packed twice gave different archives"
assert_status 0 "$CORDON" pack -q m.json -o c.tar --format tar
assert_status 0 "$CORDON" pack -q m.json -o d.tar.gz
file d.tar.gz | grep -q gzip || fail "d.tar.gz is not gzip"
assert_status 0 "$CORDON" pack -q m.json -o rootdir --format dir
assert_file_exists "rootdir$TEST_TMP/src/f.c"
assert_file_exists rootdir/.cordon/manifest.json

log_step "an unknown category lists the known ones"
assert_status 125 "$CORDON" pack -q m.json -o x.tar.zst --drop no-such-category
assert_file_has_content "$TEST_TMP/err" "no-such-category"
assert_file_has_content "$TEST_TMP/err" "user-config"
assert_not_file_exists x.tar.zst

log_step "the work tree as recorded comes from the store"
printf 'int f(void) { return 2; }\n' >src/f.c
assert_status 0 "$CORDON" pack -q m.json -o w.tar.zst
tar --zstd -xOf w.tar.zst "${TEST_TMP#/}/src/f.c" >f.packed
assert_file_has_content f.packed 'return ONE'

log_step "an input changed since the recording, outside the work tree, is named"
printf '#define ONE 2\n' >inc/one.h
assert_status 125 "$CORDON" pack -q m.json -o y.tar.zst
assert_file_has_content "$TEST_TMP/err" "inc/one\.h"
assert_not_file_exists y.tar.zst

log_step "a broken manifest is named with its position"
head -c 200 m.json >broken.json
assert_status 125 "$CORDON" pack -q broken.json -o z.tar.zst
assert_file_has_content "$TEST_TMP/err" 'broken\.json:[0-9]+'
sed 's/"cordon_manifest": 1/"cordon_manifest": 99/' m.json >future.json
assert_status 125 "$CORDON" pack -q future.json -o z.tar.zst
assert_file_has_content "$TEST_TMP/err" '99'
assert_status 125 "$CORDON" pack -q no-such.json -o z.tar.zst
assert_file_has_content "$TEST_TMP/err" 'no-such\.json'
