#!/bin/bash
# cordon report on a poisoned host: a HOME with git, GnuPG and pip
# configuration, a CMake user package registry and a Python user-site .pth
# file, and a header under /usr/local/include (a tmpfs in a private mount
# namespace, so the real host is untouched). A small build reads them all;
# the report names each with its category, "no package" for the user's
# files, and a fix; the system header the build read (stdio.h) is owned by
# the Debian package libc6-dev.
# tiers: self nobody
# skip-ok: nobody
set -euo pipefail
source "$(dirname "$0")/lib.sh"
unshare -Urm true 2>/dev/null || skip "no user namespaces to put a header under /usr/local/include"
[[ ! -e /usr/local/include/cordonpoison.h ]] || skip "this host has /usr/local/include/cordonpoison.h"
command -v cc >/dev/null || skip "no C compiler"
py=/usr/bin/python3
[[ -x $py ]] || skip "no /usr/bin/python3"
pyver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

log_step "poison HOME"
h=$TEST_TMP/home
mkdir -p "$h/.gnupg" "$h/.cmake/packages/Foo" "$h/.config/pip" \
    "$h/.local/lib/python$pyver/site-packages"
chmod 700 "$h/.gnupg"
printf '[user]\n\tname = Poisoned User\n' >"$h/.gitconfig"
printf 'keyserver hkps://keys.example.invalid\n' >"$h/.gnupg/gpg.conf"
printf '%s\n' "$TEST_TMP/foo-build" >"$h/.cmake/packages/Foo/0123abcd"
printf '[global]\nindex-url = https://pypi.example.invalid/simple\n' >"$h/.config/pip/pip.conf"
printf '%s\n' "$TEST_TMP/nonexistent-poison" >"$h/.local/lib/python$pyver/site-packages/poison.pth"

mkdir src
cat >src/main.c <<'C'
#include <stdio.h>
#include <cordonpoison.h>
int main(void) { printf("%d\n", POISON); return 0; }
C
# The build: git reads the user's config, python its user site, and the
# rest is read the way CMake's find_package, gpg and pip read it.
cat >src/build.sh <<SH
set -e
git config --get user.name >name.txt
"$py" -c 'import sys' 
cat "\$HOME/.cmake/packages/Foo/0123abcd" >/dev/null
cat "\$HOME/.gnupg/gpg.conf" "\$HOME/.config/pip/pip.conf" >/dev/null
cc -o main main.c
./main >out.txt
SH
cat >record.sh <<SH
set -e
mount -t tmpfs none /usr/local/include
printf '#define POISON 42\n' >/usr/local/include/cordonpoison.h
cd $TEST_TMP/src
"$CORDON" record -q -o $TEST_TMP/m.json -- sh build.sh
SH
log_step "record the build with the poisoned header in place"
unshare -Urm sh record.sh
assert_file_has_content src/out.txt '^42$'

log_step "report"
assert_status 1 "$CORDON" report m.json
cp "$TEST_TMP/out" report.txt
assert_status 1 "$CORDON" report --format json -o report.json m.json
assert_status 1 "$CORDON" report --format markdown m.json
cp "$TEST_TMP/out" report.md

# breach PATH CATEGORY FIX: the JSON names PATH with CATEGORY, no package,
# and a fix line FIX.
breach() {
    "$py" - "$1" "$2" "$3" <<'PY' || fail "report.json: $1 is not a $2 breach with fix '$3'"
import json, sys
path, cat, fix = sys.argv[1:]
r = json.load(open("report.json"))
assert r["cordon_report"] == 1
b = [b for b in r["breaches"] if b["path"] == path]
assert b, "no breach for " + path
b = b[0]
assert b["category"] == cat, b
assert b["owner"] is None, b
assert fix in b["fix"], b
assert b["ancestry"] and b["chain"], b
PY
}
breach "$h/.gitconfig" user-config 'hide ${HOME}/.gitconfig'
breach "$h/.gnupg/gpg.conf" user-config 'hide ${HOME}/.gnupg'
breach "$h/.cmake/packages/Foo/0123abcd" user-package-registry 'hide ${HOME}/.cmake/packages'
breach "$h/.config/pip/pip.conf" user-config 'set PIP_CONFIG_FILE=/dev/null'
breach "$h/.local/lib/python$pyver/site-packages/poison.pth" user-site-packages \
    'set PYTHONNOUSERSITE=1'
breach /usr/local/include/cordonpoison.h system-header 'hide /usr/local/include/cordonpoison.h'

log_step "the text and Markdown forms name them too"
assert_file_has_content report.txt '^user-config +.*/\.gitconfig  \[git; no package; read\]'
assert_file_has_content report.txt 'by sh > git'
assert_file_has_content report.txt '^system-header +/usr/local/include/cordonpoison\.h  \[cc; no package'
assert_file_has_content report.txt 'cordon pack --drop user-site-packages'
assert_file_has_content report.md '^### user-config \(3\): `cordon pack --drop user-config`'
assert_file_has_content report.md '`/usr/local/include/cordonpoison\.h` \(no package, read\) by `sh > cc'
[[ $(wc -l <report.md) -le 60 ]] || fail "the Markdown report is longer than a page: $(wc -l <report.md) lines"

log_step "system files carry their Debian package"
if [[ -d /var/lib/dpkg/info ]] && dpkg -S /usr/include/stdio.h >/dev/null 2>&1; then
    want=$(dpkg -S /usr/include/stdio.h | cut -d: -f1)
    assert_file_has_content m.json "\"package\": \"dpkg:$want "
    "$py" - "$want" <<'PY' || fail "report.json does not list $want among the packages"
import json, sys
r = json.load(open("report.json"))
assert any(p["name"] == sys.argv[1] and p["manager"] == "dpkg" for p in r["packages"]), r["packages"]
assert not [b for b in r["breaches"] if b["path"] == "/usr/include/stdio.h"]
PY
    [[ $want == libc6-dev ]] || fail "stdio.h belongs to '$want', expected libc6-dev"
else
    log "no dpkg database: owners of system files not checked"
fi

log_step "--declare takes a prefix out of the breaches"
assert_status 1 "$CORDON" report --declare "$h/.cmake" --format json -o decl.json m.json
"$py" - <<'PY' || fail "a declared prefix is still reported"
import json
r = json.load(open("decl.json"))
assert not [b for b in r["breaches"] if "/.cmake/" in b["path"]]
PY

log_step "bad input is refused with a message"
assert_status 125 "$CORDON" report --format pdf m.json
assert_file_has_content "$TEST_TMP/err" "unknown format 'pdf'"
printf '{"cordon_manifest": 1' >broken.json
assert_status 125 "$CORDON" report broken.json
assert_file_has_content "$TEST_TMP/err" 'broken\.json'
