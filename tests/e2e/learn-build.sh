#!/bin/bash
# cordon learn on a small make/cc build: the policy has few rules, no
# blanket /, the work tree read-write, what the build wrote outside it
# read-write, the user's configuration it reached for left out and listed;
# it is verified in a fresh copy and runs the build alone under cordon run.
# A build that needs a breach gets a policy without it, and the
# verification fails saying so. learn from a manifest works the same way.
# Without user namespaces the verification runs on the hook runner.
# tiers: self nobody nouserns
# timeout: 600
set -euo pipefail
source "$(dirname "$0")/lib.sh"
command -v cc >/dev/null || skip "no C compiler"
command -v make >/dev/null || skip "no make"

mkdir -p src "$TEST_TMP/prefix"
printf '[user]\n\tname = Someone\n' >"$HOME/.gitconfig"
cat >src/hello.c <<'C'
#include <stdio.h>
int main(void) { puts("hi"); return 0; }
C
cat >src/Makefile <<MK
all: hello
	./hello > out.txt
	cp hello $TEST_TMP/prefix/hello
	-cat \$(HOME)/.gitconfig > /dev/null 2>&1
hello: hello.c
	\$(CC) \$(CFLAGS) -o hello hello.c
MK
export CFLAGS=-O1

log_step "learn from a recording of make"
cd src
assert_status 0 "$CORDON" learn -o ../hello.policy -- make -s
cd ..
cat hello.policy >&2
assert_file_has_content "$TEST_TMP/err" 'verification passed'
assert_file_has_content hello.policy '^# Verification: passed: rerun in a fresh copy'
rules=$(grep -cE '^(ro|rw|hide|deny|empty|redirect|tmpfs|dev|proc|home) ' hello.policy)
((rules >= 5 && rules <= 30)) || fail "$rules rules"
assert_file_has_content "$TEST_TMP/err" "^cordon: $rules rules written to "
assert_not_file_has_content hello.policy '^ro / '
assert_file_has_content hello.policy '^rw \$\{CWD\} +# the work tree$'
assert_file_has_content hello.policy "^rw $TEST_TMP/prefix +# the build wrote 1 file here$"
assert_file_has_content hello.policy '^ro /usr +# the build read [0-9]+ paths below it$'
assert_file_has_content hello.policy '^tmpfs /tmp '
assert_file_has_content hello.policy '^dev /dev '
assert_file_has_content hello.policy '^proc /proc '
assert_file_has_content hello.policy '^home fresh '
# the user's configuration: no rule, listed as left out
assert_not_file_has_content hello.policy "^[a-z]+ $HOME"
assert_file_has_content hello.policy "^#   $HOME/.gitconfig  \\(user-config\\)$"
assert_file_has_content hello.policy '^#   PATH='
# learn works on copies: the work tree is as it was (what the build writes
# outside it, it writes, as it would without cordon)
assert_not_file_exists src/hello
assert_not_file_exists src/out.txt
rm "$TEST_TMP/prefix/hello"

log_step "the policy alone runs the build"
cd src
assert_status 0 "$CORDON" run -q --policy ../hello.policy -- make -s
cd ..
assert_file_has_content src/out.txt '^hi$'
assert_file_exists "$TEST_TMP/prefix/hello"

log_step "learn from a manifest"
rm -f src/hello src/out.txt "$TEST_TMP/prefix/hello"
cd src
"$CORDON" record -q -o ../m.json -- make -s
cd ..
assert_status 0 "$CORDON" learn -q -o m.policy m.json
assert_file_has_content m.policy '^# Verification: passed'
assert_file_has_content m.policy '^rw \$\{CWD\} '
# every rule here is at the top of its unit already (/usr, /lib, one entry
# of /etc each): a budget below that is said, not met by a blanket rule
assert_status 0 "$CORDON" learn -q --no-verify --max-rules 6 -o m6.policy m.json
assert_file_has_content m6.policy '^# Verification: not verified'
assert_file_has_content "$TEST_TMP/err" 'over --max-rules 6'
assert_not_file_has_content m6.policy '^ro / '

log_step "learn from a manifest of a build that rewrote a file it read"
mkdir stamp
echo fresh >stamp/state
cd stamp
"$CORDON" record -q -o ../stamp.json -- sh -c 'test "$(cat state)" = fresh && echo built >state'
cd ..
assert_file_has_content stamp/state '^built$'
# the verifying copy gets the state as the recording first read it
assert_status 0 "$CORDON" learn -q -o stamp.policy stamp.json
assert_file_has_content stamp.policy '^# Verification: passed'
assert_file_has_content stamp/state '^built$'

log_step "a build that needs a breach: left out, and verification says so"
printf 'FLAGS=-O1\n' >"$HOME/.buildrc"
mkdir needs
cp src/hello.c needs/
printf 'hello: hello.c\n\tcat %s > flags.txt\n\t$(CC) -o hello hello.c\n' "$HOME/.buildrc" \
    >needs/Makefile
cd needs
assert_status 1 "$CORDON" learn -o ../needs.policy -- make -s
cd ..
assert_file_has_content "$TEST_TMP/err" 'verification FAILED'
assert_file_has_content "$TEST_TMP/err" 'leaves out 1 breach'
assert_file_has_content needs.policy "^#   $HOME/.buildrc  \\(user-config\\)$"
assert_file_has_content needs.policy '^# Verification: FAILED: .*exited 2 \(0 recorded\)'

log_step "a script: the interpreter and the loader the kernel opens are learned"
mkdir script
printf '#!/bin/sh\necho ran >out.txt\n' >script/run.sh
chmod +x script/run.sh
cd script
assert_status 0 "$CORDON" learn -q -o ../script.policy -- ./run.sh
cd ..
assert_file_has_content script.policy '^# Verification: passed'
assert_file_has_content script.policy '^ro /(lib64|lib|usr) '

log_step "bad input"
assert_status 125 "$CORDON" learn
assert_file_has_content "$TEST_TMP/err" 'missing the command'
assert_status 125 "$CORDON" learn --max-rules x m.json
assert_file_has_content "$TEST_TMP/err" "max-rules takes a number"
assert_status 125 "$CORDON" learn m.json -- make
assert_file_has_content "$TEST_TMP/err" 'not both'
assert_status 125 "$CORDON" learn no-such.json
assert_file_has_content "$TEST_TMP/err" 'no-such.json'
printf '{"cordon_manifest": 1, "inputs": [' >broken.json
assert_status 125 "$CORDON" learn broken.json
assert_file_has_content "$TEST_TMP/err" 'broken.json:1'
cd src
assert_status 127 "$CORDON" learn -q -- no-such-command-here
