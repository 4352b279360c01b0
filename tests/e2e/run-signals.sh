#!/bin/bash
# Signals and cordon run (issue 17, part 5): a SIGTERM sent to cordon reaches
# the command; a kill -9 of cordon leaves nothing of the command running (the
# pid namespace's init dies with cordon); SIGPIPE is at its default in the
# command even when cordon's caller ignored it; a command killed by signal N
# makes cordon exit 128+N.
# tiers: self nobody nouserns
set -euo pipefail
source "$(dirname "$0")/lib.sh"

runners=()
for b in namespace landlock; do
    if "$CORDON" run -q --backend "$b" -- true 2>/dev/null; then runners+=("$b"); fi
done
((${#runners[@]} > 0)) || fail "no runner of cordon run works here"
log "runners: ${runners[*]}"
# The work dir, not $TEST_TMP: that one holds the real HOME, which the fresh
# home hides, and Landlock cannot let a directory gain files while an entry
# in it stays hidden (docs/runners.md).
mkdir work
cd work

# Whether a process whose command line holds $1 is still alive.
alive() { pgrep -f -- "$1" >/dev/null; }

wait_for() {
    for _ in $(seq 100); do
        [[ -e $1 ]] && return 0
        sleep 0.1
    done
    fail "'$1' never appeared"
}

for b in "${runners[@]}"; do
    log_step "$b: SIGTERM to cordon reaches the command"
    rm -f started term
    "$CORDON" run -q --backend "$b" -- sh -c \
        'trap "echo got-term >term; exit 7" TERM; touch started; while :; do sleep 0.1; done' &
    pid=$!
    wait_for started
    kill -TERM "$pid"
    st=0
    wait "$pid" || st=$?
    [[ $st == 7 ]] || fail "$b: cordon exited $st after SIGTERM, expected the command's 7"
    assert_file_has_content term got-term

    log_step "$b: the command's death by a signal is 128+N"
    assert_status 143 "$CORDON" run -q --backend "$b" -- sh -c 'kill -TERM $$'
    assert_status 137 "$CORDON" run -q --backend "$b" -- sh -c 'kill -KILL $$'

    log_step "$b: SIGPIPE at its default in the command, though cordon's caller ignored it"
    (
        trap '' PIPE
        "$CORDON" run -q --backend "$b" -- bash -c \
            'yes | head -1 >/dev/null; echo "yes:${PIPESTATUS[0]}"; grep ^SigIgn: /proc/self/status'
    ) >pipe.out 2>pipe.err || fail "$b: the SIGPIPE check failed: $(cat pipe.err)"
    # 141 = 128 + SIGPIPE: yes died of it rather than seeing EPIPE.
    assert_file_has_content pipe.out '^yes:141$'
    ign=$(awk '/^SigIgn:/ {print $2}' pipe.out)
    (((0x$ign & 0x1000) == 0)) || fail "$b: SIGPIPE is ignored in the command (SigIgn $ign)"

    log_step "$b: kill -9 of cordon leaves nothing of the command"
    marker=$((9000000 + RANDOM))
    rm -f started
    # A grandchild too (sleep under sh): the namespace runner's pid namespace
    # ends it, the landlock runner's keeper (a subreaper) kills it.
    # And a daemon in a session of its own (setsid -f), reparented away from
    # the command.
    "$CORDON" run -q --backend "$b" -- sh -c \
        "sleep $marker & setsid -f sleep 1$marker; touch started; wait" &
    pid=$!
    wait_for started
    alive "sleep $marker" || fail "$b: the command's sleep is not running"
    alive "sleep 1$marker" || fail "$b: the command's daemon is not running"
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    gone=0
    for _ in $(seq 150); do
        if ! alive "sleep $marker" && ! alive "sleep 1$marker"; then
            gone=1
            break
        fi
        sleep 0.1
    done
    if ((gone == 0)); then
        ps -o pid,ppid,stat,args -p "$(pgrep -d, -f -- "sleep 1?$marker")" >&2 || true
        for p in $(pgrep -f -- "sleep 1?$marker"); do kill -9 "$p" 2>/dev/null || true; done
        fail "$b: the command survived cordon's kill -9"
    fi
done

# The hook runner's seccomp supervisor is a thread of cordon. A SIGCHLD sent
# to cordon while its main thread was between two waits could be taken by
# that thread and dropped, and cordon waited forever for a command that had
# ended: every thread of cordon but the main one, which waits for it (and
# shows it unblocked while in sigwaitinfo), must block it.
log_step "hook runner: no thread of cordon takes the command's SIGCHLD"
if "$CORDON" run -q --backend hook -- true 2>/dev/null; then
    # The command's parent is the keeper; the keeper's parent is cordon.
    # shellcheck disable=SC2016 # expanded by the command's shell
    "$CORDON" run -q --backend hook -- sh -c '
        c=$(awk "{print \$4}" /proc/$PPID/stat)
        echo "$c main"
        for t in /proc/$c/task/*; do
            printf "%s %s\n" "$(basename "$t")" "$(awk "/^SigBlk:/ {print \$2}" "$t/status")"
        done' >masks.txt
    [[ $(wc -l <masks.txt) -ge 3 ]] || fail "cordon has no supervisor thread: $(cat masks.txt)"
    main=$(head -1 masks.txt | cut -d' ' -f1) # the main thread's id is the pid
    tail -n +2 masks.txt | while read -r tid mask; do
        [[ $tid == "$main" ]] && continue
        (((0x$mask >> 16) & 1)) || fail "thread $tid of cordon does not block SIGCHLD (SigBlk $mask)"
    done
fi
