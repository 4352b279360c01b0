#!/bin/bash
# The hook runner honours every kind of rule, in a dynamic program (the
# hook) and in a static one (busybox, under the seccomp supervisor): hide is
# ENOENT and out of listings, deny EACCES, ro EROFS, empty and redirect show
# other content, tmpfs is private, HOME is fresh and gone after, the policy
# survives `env -i`, --network off refuses IP sockets, and the hook's
# private directory is removed after the run.
# tiers: self nobody nouserns
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if ! "$CORDON" run -q --backend hook -- true 2>probe.err; then
    fail "the hook runner does not start: $(cat probe.err)"
fi
busybox=$(command -v busybox || true)
if [[ -n $busybox ]] && ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked'; then
    busybox=
fi

mkdir -p data/dir data/emptied data/tmp work
echo secret >data/secret
echo denied >data/denied
echo visible >data/visible
echo content >data/emptied/file
echo other >data/other
echo inside >data/dir/file
echo host >data/tmp/host-file
d=$TEST_TMP/data
cd work

# hrun ARGS... -- CMD: the hook runner with the test's rules.
hrun() {
    "$CORDON" run -q --backend hook --ro "$d" --hide "$d/secret" --deny "$d/denied" \
        --empty "$d/emptied" --redirect "$d/visible=$d/other" --tmpfs "$d/tmp" "$@"
}

# check NAME EXPECTED CMD...: CMD's stdout+stderr must match EXPECTED (ERE).
check() {
    local name=$1 want=$2 got
    shift 2
    got=$(hrun -- "$@" 2>&1 || true)
    [[ $got =~ $want ]] || fail "$name: got '$got', want /$want/"
    log "$name: ok"
}

for impl in dynamic static; do
    if [[ $impl == dynamic ]]; then
        cat=(cat) ls=(ls) touch=(touch) sh=(sh)
    else
        [[ -n $busybox ]] || {
            log "no static busybox: the static half is left out"
            continue
        }
        cat=("$busybox" cat) ls=("$busybox" ls) touch=("$busybox" touch) sh=("$busybox" sh)
    fi
    log_step "$impl programs"
    check "$impl hide" 'No such file' "${cat[@]}" "$d/secret"
    check "$impl hide in a listing" '^denied dir emptied other tmp visible$' "${sh[@]}" -c "echo \$(${ls[*]} $d)"
    check "$impl deny" 'Permission denied' "${cat[@]}" "$d/denied"
    check "$impl ro" 'Read-only file system' "${touch[@]}" "$d/new"
    check "$impl empty dir" '^$' "${ls[@]}" "$d/emptied"
    check "$impl redirect" '^other$' "${cat[@]}" "$d/visible"
    check "$impl tmpfs is empty" '^$' "${ls[@]}" "$d/tmp"
    check "$impl tmpfs is writable" '^x$' "${sh[@]}" -c "echo x >$d/tmp/new && ${cat[*]} $d/tmp/new"
    [[ ! -e $d/tmp/new && -e $d/tmp/host-file ]] || fail "$impl: the tmpfs rule wrote to the host"
    check "$impl work tree writable" '^w$' "${sh[@]}" -c "echo w >out-$impl && ${cat[*]} out-$impl"
done

log_step "the environment"
check "policy survives env -i" 'No such file' env -i /bin/cat "$d/secret"
home=$(hrun -- sh -c 'echo "$HOME"; ls -A "$HOME" | wc -l')
[[ $home == *$'\n'0 ]] || fail "HOME is not fresh: $home"
[[ ! -e ${home%%$'\n'*} ]] || fail "the fresh HOME '${home%%$'\n'*}' outlived the run"
[[ $(hrun -- sh -c 'echo $HOME') != "$HOME" ]] || fail "HOME is the caller's"

log_step "network off"
if command -v python3 >/dev/null; then
    got=$(hrun --network off -- python3 -c '
import socket
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    print("socket")
except OSError as e:
    print("refused", e.errno)' 2>&1 || true)
    [[ $got == "refused 13" ]] || fail "--network off: $got"
    got=$(hrun -- python3 -c 'import socket; socket.socket(); print("socket")' 2>&1 || true)
    [[ $got == socket ]] || fail "network on: $got"
fi

log_step "status and clean-up"
# A TMPDIR of the test's own: other tests of the same user run meanwhile.
mkdir -p "$TEST_TMP/tmpd"
status=0
TMPDIR=$TEST_TMP/tmpd hrun -- sh -c 'exit 7' || status=$?
[[ $status == 7 ]] || fail "exit status $status, not 7"
left=$(find "$TEST_TMP/tmpd" -mindepth 1 -maxdepth 1 | wc -l)
[[ $left == 0 ]] || fail "the hook runner left $left private directories behind: $(ls "$TEST_TMP/tmpd")"

log_step "kill -9 of cordon leaves nothing of the command"
# Without a pid namespace the runner's keeper (a subreaper that learns of
# cordon's death) ends the command, its children and a daemon that left for
# a session of its own.
marker=$((8000000 + RANDOM))
alive() { pgrep -f -- "^$1\$" >/dev/null; }
"$CORDON" run -q --backend hook -- sh -c \
    "sleep $marker & setsid -f sleep 1$marker; touch started; wait" &
pid=$!
for _ in $(seq 100); do
    [[ -e started ]] && break
    sleep 0.1
done
[[ -e started ]] || fail "the command did not start"
alive "sleep $marker" || fail "the command's sleep is not running"
alive "sleep 1$marker" || fail "the command's daemon is not running"
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
    for p in $(pgrep -f -- "sleep 1?$marker"); do kill -9 "$p" 2>/dev/null || true; done
    fail "the command survived cordon's kill -9"
fi

log_step "signals sent to cordon reach the command"
"$CORDON" run -q --backend hook -- sh -c "trap 'echo got-term >term; exit 3' TERM; touch started2; while :; do sleep 0.1; done" &
pid=$!
for _ in $(seq 100); do
    [[ -e started2 ]] && break
    sleep 0.1
done
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
[[ $status == 3 && -e term ]] || fail "SIGTERM to cordon: status $status, $(cat term 2>/dev/null || echo 'no trap ran')"
