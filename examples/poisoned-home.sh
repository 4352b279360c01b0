#!/usr/bin/env bash
# poisoned-home.sh: the same commands run natively and under `cordon run`, with a HOME
# that user configuration has poisoned.
#
# It makes a temporary directory with
#   home/  a poisoned HOME:
#          - .gitconfig: a fake identity, commit signing with gpg.program=/bin/false, and
#            core.hooksPath pointing at a pre-commit hook that always fails;
#          - a .pth file in the Python user site-packages that prints a warning every time
#            Python starts;
#          - an entry in CMake's user package registry (~/.cmake/packages) that points
#            find_package(Poison) at another project's stale build tree;
#   work/  the working directory: a small git repository, a CMake project, and that other
#          project's build tree.
# Then it runs the commands natively, where the poison shows, and under `cordon run`, where
# it does not. It needs git, python3, cmake and cordon (found as ${CORDON:-cordon}).
#
# Exit status: 0 when every leak showed natively and none showed under cordon, 1 when
# something came out differently, 2 when a tool is missing. KEEP=1 keeps the directory.
set -euo pipefail

CORDON=${CORDON:-cordon}

# Everything the demonstration writes goes into one directory, removed at the end.
T=$(mktemp -d -t poisoned-home.XXXXXX)
trap 'if [[ ${KEEP:-} == 1 ]]; then echo "(kept $T)"; else rm -rf -- "$T"; fi' EXIT
chmod 0755 "$T"

# Start from a known environment, so that the caller's own settings neither hide the poison
# when run natively nor replace the identity that the build gives git.
export LC_ALL=C
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_CONFIG GIT_CONFIG_GLOBAL GIT_CONFIG_SYSTEM \
	GIT_CONFIG_COUNT GIT_CONFIG_PARAMETERS GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL \
	GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL EMAIL XDG_CONFIG_HOME \
	PYTHONUSERBASE PYTHONNOUSERSITE PYTHONPATH PYTHONHOME

missing() {
	printf 'poisoned-home: %s\n' "$*" >&2
	exit 2
}
command -v git >/dev/null || missing "git is not installed (apt-get install git)"
command -v cmake >/dev/null || missing "cmake is not installed (apt-get install cmake)"
# The system interpreter when there is one: a virtualenv's python has no user site at all.
if [[ -x /usr/bin/python3 ]]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
command -v "$PYTHON" >/dev/null || missing "python3 is not installed (apt-get install python3)"
command -v -- "$CORDON" >/dev/null ||
	missing "cordon not found: install it (scripts/install) or set CORDON=/path/to/cordon"

# ------------------------------------------------------------------ output helpers

heading() { printf '\n== %s\n\n' "$*"; }

# How a command is shown: `cordon` for whatever $CORDON is, arguments quoted as a shell would.
shown() {
	local out="" a
	for a in "$@"; do
		[[ $a == "$CORDON" ]] && a=cordon
		if [[ $a =~ ^[][A-Za-z0-9_./=:@%+,-]+$ ]]; then
			out+=" $a"
		else
			out+=" '${a//\'/\'\\\'\'}'"
		fi
	done
	printf '%s' "${out# }"
}

# step COMMAND...: show the command, run it with stdout and stderr together, show what it
# printed (indented) and its exit status when not 0. Leaves OUT and RC for the checks.
OUT=""
RC=0
step() {
	printf '$ %s\n' "$(shown "$@")"
	RC=0
	OUT=$("$@" 2>&1) || RC=$?
	if [[ -n $OUT ]]; then printf '%s\n' "$OUT" | sed 's/^/    /'; fi
	if ((RC != 0)); then printf '    [exit %d]\n' "$RC"; fi
	return 0
}

CHECKS=0
FAILED=()
# check DESCRIPTION CONDITION...: what the last step printed and returned, where each
# condition is `has TEXT`, `lacks TEXT`, `status N` or `fails` (any status but 0).
check() {
	local what=$1 good=1
	shift
	while (($#)); do
		case $1 in
		has)
			[[ $OUT == *"$2"* ]] || good=0
			shift 2
			;;
		lacks)
			[[ $OUT != *"$2"* ]] || good=0
			shift 2
			;;
		status)
			((RC == $2)) || good=0
			shift 2
			;;
		fails)
			((RC != 0)) || good=0
			shift
			;;
		*)
			echo "poisoned-home: internal error: unknown condition $1" >&2
			exit 2
			;;
		esac
	done
	CHECKS=$((CHECKS + 1))
	if ((good)); then
		printf '    ok: %s\n' "$what"
	else
		printf '    UNEXPECTED: %s\n' "$what"
		FAILED+=("$what")
	fi
}

# ------------------------------------------------------------------ the poisoned world

export HOME=$T/home
WORK=$T/work
mkdir -p "$HOME/.git-hooks" "$WORK"

# git: a fake identity, signing that cannot work, and a hook that refuses every commit.
cat >"$HOME/.gitconfig" <<EOF
[user]
	name = Fake Identity
	email = fake@poison.invalid
[commit]
	gpgsign = true
[gpg]
	program = /bin/false
[core]
	hooksPath = $HOME/.git-hooks
EOF
cat >"$HOME/.git-hooks/pre-commit" <<'EOF'
#!/bin/sh
echo "pre-commit hook from ~/.gitconfig: refusing to commit" >&2
exit 1
EOF
chmod 0755 "$HOME/.git-hooks/pre-commit"

# Python: a .pth file in the user site-packages runs its `import` lines at every start-up.
USER_SITE=$("$PYTHON" -c 'import site; print(site.getusersitepackages())')
mkdir -p "$USER_SITE"
cat >"$USER_SITE/poison.pth" <<'EOF'
import sys; sys.stderr.write("WARNING: poison.pth from the user site-packages ran at start-up\n")
EOF

# CMake: another project's build tree, registered in the user package registry as
# export(PACKAGE) would do; find_package() consults the registry unless told not to.
mkdir -p "$WORK/other-project/build" "$HOME/.cmake/packages/Poison"
echo '# a stale build tree of another project' >"$WORK/other-project/build/PoisonConfig.cmake"
echo "$WORK/other-project/build" >"$HOME/.cmake/packages/Poison/5f2d6c0e"
mkdir -p "$WORK/app"
cat >"$WORK/app/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.13)
project(app NONE)
find_package(Poison CONFIG QUIET)
if(Poison_FOUND)
  message(STATUS "find_package(Poison): found in ${Poison_DIR}")
else()
  message(STATUS "find_package(Poison): not found")
endif()
EOF

# A small repository with one staged file.
git init -q "$WORK/repo"
printf 'int main(void) { return 0; }\n' >"$WORK/repo/main.c"
git -C "$WORK/repo" add main.c

heading "a poisoned HOME in $T"
echo "HOME=$HOME holds:"
echo "  .gitconfig             a fake identity, commit signing with /bin/false, a failing pre-commit hook"
echo "  ${USER_SITE#"$HOME"/}/poison.pth"
echo "                         Python code run at every interpreter start-up"
echo "  .cmake/packages/Poison a CMake user package registry entry: work/other-project/build"

if ! "$CORDON" run -- true; then
	printf '\n"cordon run -- true" failed: cordon cannot make a sandbox here; see "cordon doctor"\n' >&2
	exit 1
fi

# ------------------------------------------------------------------ git

cd "$WORK/repo"
heading "1. git, natively"
step git config user.name
check "git reads the fake identity from ~/.gitconfig" has "Fake Identity" status 0
step git commit -q -m 'first commit'
check "the pre-commit hook named in ~/.gitconfig refuses the commit" \
	has "refusing to commit" fails
step git commit -q --no-verify -m 'first commit'
check "even without the hook, signing with gpg.program=/bin/false fails" \
	has "gpg failed to sign" fails

heading "1. git, under cordon run"
step "$CORDON" run -- git config user.name
check "no identity comes from the user's configuration" lacks "Fake Identity" status 1
step "$CORDON" run -- git -c user.name='A Builder' -c user.email=builder@example.org \
	commit -q -m 'first commit'
check "the commit succeeds: no hook, no signing" status 0
step "$CORDON" run -- git log --format='%an <%ae> signature:%G? %s'
check "the commit has the identity the build gave, and no signature" \
	has "A Builder <builder@example.org> signature:N first commit" status 0

# ------------------------------------------------------------------ Python

cd "$WORK"
heading "2. Python, natively"
step "$PYTHON" -c 'print("hello from python")'
check "the .pth file in the user site-packages runs at start-up" has "WARNING: poison.pth"

heading "2. Python, under cordon run"
step "$CORDON" run -- "$PYTHON" -c 'print("hello from python")'
check "nothing from the user site-packages runs" \
	lacks "poison.pth" has "hello from python" status 0

# ------------------------------------------------------------------ CMake

heading "3. CMake, natively"
step cmake -S app -B build-native
check "find_package(Poison) follows the user package registry to another project's build tree" \
	has "find_package(Poison): found in $WORK/other-project/build"

heading "3. CMake, under cordon run"
step "$CORDON" run -- cmake -S app -B build-cordon
check "find_package(Poison) finds nothing, although that build tree is visible" \
	has "find_package(Poison): not found" status 0

# ------------------------------------------------------------------ --home keep

heading "4. the real HOME kept, read-only (cordon run --home keep)"
echo "The profiles' rules hide the known configuration files even when HOME is not replaced."
step "$CORDON" run --home keep -- ls -A "$HOME" "$HOME/.cmake"
check "HOME shows no .gitconfig and no .cmake/packages, and the rest of its files" \
	lacks ".gitconfig" lacks "packages" has ".git-hooks" status 0
step "$CORDON" run --home keep -- git -C repo config user.name
check "git finds no identity" lacks "Fake Identity" status 1
step "$CORDON" run --home keep -- touch "$HOME/new-file"
check "HOME is read-only" has "Read-only file system" fails

# ------------------------------------------------------------------ verdict

heading "result"
if ((${#FAILED[@]} == 0)); then
	echo "all $CHECKS checks came out as expected: each leak showed natively and none under cordon"
	exit 0
fi
echo "${#FAILED[@]} of $CHECKS checks came out differently:"
printf '  - %s\n' "${FAILED[@]}"
exit 1
