#!/bin/bash
# The replay runners on a root built by hand (sh, cat, env, ls, sleep and
# their libraries, merged /usr), run with `cordon replay --root`: the
# recorded cwd and environment are honoured, exit status and death by a
# signal pass through, SIGPIPE is back at its default, signals sent to
# cordon reach the command, outputs are compared; the namespace runner
# hides the host (pid 2 of its own /proc, no capabilities), and without
# user namespaces it fails with a hint while fakechroot still runs.
# tiers: self nobody nouserns
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[[ $(uname -m) == x86_64 ]] || skip "the test root is built for x86_64"
command -v ldd >/dev/null || skip "no ldd to find the libraries of the test root"

root=$TEST_TMP/root
# A root of host programs and what ldd says they load, with merged /usr.
build_root() {
    mkdir -p "$root/usr/bin" "$root/usr/lib/x86_64-linux-gnu" "$root/usr/lib64" "$root/etc"
    ln -s usr/bin "$root/bin"
    ln -s usr/lib "$root/lib"
    ln -s usr/lib64 "$root/lib64"
    local prog lib
    for prog in sh cat env ls sleep; do
        cp "$(readlink -f "$(command -v "$prog")")" "$root/usr/bin/$prog"
        for lib in $(ldd "$(command -v "$prog")" | grep -oE '/[^ ]+'); do
            [[ -e $root/usr/lib/x86_64-linux-gnu/$(basename "$lib") ]] ||
                cp "$(readlink -f "$lib")" "$root/usr/lib/x86_64-linux-gnu/$(basename "$lib")"
        done
    done
    # The loader as Debian has it: an absolute link, resolved inside the root.
    mv "$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$root/usr/lib/x86_64-linux-gnu/ld.so"
    ln -s ld.so "$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
    ln -s /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$root/usr/lib64/ld-linux-x86-64.so.2"
    # XXH3-128 of "hello\n", the output the command below writes.
    mkdir -p "$root/.cordon"
    cat >"$root/.cordon/manifest.json" <<'JSON'
{
  "cordon_manifest": 1,
  "tool": "runner-basics.sh",
  "host": {},
  "command": {
    "argv": ["sh", "-c", "printf 'hello\\n' >out; printf 'other\\n' >other"],
    "cwd": "/work/sub",
    "env": ["CORDON_TEST_A=one two", "CORDON_TEST_TOKEN=<redacted>", "PATH=/usr/bin:/bin"],
    "status": 0,
    "finished": true
  },
  "inputs": [],
  "outputs": [
    {"path": "/work/sub/other", "type": "file", "xxh3": "6bba86c7e069f56d5a10b435f1c8e49c"},
    {"path": "/work/sub/out", "type": "file", "xxh3": "6bba86c7e069f56d5a10b435f1c8e49c"}
  ]
}
JSON
}
build_root
echo "host secret" >"$TEST_TMP/host-marker"

# replay BACKEND CMD...: cordon replay in the root, quiet.
replay() {
    local backend=$1
    shift
    "$CORDON" replay -q --root "$root" --backend "$backend" -- "$@"
}

backends="namespace fakechroot"
if [[ $CORDON_TIER == nouserns ]]; then
    log_step "namespace without user namespaces: a clear error and a hint"
    assert_status 125 replay namespace sh -c 'exit 0'
    assert_file_has_content "$TEST_TMP/err" "cannot create a user namespace"
    assert_file_has_content "$TEST_TMP/err" "max_user_namespaces is 0"
    assert_file_has_content "$TEST_TMP/err" "^hint: .*--backend fakechroot"
    log_step "auto picks fakechroot and says why"
    assert_status 0 "$CORDON" replay --root "$root" -- sh -c 'exit 0'
    assert_file_has_content "$TEST_TMP/err" \
        "replaying with fakechroot \\(user namespaces unavailable: .*max_user_namespaces is 0\\)"
    backends=fakechroot
elif ! unshare -Ur true 2>/dev/null; then
    skip "no user namespaces here"
fi

for b in $backends; do
    log_step "$b: the recorded command, cwd and outputs"
    assert_status 0 "$CORDON" replay --root "$root" --backend "$b"
    assert_file_has_content "$TEST_TMP/out" "^differs +/work/sub/other$"
    assert_not_file_has_content "$TEST_TMP/out" "/work/sub/out$"
    assert_file_has_content "$TEST_TMP/err" "not passing the redacted variable CORDON_TEST_TOKEN"
    [[ $(cat "$root/work/sub/out") == hello ]] || fail "the command did not write /work/sub/out"
    assert_status 1 "$CORDON" replay -q --check --root "$root" --backend "$b"
    log_step "$b: identical outputs"
    assert_status 0 "$CORDON" replay --root "$root" --backend "$b" -- \
        sh -c "printf 'hello\\n' >out; printf 'hello\\n' >other"
    assert_file_has_content "$TEST_TMP/out" "^outputs: identical \\(2 files\\)$"

    log_step "$b: cwd and the exact environment"
    assert_status 0 replay "$b" sh -c 'echo "cwd=$(pwd)"'
    assert_file_has_content "$TEST_TMP/out" "^cwd=/work/sub$"
    assert_status 0 replay "$b" env
    # fakechroot's own variables are the runner's: the rest is exact.
    grep -vE '^(FAKECHROOT[A-Z0-9_]*|LD_PRELOAD|LD_LIBRARY_PATH)=' "$TEST_TMP/out" |
        grep -v '^outputs' | sort >"$TEST_TMP/env.got"
    printf '%s\n' "CORDON_TEST_A=one two" "PATH=/usr/bin:/bin" >"$TEST_TMP/env.want"
    diff -u "$TEST_TMP/env.want" "$TEST_TMP/env.got" || fail "$b: the environment is not exact"

    log_step "$b: exit status and death by a signal pass through"
    assert_status 3 replay "$b" sh -c 'exit 3'
    assert_status 143 replay "$b" sh -c 'kill -TERM $$'
    assert_status 137 replay "$b" sh -c 'kill -KILL $$'

    log_step "$b: SIGPIPE is at its default even if cordon's caller ignored it"
    status=0
    (trap '' PIPE && exec "$CORDON" replay -q --root "$root" --backend "$b" -- \
        sh -c 'kill -PIPE $$; exit 7') >/dev/null 2>&1 || status=$?
    [[ $status == 141 ]] || fail "$b: kill -PIPE gave status $status, not 141 (SIGPIPE ignored?)"

    log_step "$b: a SIGTERM sent to cordon reaches the command"
    "$CORDON" replay -q --root "$root" --backend "$b" -- \
        sh -c 'trap "kill \$!; exit 42" TERM; echo ready >/tmp/ready; sleep 30 >/dev/null 2>&1 & wait' &
    pid=$!
    for _ in $(seq 100); do [[ -e $root/tmp/ready ]] && break; sleep 0.1; done
    [[ -e $root/tmp/ready ]] || fail "$b: the command never started"
    rm -f "$root/tmp/ready"
    kill -TERM "$pid"
    status=0
    wait "$pid" || status=$?
    [[ $status == 42 ]] || fail "$b: after SIGTERM cordon exited $status, not the trap's 42"

    log_step "$b: not found and not executable"
    assert_status 127 replay "$b" no-such-program
    assert_file_has_content "$TEST_TMP/err" "'no-such-program' not found in the root"
    assert_status 126 replay "$b" /etc
    assert_status 127 replay "$b" /no/such/path

    log_step "$b: a script without #! runs with the root's /bin/sh, as execvp does"
    mkdir -p "$root/work/bin"
    printf 'echo "no-shebang $1"\n' >"$root/work/bin/plain"
    printf '#!/bin/sh -e\necho "shebang $0 $1"\n' >"$root/work/bin/script"
    chmod +x "$root/work/bin/plain" "$root/work/bin/script"
    assert_status 0 replay "$b" /work/bin/plain arg
    assert_file_has_content "$TEST_TMP/out" "^no-shebang arg$"
    assert_status 0 replay "$b" ../bin/script arg
    assert_file_has_content "$TEST_TMP/out" "^shebang ../bin/script arg$|^shebang /work/bin/script arg$"

    log_step "$b: a #! to an interpreter the root lacks: 126, naming it"
    printf '#!/no/such/interpreter\necho never\n' >"$root/work/bin/orphan"
    chmod +x "$root/work/bin/orphan"
    assert_status 126 replay "$b" /work/bin/orphan
    assert_file_has_content "$TEST_TMP/err" "cannot execute '/work/bin/orphan': its interpreter"

    log_step "$b: the host's files are not visible by their host path"
    assert_status 1 replay "$b" cat "$TEST_TMP/host-marker"
done

if [[ $backends == *namespace* ]]; then
    log_step "namespace: own pid namespace and /proc, minimal /dev, writable /tmp"
    assert_status 0 replay namespace sh -c 'echo "pid=$$"; ls /proc/1 >/dev/null && echo proc-ok'
    assert_file_has_content "$TEST_TMP/out" "^pid=2$"
    assert_file_has_content "$TEST_TMP/out" "^proc-ok$"
    assert_status 0 replay namespace ls /dev
    for n in null zero full random urandom tty fd stdin stdout stderr shm; do
        assert_file_has_content "$TEST_TMP/out" "^$n$"
    done
    assert_not_file_has_content "$TEST_TMP/out" "^(kmsg|mem|sda|vda|loop0)$"
    assert_status 0 replay namespace sh -c 'echo x >/dev/null && echo x >/tmp/f && cat /tmp/f'
    log_step "namespace: the command holds no capability"
    assert_status 0 replay namespace sh -c \
        'while read -r k v; do case $k in CapEff:|CapBnd:|CapAmb:) echo "$k $v";; esac; done </proc/self/status'
    assert_file_has_content "$TEST_TMP/out" "^CapEff: 0000000000000000$"
    assert_file_has_content "$TEST_TMP/out" "^CapBnd: 0000000000000000$"
    log_step "namespace: orphans are reaped and killed with the command"
    start=$(date +%s)
    assert_status 0 replay namespace sh -c 'sleep 30 & exit 0'
    (($(date +%s) - start < 20)) || fail "cordon waited for the orphaned sleep"
fi
