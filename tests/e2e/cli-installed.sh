#!/bin/bash
# cordon as `cmake --install` lays it out: the binary finds its hook beside
# it (PREFIX/bin/../lib*/cordon/) without CORDON_HOOK_LIBRARY, records, and
# every man page the docs name is installed.
# tiers: self
set -euo pipefail
source "$(dirname "$0")/lib.sh"

command -v cmake >/dev/null || skip "cmake is not installed"
prefix=$TEST_TMP/prefix
assert_status 0 cmake --install "$CORDON_BUILD" --prefix "$prefix"
installed=$prefix/bin/cordon
assert_file_exists "$installed"
hooks=("$prefix"/lib*/cordon/libcordon-hook.so)
assert_file_exists "${hooks[0]}"

unset CORDON_HOOK_LIBRARY
mkdir work
echo hello >work/input.txt
cd work
assert_status 0 "$installed" record --quiet -o ../m.json -- cat input.txt
assert_file_has_content "$TEST_TMP/out" '^hello$'
assert_file_has_content ../m.json 'work/input\.txt'

for page in cordon cordon-record cordon-show cordon-verify cordon-diff cordon-pack cordon-replay; do
    assert_file_exists "$prefix/share/man/man1/$page.1"
done
