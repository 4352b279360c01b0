#!/bin/bash
# Reproducing a bug on another host: a build that fails on the recording
# host because of a header under /usr/local/include fails the same way
# (same status, same message) when its archive is replayed where that
# header does not exist; there `verify` names the header, and `diff` of the
# two hosts' manifests ranks it first.
# The recording host is this machine with a tmpfs over /usr/local/include
# (a private mount namespace), so nothing of the real host changes.
# tiers: self nobody
# skip-ok: nobody
set -euo pipefail
source "$(dirname "$0")/lib.sh"
unshare -Urm true 2>/dev/null || skip "no user namespaces to simulate the recording host"
[[ ! -e /usr/local/include/cordonbug.h ]] || skip "this host has /usr/local/include/cordonbug.h"

mkdir src
cat >src/main.c <<'C'
#include <cordonbug.h>
int main(void) { return CORDONBUG; }
C
cat >src/Makefile <<'MK'
main: main.c
	cc -o main main.c
MK
cat >recording-host.sh <<SH
set -e
mount -t tmpfs none /usr/local/include
printf '#error "cordonbug.h from /usr/local/include is broken"\n' >/usr/local/include/cordonbug.h
cd $TEST_TMP/src
status=0
"$CORDON" record -q -o $TEST_TMP/bad.json -- make >$TEST_TMP/rec.out 2>$TEST_TMP/rec.err || status=\$?
echo \$status >$TEST_TMP/rec.status
# The archive is made where the header is: on the recording host.
"$CORDON" pack -q $TEST_TMP/bad.json -o $TEST_TMP/bad.tar.zst
SH
unshare -Urm sh recording-host.sh
read -r rec_status <rec.status
[[ $rec_status == 2 ]] || fail "the recorded build exited $rec_status, expected make's 2"
assert_file_has_content rec.err 'cordonbug.h from /usr/local/include is broken'
assert_file_has_content bad.json '"path": "/usr/local/include/cordonbug.h"'

log_step "replay where the header does not exist"
assert_file_exists bad.tar.zst
status=0
"$CORDON" replay -q bad.tar.zst --into "$TEST_TMP/root" >rep.out 2>rep.err || status=$?
[[ $status == "$rec_status" ]] || { cat rep.err >&2; fail "replay exited $status, not $rec_status"; }
assert_file_has_content rep.err 'cordonbug.h from /usr/local/include is broken'

log_step "verify on this host names the header"
assert_status 1 "$CORDON" verify -q bad.json
assert_file_has_content "$TEST_TMP/out" '/usr/local/include/cordonbug.h'

log_step "diff of the two hosts' manifests ranks it first"
cd src
status=0
"$CORDON" record -q -o ../good.json -- make >/dev/null 2>&1 || status=$?
cd ..
assert_status 1 "$CORDON" diff bad.json good.json
grep -m1 '/' "$TEST_TMP/out" >first
assert_file_has_content first '/usr/local/include/cordonbug\.h'
