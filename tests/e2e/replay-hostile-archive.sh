#!/bin/bash
# Hostile and broken archives given to `cordon replay`: each is refused with
# a message naming the entry, exit 125, nothing is written outside the
# root, and no half-unpacked root is left to be used.
# tiers: self nobody
set -euo pipefail
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is needed to craft the archives"

mkdir -p outside
python3 - "$TEST_TMP" <<'PY'
import io, sys, tarfile
tmp = sys.argv[1]
def entry(t, name, kind=tarfile.REGTYPE, data=b"x", mode=0o644, link=""):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.linkname = kind, mode, link
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    t.addfile(ti, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
def make(name, build):
    with tarfile.open(f"{tmp}/{name}.tar", "w", format=tarfile.PAX_FORMAT) as t:
        entry(t, ".cordon", tarfile.DIRTYPE, mode=0o755)
        build(t)
make("dotdot", lambda t: entry(t, "../outside/pwned"))
make("absolute", lambda t: entry(t, f"{tmp}/outside/pwned-abs"))
make("escaping-symlink", lambda t: entry(t, "up", tarfile.SYMTYPE, link="../../../../../../outside"))
def through(t):
    entry(t, "evil", tarfile.SYMTYPE, link=f"{tmp}/outside")
    entry(t, "evil/pwned-through")
make("through-symlink", through)
make("device", lambda t: entry(t, "dev-null", tarfile.CHRTYPE))
make("fifo", lambda t: entry(t, "fifo", tarfile.FIFOTYPE))
make("setuid", lambda t: entry(t, "suid", mode=0o4755))
make("hardlink-out", lambda t: entry(t, "hl", tarfile.LNKTYPE, link=f"{tmp}/outside/target"))
PY
echo target >outside/target
# A truncated archive: half of a valid one.
head -c 700 dotdot.tar >truncated.tar
printf 'this is not an archive\n' >garbage.tar

for name in dotdot absolute escaping-symlink through-symlink device fifo setuid hardlink-out \
    truncated garbage; do
    log_step "$name"
    assert_status 125 "$CORDON" replay -q "$name.tar" --into "$TEST_TMP/root-$name" -- true
    assert_file_has_content "$TEST_TMP/err" '^cordon: '
    assert_not_file_exists "$TEST_TMP/root-$name"
    ls outside >outside.list
    [[ $(cat outside.list) == target ]] || fail "$name wrote outside the root: $(cat outside.list)"
    for leftover in "$TEST_TMP/root-$name"*; do
        [[ -e $leftover ]] && fail "$name left a partial root behind: $leftover"
    done
done
# The refusal names the entry.
assert_status 125 "$CORDON" replay -q dotdot.tar --into "$TEST_TMP/r1" -- true
assert_file_has_content "$TEST_TMP/err" '\.\./outside/pwned'
assert_status 125 "$CORDON" replay -q device.tar --into "$TEST_TMP/r2" -- true
assert_file_has_content "$TEST_TMP/err" 'dev-null'
