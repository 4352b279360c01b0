#!/bin/bash
# The exported bubblewrap script reruns a recorded C build in a fresh copy of
# its work tree, and inside it nothing the manifest does not list exists: a
# planted ~/.gitconfig, a header beside the build's own (in a directory whose
# name has a space and a quote, which the script's quoting must survive),
# and a file in /var/tmp are all absent (ENOENT), though readable outside.
# tiers: self nobody
# skip-ok: nobody
set -euo pipefail
source "$(dirname "$0")/lib.sh"

command -v bwrap >/dev/null || skip "bubblewrap is not installed"
command -v cc >/dev/null || skip "no C compiler"
bwrap --unshare-all --ro-bind / / true 2>/dev/null ||
    skip "bubblewrap cannot make its namespaces here (no user namespaces?)"

inc="$TEST_TMP/inc dir/it's"
mkdir -p src "$inc"
echo '#define GREETING "hello from a quoted directory"' >"$inc/greet.h"
echo 'not an input' >"$inc/secret.h"
echo '[user] name = planted' >"$HOME/.gitconfig"
planted=/var/tmp/cordon-export-bwrap.$$
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
assert_not_file_has_content m.json 'gitconfig|secret\.h|cordon-export-bwrap'
assert_file_has_content m.json 'greet\.h'

log_step "export"
assert_status 0 "$CORDON" export --to bwrap -o build.sh m.json
[[ -x build.sh ]] || fail "the script is not executable"
assert_file_has_content build.sh "^exec bwrap"
assert_file_has_content build.sh "'[^']*/inc dir/it'\\\\''s/greet\\.h'"
assert_not_file_has_content build.sh 'gitconfig|secret\.h'

log_step "the build passes in a fresh copy of the work tree"
rm -rf prefix
assert_status 0 env CORDON_WORKTREE="$TEST_TMP/fresh" ./build.sh
assert_file_exists fresh/reader
assert_file_exists prefix/bin/reader
assert_not_file_exists src/reader.new
cmp -s fresh/reader src/reader || log "note: the rebuilt program differs in bytes (not required)"

log_step "outside, the planted files are there"
assert_status 0 ./fresh/reader "$HOME/.gitconfig" "$inc/secret.h" "$planted" "$inc/greet.h"
assert_file_has_content "$TEST_TMP/out" "gitconfig ok"
assert_file_has_content "$TEST_TMP/out" "secret\.h ok"
assert_file_has_content "$TEST_TMP/out" "cordon-export-bwrap\.[0-9]+ ok"

log_step "inside, only what the manifest lists"
assert_status 0 env CORDON_WORKTREE="$TEST_TMP/fresh" ./build.sh ./reader \
    "$HOME/.gitconfig" "$inc/secret.h" "$planted" "$inc/greet.h" /etc/passwd
out=$TEST_TMP/out
assert_file_has_content "$out" "^hello from a quoted directory$"
assert_file_has_content "$out" "gitconfig ENOENT$"
assert_file_has_content "$out" "secret\.h ENOENT$"
assert_file_has_content "$out" "cordon-export-bwrap\.[0-9]+ ENOENT$"
assert_file_has_content "$out" "/etc/passwd ENOENT$"
assert_file_has_content "$out" "greet\.h ok$"

log_step "a program the build never ran is not there either"
assert_status 1 env CORDON_WORKTREE="$TEST_TMP/fresh" ./build.sh /usr/bin/env true
assert_file_has_content "$TEST_TMP/err" "execvp /usr/bin/env: No such file or directory"

log_step "a policy exported to bwrap: paths and environment as the policy says"
mkdir -p work
cat >p.policy <<POLICY
description the e2e test's policy
ro /                           # /tmp too: the test dir is there
dev /dev
proc /proc
rw $TEST_TMP/work
hide $HOME/.gitconfig        # a file inside a visible directory: emptied
hide "$inc"                  # a directory inside one: an empty one
unset SECRET_*
keep SECRET_KEEP
set GREETING="a b 'c'"
POLICY
assert_status 0 "$CORDON" export --to bwrap -o p.sh p.policy
check='cat "$HOME/.gitconfig"; ls -A "$1"; echo "ls-rc=$?"; touch "$2/new" && echo rw-ok;
touch /usr/cordon-ro 2>/dev/null || echo ro-ok; env | grep -E "^(SECRET_|GREETING=)" | sort'
assert_status 0 env SECRET_A=1 SECRET_KEEP=2 "$TEST_TMP/p.sh" /bin/sh -c "$check" sh "$inc" "$TEST_TMP/work"
out=$TEST_TMP/out
assert_not_file_has_content "$out" "planted|greet\.h|secret\.h"
assert_file_has_content "$out" "^ls-rc=0$"
assert_file_has_content "$out" "^rw-ok$"
assert_file_has_content "$out" "^ro-ok$"
assert_file_has_content "$out" "^SECRET_KEEP=2$"
assert_not_file_has_content "$out" "^SECRET_A="
assert_file_has_content "$out" "^GREETING=a b 'c'$"
assert_file_exists work/new
