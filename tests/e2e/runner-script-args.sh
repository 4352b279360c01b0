#!/bin/bash
# A #! script executed by a program of the root gets all its arguments, with
# both runners. fakechroot 2.20.1 runs scripts through FAKECHROOT_ELFLOADER
# with --argv0 and drops their last two arguments (`sh -c './configure
# --prefix=P'` ran `./configure`: zlib's replay built nothing); the runner
# preloads libcordon-shebang.so to execute scripts as the kernel does. Also
# pins what the kernel passes: the #! line's optional argument, the script's
# path as the program named it, and argv[0] of a program started later.
# tiers: self nobody nouserns
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[[ $(uname -m) == x86_64 ]] || skip "the test root is built for x86_64"
command -v ldd >/dev/null || skip "no ldd to find the libraries of the test root"

root=$TEST_TMP/root
mkdir -p "$root/usr/bin" "$root/usr/lib/x86_64-linux-gnu" "$root/usr/lib64" "$root/work"
ln -s usr/bin "$root/bin"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
for prog in sh cat; do
    cp "$(readlink -f "$(command -v "$prog")")" "$root/usr/bin/$prog"
    for lib in $(ldd "$(command -v "$prog")" | grep -oE '/[^ ]+'); do
        [[ -e $root/usr/lib/x86_64-linux-gnu/$(basename "$lib") ]] ||
            cp "$(readlink -f "$lib")" "$root/usr/lib/x86_64-linux-gnu/$(basename "$lib")"
    done
done
ln -s /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$root/usr/lib64/ld-linux-x86-64.so.2"
mkdir -p "$root/.cordon"
cat >"$root/.cordon/manifest.json" <<'JSON'
{
  "cordon_manifest": 1,
  "tool": "runner-script-args.sh",
  "host": {},
  "command": {"argv": ["sh", "-c", "exit 0"], "cwd": "/work", "env": ["PATH=/usr/bin:/bin"],
              "status": 0, "finished": true},
  "inputs": [],
  "outputs": []
}
JSON
# args.sh prints its $0 and each argument on a line of its own.
cat >"$root/work/args.sh" <<'EOF'
#!/bin/sh
echo "0=$0"
for a in "$@"; do echo "arg=$a"; done
EOF
# opt.sh: a #! line with an argument; sh -e stops at the false.
cat >"$root/work/opt.sh" <<'EOF'
#!/bin/sh -e
echo "before $*"
false
echo "after"
EOF
chmod 0755 "$root/work/args.sh" "$root/work/opt.sh"

backends="namespace fakechroot"
if [[ $CORDON_TIER == nouserns ]] || ! unshare -Ur true 2>/dev/null; then
    backends=fakechroot
fi
for b in $backends; do
    log_step "$b: a script run by sh gets every argument"
    assert_status 0 "$CORDON" replay -q --root "$root" --backend "$b" -- \
        sh -c './args.sh one "two words" three four; /work/args.sh x y'
    printf '%s\n' "0=./args.sh" "arg=one" "arg=two words" "arg=three" "arg=four" \
        "0=/work/args.sh" "arg=x" "arg=y" >"$TEST_TMP/want"
    diff -u "$TEST_TMP/want" "$TEST_TMP/out" || fail "$b: the script's arguments differ"

    log_step "$b: the #! line's argument reaches the interpreter"
    assert_status 1 "$CORDON" replay -q --root "$root" --backend "$b" -- sh -c './opt.sh p q'
    [[ $(cat "$TEST_TMP/out") == "before p q" ]] || fail "$b: 'sh -e' did not stop at false"

    log_step "$b: a script that is the command itself"
    assert_status 0 "$CORDON" replay -q --root "$root" --backend "$b" -- ./args.sh a "b c"
    # $0 is ./args.sh in namespaces (execvp passes the name as given) and
    # /work/args.sh under fakechroot (cordon resolves the first program).
    printf '%s\n' "arg=a" "arg=b c" >"$TEST_TMP/want"
    tail -n +2 "$TEST_TMP/out" | diff -u "$TEST_TMP/want" - || fail "$b: the command's arguments differ"
done
log "every script got its arguments"
