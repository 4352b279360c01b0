#!/bin/bash
# cordon run's command line: usage errors (125, naming the problem), the
# command's own status, 126/127 when it cannot be run, the pick said aloud,
# policy files and profiles applied in order with flags overriding them,
# the environment, HOME and network flags, and --require enforce: Landlock
# where the hook would only advise, a refusal where nothing enforces (a
# machine simulated without user namespaces and without Landlock).
# tiers: self nobody nouserns
set -euo pipefail
source "$(dirname "$0")/lib.sh"

mkdir work
cd work

log_step "usage errors: 125 with the problem named"
assert_status 125 "$CORDON" run
assert_file_has_content "$TEST_TMP/err" 'no command'
assert_status 125 "$CORDON" run --
assert_file_has_content "$TEST_TMP/err" 'no command'
assert_status 125 "$CORDON" run --no-such-option -- true
assert_file_has_content "$TEST_TMP/err" "no-such-option"
assert_status 125 "$CORDON" run --backend fakechroot -- true
assert_file_has_content "$TEST_TMP/err" "unknown backend 'fakechroot'"
assert_status 125 "$CORDON" run --require nothing -- true
assert_file_has_content "$TEST_TMP/err" "'enforce'"
assert_status 125 "$CORDON" run --redirect /etc/hosts -- true
assert_file_has_content "$TEST_TMP/err" 'P=OTHER'
assert_status 125 "$CORDON" run --network maybe -- true
assert_file_has_content "$TEST_TMP/err" 'on or off'
assert_status 125 "$CORDON" run --set NOEQUALS -- true
assert_file_has_content "$TEST_TMP/err" 'NAME=VALUE'
assert_status 125 "$CORDON" run true
assert_file_has_content "$TEST_TMP/err" "unexpected argument 'true'"
assert_status 125 "$CORDON" run --profile no-such-profile -- true
assert_file_has_content "$TEST_TMP/err" 'no-such-profile'
assert_file_has_content "$TEST_TMP/err" 'build'
assert_status 125 "$CORDON" run --policy missing.policy -- true
assert_file_has_content "$TEST_TMP/err" 'missing\.policy'
printf 'ro /\nfrobnicate /x\n' >bad.policy
assert_status 125 "$CORDON" run --policy bad.policy -- true
assert_file_has_content "$TEST_TMP/err" 'bad\.policy:2'

log_step "--help"
assert_status 0 "$CORDON" run --help
for opt in --policy --profile --ro --rw --hide --deny --empty --tmpfs --redirect --unset --set \
    --home --network --backend --require --quiet; do
    grep -q -- "$opt" "$TEST_TMP/out" || fail "--help does not name $opt"
done

runners=()
for b in namespace landlock hook; do
    if "$CORDON" run -q --backend "$b" -- true 2>/dev/null; then runners+=("$b"); fi
done
((${#runners[@]} > 0)) || fail "no runner of cordon run works here"
log "runners: ${runners[*]}"

log_step "auto says its pick on stderr, --quiet does not"
assert_status 0 "$CORDON" run -- true
assert_file_has_content "$TEST_TMP/err" '^cordon: running with (namespace|hook|landlock)'
assert_status 0 "$CORDON" run -q -- true
[[ ! -s $TEST_TMP/err ]] || fail "--quiet printed: $(cat "$TEST_TMP/err")"

printf 'not a program\n' >notexec
chmod 0644 notexec
echo visible >marker
mkdir -p "$HOME"
echo home-file >"$HOME/home-marker"
for b in "${runners[@]}"; do
    q=(-q --backend "$b")
    log_step "$b: the command's status, 126 and 127"
    assert_status 0 "$CORDON" run "${q[@]}" -- true
    assert_status 3 "$CORDON" run "${q[@]}" -- sh -c 'exit 3'
    assert_status 127 "$CORDON" run "${q[@]}" -- cordon-no-such-command
    assert_file_has_content "$TEST_TMP/err" 'cordon-no-such-command'
    assert_status 126 "$CORDON" run "${q[@]}" -- ./notexec
    assert_file_has_content "$TEST_TMP/err" 'notexec'

    log_step "$b: the working directory is kept and writable, the system is not"
    assert_status 0 "$CORDON" run "${q[@]}" -- sh -c 'pwd; cat marker; echo new >made-inside'
    assert_file_has_content "$TEST_TMP/out" "^$TEST_TMP/work\$"
    assert_file_has_content made-inside '^new$'
    assert_status 1 "$CORDON" run "${q[@]}" -- sh -c 'if echo x >/usr/cordon-run-test; then exit 0; fi; exit 1'
    assert_not_file_exists /usr/cordon-run-test

    log_step "$b: --set and --unset, after the profile's rules"
    assert_status 0 env CORDON_T1=one CORDON_T2=two "$CORDON" run "${q[@]}" --set 'CORDON_T3=a b$c' \
        --unset 'CORDON_T2' -- sh -c 'echo "1=${CORDON_T1-unset} 2=${CORDON_T2-unset} 3=$CORDON_T3"'
    assert_file_has_content "$TEST_TMP/out" '^1=one 2=unset 3=a b\$c$'

    log_step "$b: a fresh HOME by default, the real one with --home keep"
    assert_status 0 "$CORDON" run "${q[@]}" -- sh -c 'ls -A "$HOME"; test ! -e "$HOME/home-marker"'
    # HOME is under /tmp, a private tmpfs in the profile: shown by a flag.
    assert_status 0 "$CORDON" run "${q[@]}" --home keep --rw "$HOME" -- cat "$HOME/home-marker"
    assert_file_has_content "$TEST_TMP/out" '^home-file$'
    mkdir -p "$TEST_TMP/work/myhome"
    assert_status 0 "$CORDON" run "${q[@]}" --home "$TEST_TMP/work/myhome" -- sh -c \
        'echo "$HOME"; echo kept >"$HOME/f"'
    assert_file_has_content "$TEST_TMP/out" "^$TEST_TMP/work/myhome\$"
    assert_file_has_content myhome/f '^kept$'

    log_step "$b: a flag overrides the profile: --hide, then --ro over the profile's hide"
    assert_status 1 "$CORDON" run "${q[@]}" --hide "$TEST_TMP/work/marker" -- cat marker
    echo '[user]' >"$HOME/.gitconfig"
    assert_status 1 "$CORDON" run "${q[@]}" --home keep --rw "$HOME" -- cat "$HOME/.gitconfig"
    assert_status 0 "$CORDON" run "${q[@]}" --home keep --rw "$HOME" --ro "$HOME/.gitconfig" -- \
        cat "$HOME/.gitconfig"
    rm -f "$HOME/.gitconfig"

    log_step "$b: policy files and profiles in order, the later one deciding"
    printf 'ro /\nrw %s\nhide %s/marker\n' "$TEST_TMP/work" "$TEST_TMP/work" >hide.policy
    printf 'ro %s/marker\n' "$TEST_TMP/work" >show.policy
    assert_status 1 "$CORDON" run "${q[@]}" --policy hide.policy -- cat marker
    assert_status 0 "$CORDON" run "${q[@]}" --policy hide.policy --policy show.policy -- cat marker
    assert_file_has_content "$TEST_TMP/out" '^visible$'
done

# Merged /usr (/lib -> usr/lib): a rule naming /lib/x applies to /usr/lib/x
# (the Rust tree's known bug). Hidden: absent (namespace, hook) or
# unreadable (landlock) by both names.
lib=
for f in /lib/x86_64-linux-gnu/libz.so.1 /lib/aarch64-linux-gnu/libz.so.1; do
    [[ -e $f ]] && lib=$f && break
done
if [[ $(readlink /lib) == usr/lib && -n $lib ]]; then
    for b in namespace landlock hook; do
        [[ " ${runners[*]} " == *" $b "* ]] || continue
        log_step "$b: --hide $lib hides /usr${lib} too"
        assert_status 0 "$CORDON" run -q --backend "$b" --hide "$lib" -- sh -c \
            "if cat /usr$lib >/dev/null 2>&1 || cat $lib >/dev/null 2>&1; then exit 1; fi"
    done
else
    log "not a merged-/usr system: the /lib -> usr/lib rule check is skipped"
fi

if [[ " ${runners[*]} " == *" namespace "* ]]; then
    log_step "namespace: --network off leaves only a loopback interface"
    assert_status 0 "$CORDON" run -q --backend namespace --network off -- \
        sh -c "awk -F: 'NR>2 {gsub(/ /, \"\", \$1); print \$1}' /proc/net/dev"
    [[ $(cat "$TEST_TMP/out") == lo ]] || fail "interfaces with --network off: $(cat "$TEST_TMP/out")"
fi

log_step "--require enforce"
if [[ " ${runners[*]} " == *" hook "* ]]; then
    assert_status 125 "$CORDON" run --backend hook --require enforce -- true
    assert_file_has_content "$TEST_TMP/err" 'refusing to run'
fi
for b in namespace landlock; do
    if [[ " ${runners[*]} " == *" $b "* ]]; then
        assert_status 0 "$CORDON" run -q --backend "$b" --require enforce -- true
    fi
done
assert_status 0 "$CORDON" run --require enforce -- true
assert_file_has_content "$TEST_TMP/err" 'running with (namespace|landlock)'

# A machine with neither user namespaces nor Landlock: a seccomp filter makes
# landlock_create_ruleset(2) ENOSYS, as on a kernel without Landlock, in the
# tier without user namespaces. Only the hook is left, which only advises.
if [[ $CORDON_TIER == nouserns ]] && command -v cc >/dev/null; then
    log_step "a machine where only the hook exists: auto picks it, --require enforce refuses"
    cat >nolandlock.c <<'C'
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_landlock_create_ruleset, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
    if (argc < 2 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
        perror("nolandlock");
        return 125;
    }
    execvp(argv[1], argv + 1);
    perror(argv[1]);
    return 127;
}
C
    cc -o nolandlock nolandlock.c
    assert_status 0 ./nolandlock "$CORDON" doctor
    assert_status 0 ./nolandlock "$CORDON" run -- true
    assert_file_has_content "$TEST_TMP/err" 'running with hook'
    assert_status 125 ./nolandlock "$CORDON" run --require enforce -- true
    assert_file_has_content "$TEST_TMP/err" 'refusing to run: the hook runner only advises'
    assert_status 125 ./nolandlock "$CORDON" run --backend landlock -- true
    assert_file_has_content "$TEST_TMP/err" 'does not offer Landlock'
fi

log_step "a tool profile alone is a layer over the base profile"
printf '[user]\n\tname = Poison\n' >"$TEST_TMP/gitconfig-layer"
assert_status 0 env HOME="$TEST_TMP" GIT_CONFIG_GLOBAL="$TEST_TMP/gitconfig-layer" "$CORDON" run \
    --profile git -- sh -c 'cat /etc/hostname >/dev/null && touch layer-made &&
        if git config --global user.name; then exit 1; fi'
assert_file_has_content "$TEST_TMP/err" "goes over the base profile"
[[ -e layer-made ]] || fail "the working directory was not writable under --profile git"
