#!/bin/bash
# bisect finds a poisoned pip.conf and a poisoned PIP_INDEX_URL among more
# than twenty candidate breaches, and names the runs it took.
#
# The "build" is a faithful miniature of a Python package build that
# resolves from pip's index: it reads the configuration files tools read
# (twenty dotfiles, git's and pip's), takes the index from pip.conf, lets
# PIP_INDEX_URL override it as pip does, and fails as `pip install` would
# when the index it ends up with is the poisoned one. It does not run pip:
# a script that greps the same files and variable decides the same way.
#
# The story: the build was recorded here with the poisoned ~/.config/pip/
# pip.conf (it failed) and without PIP_INDEX_URL; the root packed with
# --drop user-config replays successfully; natively, with PIP_INDEX_URL now
# set to a poisoned index too, it fails. bisect adds the host's left-out
# files and differing variables back to the root in halves and names both.
# Either culprit alone poisons the build ("or"); a second build needs both
# ("and", pip's extra index from pip.conf with the variable's index): bisect
# reports them as two groups, then as one.
# tiers: self nobody nouserns
# timeout: 600
set -euo pipefail
source "$(dirname "$0")/lib.sh"

mkdir -p "$HOME/.config/pip" src
for i in $(seq -w 1 20); do
    printf '[tool%s]\nsetting = ordinary\n' "$i" >"$HOME/.tool${i}rc"
done
printf '[user]\n\tname = Someone\n' >"$HOME/.gitconfig"
printf '[global]\nindex-url = https://pypi.poison.invalid/simple\n' >"$HOME/.config/pip/pip.conf"

cat >src/build.sh <<'SH'
#!/bin/sh
# a miniature pip-using build (see the test's header)
index=https://pypi.org/simple
extra=
for f in "$HOME/.config/pip/pip.conf" "$HOME/.pip/pip.conf"; do
    if [ -r "$f" ]; then
        v=$(sed -n 's/^index-url *= *//p' "$f")
        [ -n "$v" ] && index=$v
        e=$(sed -n 's/^extra-index-url *= *//p' "$f")
        [ -n "$e" ] && extra=$e
    fi
done
for i in 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16 17 18 19 20; do
    f="$HOME/.tool${i}rc"
    [ -r "$f" ] && cat "$f" >/dev/null
done
[ -r "$HOME/.gitconfig" ] && cat "$HOME/.gitconfig" >/dev/null
[ -n "${PIP_INDEX_URL:-}" ] && index=$PIP_INDEX_URL
if [ "${BUILD_NEEDS:-or}" = and ]; then
    # both: the variable's index and pip.conf's extra index are poisoned
    case "$index $extra" in *poison*' '*poison*) echo "pip: poisoned resolution" >&2; exit 3 ;; esac
else
    case $index in *poison*) echo "pip: cannot resolve from $index" >&2; exit 3 ;; esac
fi
echo built >out.txt
SH
chmod +x src/build.sh

unset PIP_INDEX_URL
export BUILD_NEEDS=or
cd src
log_step "record natively: the poisoned pip.conf fails the build"
status=0
"$CORDON" record -q -o ../m.json -- ./build.sh 2>"$TEST_TMP/rec.err" || status=$?
[[ $status == 3 ]] || fail "the recorded build exited $status, expected 3"
cd ..
assert_file_has_content m.json "\"path\": \"$HOME/.config/pip/pip.conf\""
assert_file_has_content m.json "\"path\": \"$HOME/.tool20rc\""

log_step "pack without the user's configuration: the replay passes"
assert_status 0 "$CORDON" pack -q m.json -o root.tar.zst --drop user-config
assert_status 0 "$CORDON" replay -q root.tar.zst --into "$TEST_TMP/proot"

log_step "natively, with PIP_INDEX_URL poisoned too, the build fails"
export PIP_INDEX_URL=https://pypi.poison.invalid/simple
status=0
(cd src && ./build.sh 2>/dev/null) || status=$?
[[ $status == 3 ]] || fail "the native build exited $status, expected 3"

log_step "bisect names both, either of which suffices"
assert_status 0 "$CORDON" bisect root.tar.zst -- ./build.sh
cp "$TEST_TMP/out" bisect-or.txt
cat bisect-or.txt >&2
n=$(sed -n 's/^\([0-9]*\) candidates: .*/\1/p' bisect-or.txt)
[[ -n $n && $n -ge 23 ]] || fail "expected at least 23 candidates, got '$n'"
assert_file_has_content bisect-or.txt "^  #[0-9]+ file $HOME/.tool07rc  \(left out of the archive \(user-config\)\)"
assert_file_has_content bisect-or.txt "^  #[0-9]+ env PIP_INDEX_URL=https://pypi.poison.invalid/simple  \(not in the recording\)"
assert_file_has_content bisect-or.txt "^culprit file $HOME/.config/pip/pip.conf "
assert_file_has_content bisect-or.txt '^culprit env PIP_INDEX_URL=https://pypi.poison.invalid/simple '
[[ $(grep -c '^culprit ' bisect-or.txt) == 2 ]] || fail "expected exactly two culprits"
assert_file_has_content bisect-or.txt '^alone, group 1: '
assert_file_has_content bisect-or.txt '^alone, group 2: '
assert_file_has_content bisect-or.txt '^run 1: added nothing -> exit 0 \(the hermetic replay\)$'
assert_file_has_content bisect-or.txt "^run 2: added all $n -> exit 3 \\(differs\\)$"
runs=$(grep -c '^run [0-9]*: ' bisect-or.txt)
summary_runs=$(sed -n 's/.*everything added; \([0-9]*\) runs.*/\1/p' bisect-or.txt)
[[ $runs == "$summary_runs" ]] || fail "$runs runs listed, the summary says '$summary_runs'"
# about log2(n) runs per culprit, far fewer than one per candidate
((runs <= 2 * (5 + 2) + 2)) || fail "$runs runs for $n candidates"
((runs < n)) || fail "$runs runs: not fewer than the $n candidates"

log_step "a build that needs both: one group of two"
cat >poison.conf <<'CONF'
[global]
extra-index-url = https://extra.poison.invalid/simple
CONF
cp poison.conf "$HOME/.config/pip/pip.conf"
unset PIP_INDEX_URL
export BUILD_NEEDS=and
cd src
"$CORDON" record -q -o ../m2.json -- ./build.sh
cd ..
assert_status 0 "$CORDON" pack -q m2.json -o root2.tar.zst --drop user-config
export PIP_INDEX_URL=https://pypi.poison.invalid/simple
assert_status 0 "$CORDON" bisect root2.tar.zst -- ./build.sh
cp "$TEST_TMP/out" bisect-and.txt
cat bisect-and.txt >&2
assert_file_has_content bisect-and.txt "^together, group 1: "
assert_file_has_content bisect-and.txt "^culprit file $HOME/.config/pip/pip.conf "
assert_file_has_content bisect-and.txt '^culprit env PIP_INDEX_URL='
[[ $(grep -c '^culprit ' bisect-and.txt) == 2 ]] || fail "expected exactly two culprits"
assert_not_file_has_content bisect-and.txt '^alone'

log_step "nothing to find when the host adds nothing that matters"
unset PIP_INDEX_URL
printf '[global]\n' >"$HOME/.config/pip/pip.conf"
assert_status 1 "$CORDON" bisect root2.tar.zst -- ./build.sh
assert_file_has_content "$TEST_TMP/out" '^no difference: '

log_step "a candidates file, and bad input"
printf 'file %s  # an innocent one\n' "$HOME/.tool01rc" >cands
cp poison.conf "$HOME/.config/pip/pip.conf"
printf 'file %s\nenv PIP_INDEX_URL=https://pypi.poison.invalid/simple\n' \
    "$HOME/.config/pip/pip.conf" >>cands
assert_status 0 "$CORDON" bisect root2.tar.zst --candidates cands -- ./build.sh
assert_file_has_content "$TEST_TMP/out" '^3 candidates: .*candidates file'
printf 'file relative\n' >bad
assert_status 125 "$CORDON" bisect root2.tar.zst --candidates bad -- ./build.sh
assert_file_has_content "$TEST_TMP/err" "bad:1: 'relative' is not an absolute path"
assert_status 125 "$CORDON" bisect root2.tar.zst
assert_file_has_content "$TEST_TMP/err" 'missing the test'
assert_status 125 "$CORDON" bisect no-such.tar.zst -- ./build.sh
assert_file_has_content "$TEST_TMP/err" 'no-such.tar.zst'

log_step "a test that rewrites a shared file of the root in place is stopped"
assert_status 125 "$CORDON" bisect root2.tar.zst -- sh -c 'echo x >>/etc/ld.so.cache'
assert_file_has_content "$TEST_TMP/err" "changed '.*/etc/ld.so.cache' in place"
