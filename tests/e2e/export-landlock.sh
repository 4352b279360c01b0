#!/bin/bash
# The exported Landlock program compiles with -Wall -Werror and confines: a
# recorded C build reruns under it in a fresh copy of the work tree, and
# opening what the manifest does not list (a planted ~/.gitconfig, a header
# beside the build's own, a file in /var/tmp) fails with EACCES, though those
# are readable outside. Skips when the kernel has no Landlock.
# tiers: self nobody nouserns
set -euo pipefail
source "$(dirname "$0")/lib.sh"

command -v cc >/dev/null || skip "no C compiler"

inc="$TEST_TMP/inc dir/it's"
mkdir -p src "$inc"
echo '#define GREETING "hello from a quoted directory"' >"$inc/greet.h"
echo 'not an input' >"$inc/secret.h"
echo '[user] name = planted' >"$HOME/.gitconfig"
planted=/var/tmp/cordon-export-landlock.$$
echo 'planted' >"$planted"
trap 'rm -f "$planted"; lib_cleanup' EXIT

# reader: prints the greeting, then for each argument "PATH ok" or the
# errno name it got opening it.
cat >src/reader.c <<'EOF'
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "greet.h"
int main(int argc, char **argv) {
    puts(GREETING);
    for (int i = 1; i < argc; i++) {
        int fd = open(argv[i], O_RDONLY);
        printf("%s %s\n", argv[i], fd >= 0 ? "ok" : errno == ENOENT ? "ENOENT" : strerrorname_np(errno));
        if (fd >= 0)
            close(fd);
    }
    return 0;
}
EOF
cat >src/Makefile <<EOF
all: reader
reader: reader.c
	cc -O2 -I"$inc" -o reader reader.c
install: reader
	mkdir -p "\$(PREFIX)/bin"
	cp reader "\$(PREFIX)/bin/"
EOF
cp -a src fresh

log_step "record the build"
cd src
assert_status 0 "$CORDON" record -q -o ../m.json -- make install "PREFIX=$TEST_TMP/prefix"
cd ..
assert_file_exists prefix/bin/reader
assert_not_file_has_content m.json 'gitconfig|secret\.h|cordon-export-landlock'
assert_file_has_content m.json 'greet\.h'

log_step "export and compile"
assert_status 0 "$CORDON" export --to landlock -o landlock.c m.json
assert_file_has_content landlock.c "landlock_restrict_self"
assert_not_file_has_content landlock.c 'gitconfig|secret\.h'
assert_status 0 cc -Wall -Werror -o cordon-landlock landlock.c

log_step "the build passes in a fresh copy of the work tree"
rm -rf prefix
cd fresh
status=0
CORDON_WORKTREE="$TEST_TMP/fresh" ../cordon-landlock >"$TEST_TMP/out" 2>"$TEST_TMP/err" || status=$?
if [[ $status == 125 ]] && grep -q "landlock: \(not in this kernel\|disabled at boot\)" "$TEST_TMP/err"; then
    skip "$(cat "$TEST_TMP/err")"
fi
[[ $status == 0 ]] || { cat "$TEST_TMP/out" "$TEST_TMP/err" >&2; fail "the confined build exited $status"; }
cd ..
assert_file_exists fresh/reader
assert_file_exists prefix/bin/reader

log_step "outside, the planted files are readable"
assert_status 0 ./fresh/reader "$HOME/.gitconfig" "$inc/secret.h" "$planted"
assert_not_file_has_content "$TEST_TMP/out" "EACCES"

log_step "inside, what the manifest does not list is refused"
cd fresh
assert_status 0 env CORDON_WORKTREE="$TEST_TMP/fresh" ../cordon-landlock ./reader \
    "$HOME/.gitconfig" "$inc/secret.h" "$planted" "$inc/greet.h" hello-new.txt
out=$TEST_TMP/out
assert_file_has_content "$out" "^hello from a quoted directory$"
assert_file_has_content "$out" "gitconfig EACCES$"
assert_file_has_content "$out" "secret\.h EACCES$"
assert_file_has_content "$out" "cordon-export-landlock\.[0-9]+ EACCES$"
assert_file_has_content "$out" "greet\.h ok$"
cd ..

log_step "the private TMPDIR is gone afterwards"
if compgen -G "${TMPDIR:-/tmp}/cordon-landlock.*" >/dev/null; then
    ls -d "${TMPDIR:-/tmp}"/cordon-landlock.* >&2
    log "note: cordon-landlock.* directories exist (maybe another run's)"
fi

log_step "the goldens compile too (the unveil ones with a shim for OpenBSD's prototypes)"
for f in "$CORDON_SOURCE"/tests/data/export/*.landlock.c; do
    assert_status 0 cc -Wall -Wextra -Werror -o golden-landlock "$f"
done
# unveil(2) and pledge(2) are OpenBSD's: this shim declares them so the rest
# of the program is checked by a Linux compiler (-fsyntax-only: no linking).
printf 'int unveil(const char *, const char *);\nint pledge(const char *, const char *);\n' >shim.h
assert_status 0 "$CORDON" export --to unveil -o unveil.c m.json
for f in unveil.c "$CORDON_SOURCE"/tests/data/export/*.unveil.c; do
    assert_status 0 cc -Wall -Wextra -Werror -fsyntax-only -include shim.h "$f"
done
