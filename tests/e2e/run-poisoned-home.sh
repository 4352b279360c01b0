#!/bin/bash
# Issue 17's acceptance: a poisoned HOME (a ~/.gitconfig with a fake
# identity, signing through /bin/false and a failing hook; ~/.gnupg/gpg.conf
# with an invalid option; a CMake user package registry entry; a .pth file
# in the Python user site) and, where the test can make one, a poisoned
# /etc/gitconfig: natively each leak shows; under `cordon run` (the default
# profile, build) none does, on every runner this machine allows.
# tiers: self nobody nouserns
# timeout: 600
set -euo pipefail
source "$(dirname "$0")/lib.sh"
command -v git >/dev/null || skip "git is not installed"

export GIT_AUTHOR_NAME=Builder GIT_AUTHOR_EMAIL=builder@example.org
export GIT_COMMITTER_NAME=Builder GIT_COMMITTER_EMAIL=builder@example.org
# The distribution's python: a version manager's shim (pyenv) lives in the
# real home, which the fresh HOME does not show.
python=
for p in /usr/bin/python3 /usr/local/bin/python3; do
    [[ -x $p ]] && python=$p && break
done

log_step "poison the home"
mkdir -p "$HOME/hooks"
cat >"$HOME/.gitconfig" <<CFG
[user]
	name = Poisoned Identity
	email = poison@example.org
[commit]
	gpgsign = true
[gpg]
	program = /bin/false
[core]
	hooksPath = $HOME/hooks
CFG
printf '#!/bin/sh\necho "poisoned hook ran" >&2\nexit 1\n' >"$HOME/hooks/pre-commit"
chmod +x "$HOME/hooks/pre-commit"
mkdir -p "$HOME/.gnupg"
chmod 700 "$HOME/.gnupg"
echo 'no-such-gpg-option-poison' >"$HOME/.gnupg/gpg.conf"
# CMake's user package registry: an entry naming a directory with a
# FooConfig.cmake, found by find_package(Foo) with no hint at all.
mkdir -p "$TEST_TMP/foo-pkg" "$HOME/.cmake/packages/Foo"
echo 'set(FOO_POISON "registry")' >"$TEST_TMP/foo-pkg/FooConfig.cmake"
echo "$TEST_TMP/foo-pkg" >"$HOME/.cmake/packages/Foo/poison"
mkdir -p cmake-src
cat >cmake-src/CMakeLists.txt <<'CM'
cmake_minimum_required(VERSION 3.10)
project(probe NONE)
find_package(Foo QUIET)
message(STATUS "foo found=${Foo_FOUND} dir=${Foo_DIR}")
CM
if [[ -n $python ]]; then
    site=$(HOME=$HOME "$python" -c 'import site; print(site.getusersitepackages())')
    mkdir -p "$site"
    echo 'import sys; sys.stderr.write("poisoned pth ran\n")' >"$site/poison.pth"
fi

mkdir work
cd work
git init -q .
echo hello >file.txt
git add file.txt

# Each check runs `$@ -- CMD` (nothing for native) and says whether the
# leak showed: "leak" or "clean" on stdout, the command's output in files.
leak_git_identity() {
    "$@" git config user.name >id.out 2>id.err || true
    if grep -q 'Poisoned Identity' id.out; then echo leak; else echo clean; fi
}
leak_git_commit() {
    local st=0
    "$@" git commit -q --allow-empty -m probe >commit.out 2>commit.err || st=$?
    if grep -qE 'poisoned hook ran|gpg failed|failed to sign' commit.err; then
        echo leak
    elif [[ $st == 0 ]]; then
        git log -1 --format='%an %G?' >author.out
        if grep -q '^Builder N$' author.out; then echo clean; else echo leak; fi
    else
        # Not the poison: say what it was.
        log "--- git commit failed otherwise:"
        cat commit.err >&2
        echo error
    fi
}
leak_gpg() {
    command -v gpg >/dev/null || {
        echo clean
        return
    }
    "$@" gpg --batch --list-keys >gpg.out 2>gpg.err || true
    if grep -q 'invalid option' gpg.err; then echo leak; else echo clean; fi
}
leak_cmake() {
    command -v cmake >/dev/null || {
        echo clean
        return
    }
    rm -rf cmake-build
    "$@" cmake -S ../cmake-src -B cmake-build >cmake.out 2>cmake.err || true
    if grep -q "foo found=1 dir=$TEST_TMP/foo-pkg" cmake.out; then echo leak; else echo clean; fi
}
leak_python() {
    [[ -n $python ]] || {
        echo clean
        return
    }
    "$@" "$python" -c 'pass' >py.out 2>py.err || true
    if grep -q 'poisoned pth ran' py.err; then echo leak; else echo clean; fi
}
checks="git_identity git_commit gpg cmake python"

log_step "natively, each leak shows"
for c in $checks; do
    got=$("leak_$c")
    case $c in
    gpg) command -v gpg >/dev/null || continue ;;
    cmake) command -v cmake >/dev/null || continue ;;
    python) [[ -n $python ]] || continue ;;
    esac
    [[ $got == leak ]] || fail "natively the $c poison did not show ($got)"
    log "native $c: leak shows"
done
git reset -q --soft HEAD 2>/dev/null || true

log_step "the runners this machine allows"
runners=()
for b in namespace landlock hook; do
    if "$CORDON" run -q --backend "$b" -- true 2>"$TEST_TMP/probe-$b.err"; then
        runners+=("$b")
    else
        log "runner $b does not work here: $(head -c 300 "$TEST_TMP/probe-$b.err")"
    fi
done
((${#runners[@]} > 0)) || fail "no runner of cordon run works here"
log "runners: ${runners[*]}"

ran=0
for b in "${runners[@]}"; do
    log_step "under cordon run --backend $b, no leak shows"
    for c in $checks; do
        got=$("leak_$c" "$CORDON" run -q --backend "$b" --)
        [[ $got == clean ]] || fail "under --backend $b the $c poison shows ($got)"
        log "$b $c: clean"
    done
    ran=$((ran + 1))
done
((ran > 0)) || fail "no runner ran the checks"

log_step "a poisoned /etc/gitconfig"
if [[ $(id -u) != 0 ]]; then
    log "skipped: making a private /etc/gitconfig needs root (unshare -m); tier $CORDON_TIER runs as uid $(id -u)"
elif ! unshare -m true 2>/dev/null; then
    log "skipped: unshare -m does not work here"
else
    printf '[user]\n\tname = Site Poison\n' >"$TEST_TMP/site-gitconfig"
    # In a private mount namespace, an overlay of /etc whose top layer holds
    # the poisoned file: a file of its own, as the distribution's is (a bind
    # of a file from the test's dir would be the very inode that dir's
    # Landlock grant covers).
    cat >"$TEST_TMP/site.sh" <<'SH'
set -euo pipefail
mkdir -p "$TEST_TMP/etc-layer"
cp "$TEST_TMP/site-gitconfig" "$TEST_TMP/etc-layer/gitconfig"
mount -t overlay overlay -o "lowerdir=$TEST_TMP/etc-layer:/etc" /etc
native=$(git config --system user.name || true)
[[ $native == "Site Poison" ]] || { echo "native: '$native'"; exit 3; }
for b in $RUNNERS; do
    got=$("$CORDON" run -q --backend "$b" -- git config user.name 2>"$TEST_TMP/site-$b.err" || true)
    [[ $got != *"Site Poison"* ]] || { echo "$b: '$got'"; exit 4; }
    echo "$b: clean"
done
SH
    st=0
    RUNNERS="${runners[*]}" unshare -m bash "$TEST_TMP/site.sh" >site.out 2>site.err || st=$?
    cat site.out >&2
    [[ $st != 3 ]] || fail "natively the poisoned /etc/gitconfig did not show: $(cat site.out)"
    [[ $st == 0 ]] || fail "the /etc/gitconfig poison shows under cordon run (or the test failed): $(cat site.out site.err)"
fi
