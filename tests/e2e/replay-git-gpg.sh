#!/bin/bash
# The originating request's git/gpg case (Spack #18895, #18454): a
# ~/.gitconfig that signs through /bin/false and sets a failing hook makes
# `git commit` fail; the recording shows ~/.gitconfig read; a root packed
# with --drop user-config replays the same commit successfully, unsigned,
# with no hook. gpg with a poisoned ~/.gnupg/gpg.conf likewise.
# tiers: self nobody nouserns
# timeout: 600
set -euo pipefail
source "$(dirname "$0")/lib.sh"
command -v git >/dev/null || skip "git is not installed"
command -v gpg >/dev/null || skip "gpg is not installed"

export GIT_AUTHOR_NAME=Builder GIT_AUTHOR_EMAIL=builder@example.org
export GIT_COMMITTER_NAME=Builder GIT_COMMITTER_EMAIL=builder@example.org
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

mkdir repo
cd repo
git init -q .
echo hello >file.txt
git add file.txt
log_step "record a failing git commit"
status=0
"$CORDON" record -q -o ../git.json -- git commit -q -m "recorded commit" 2>"$TEST_TMP/git.err" ||
    status=$?
[[ $status != 0 ]] || fail "the poisoned commit succeeded natively"
assert_file_has_content "$TEST_TMP/git.err" 'poisoned hook ran'
cd ..
assert_file_has_content git.json "\"path\": \"$HOME/.gitconfig\""
assert_file_has_content git.json '"user-config"'

log_step "pack without user config and replay"
assert_status 0 "$CORDON" pack -q git.json -o git.tar.zst --drop user-config
tar --zstd -tf git.tar.zst >list
assert_not_file_has_content list '\.gitconfig$'
assert_status 0 "$CORDON" replay -q git.tar.zst --into "$TEST_TMP/groot"
assert_not_file_has_content "$TEST_TMP/err" 'poisoned hook ran'
# The commit exists in the replayed root, by the environment's identity,
# and is not signed.
git -C "$TEST_TMP/groot$TEST_TMP/repo" log -1 --format='%an %G?' >log.txt
assert_file_has_content log.txt '^Builder N$'

log_step "gpg with a poisoned gpg.conf"
mkdir -p "$HOME/.gnupg"
chmod 700 "$HOME/.gnupg"
echo 'no-such-gpg-option-poison' >"$HOME/.gnupg/gpg.conf"
# gpg 2.2 reports the bad line and goes on: the poison shows on stderr.
"$CORDON" record -q -o gpg.json -- gpg --batch --list-keys 2>gpg.err || true
assert_file_has_content gpg.err 'gpg\.conf:1: invalid option'
assert_file_has_content gpg.json "\"path\": \"$HOME/.gnupg/gpg.conf\""
assert_status 0 "$CORDON" pack -q gpg.json -o gpg.tar.zst --drop user-config
assert_status 0 "$CORDON" replay -q gpg.tar.zst --into "$TEST_TMP/gpgroot"
assert_not_file_has_content "$TEST_TMP/err" 'invalid option'
assert_not_file_exists "$TEST_TMP/gpgroot$HOME/.gnupg/gpg.conf"
