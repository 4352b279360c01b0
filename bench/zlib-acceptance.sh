#!/bin/bash
# zlib-acceptance.sh: issue 15's first acceptance point, shown on a real
# build: zlib's Debian source, `./configure --prefix=W/prefix && make -j2 &&
# make install`.
#
#   bench/zlib-acceptance.sh [--dir W] [--keep]
#
#  1. record: `cordon record` of the build in a fresh copy of the source at
#     W/zlib;
#  2. strace: the same build under `strace -f` in another fresh copy at the
#     same path; every regular file a dynamically linked program opened for
#     reading must be among the manifest's inputs (read, exec, load) or
#     outputs, or belong to a program the manifest names in its coverage gaps;
#  3. pack: `cordon pack` twice gives byte-identical archives;
#  4. replay as uid 65534 in fresh directories:
#     a. without user namespaces (tests/e2e/nouserns.c): `auto` picks
#        fakechroot, the build succeeds, outputs identical;
#     b. `--backend namespace`: the same;
#     c. both backends again with the host's zlib headers and libraries
#        hidden (empty files bind-mounted over them in a private mount
#        namespace): nothing of the host's zlib leaks into the replay;
#  5. a summary: PASS/FAIL per check with its numbers; exit 1 on any FAIL.
#
# The cordon used is $CORDON, else build/bin/cordon beside bench/; the
# no-user-namespace helper is $CORDON_NOUSERNS, else
# tests/e2e/cordon-nouserns in cordon's build dir. W (default
# /tmp/cordon-zlib-accept) is emptied first and removed at the end unless
# --keep is given or a check failed. As root the replays run as uid 65534;
# as another user they run as that user (the hidden case under
# `unshare -Urm`), the simulation without user namespaces is reported as
# SKIP, and the exit status is 1: not accepted.
#
# The source: the bench's copy under bench/work/src/zlib-*/ when there is one
# (used read-only), else `apt-get source zlib` into bench/work/zlib-src (root,
# once; adds a deb-src entry copied from /etc/apt/sources.list.d/debian.sources).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
W=/tmp/cordon-zlib-accept
keep=0
while (($#)); do
    case $1 in
    --dir)
        W=${2:?--dir needs a directory}
        shift
        ;;
    --keep) keep=1 ;;
    -h | --help)
        sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
        exit 0
        ;;
    *)
        echo "zlib-acceptance.sh: unknown argument '$1'" >&2
        exit 2
        ;;
    esac
    shift
done

CORDON=${CORDON:-$repo/build/bin/cordon}
[[ -x $CORDON ]] || {
    echo "zlib-acceptance.sh: no cordon at '$CORDON' (set CORDON)" >&2
    exit 2
}
CORDON=$(realpath "$CORDON")
NOUSERNS=${CORDON_NOUSERNS:-$(dirname "$(dirname "$CORDON")")/tests/e2e/cordon-nouserns}
for tool in jq strace readelf realpath cmp sha256sum; do
    command -v "$tool" >/dev/null || {
        echo "zlib-acceptance.sh: '$tool' is needed" >&2
        exit 2
    }
done

step() { printf '\n== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }

# ------------------------------------------------------------------ results
declare -a SUMMARY=()
failed=0
skipped=0
result() { # STATUS CHECK DETAILS
    SUMMARY+=("$(printf '%-4s  %-34s %s' "$1" "$2" "$3")")
    printf '   -> %s: %s (%s)\n' "$1" "$2" "$3"
    case $1 in
    FAIL) failed=$((failed + 1)) ;;
    SKIP) skipped=$((skipped + 1)) ;;
    esac
}
summary() {
    step "summary"
    printf '%s\n' "${SUMMARY[@]}"
    if ((failed)); then
        echo "zlib-acceptance: $failed check(s) failed; everything is in $W"
        exit 1
    fi
    if ((skipped)); then
        echo "zlib-acceptance: $skipped check(s) skipped; not accepted"
        exit 1
    fi
    echo "zlib-acceptance: every check passed"
    if ((keep)); then echo "everything is in $W"; else rm_w; fi
    exit 0
}
rm_w() {
    chmod -R u+w "$W" 2>/dev/null || true
    rm -rf -- "$W"
}

# ------------------------------------------------------------------- source
SRC=
for d in "$repo"/bench/work/src/zlib-*/ "$repo"/bench/work/zlib-src/zlib-*/; do
    if [[ -f $d/configure && -f $d/Makefile.in ]]; then
        SRC=${d%/}
        break
    fi
done
if [[ -z $SRC ]]; then
    ((EUID == 0)) || {
        echo "zlib-acceptance.sh: no zlib source under bench/work; fetching it needs root once" >&2
        exit 2
    }
    step "fetching zlib's Debian source into bench/work/zlib-src"
    mkdir -p "$repo/bench/work/zlib-src"
    if ! grep -qsE '^Types:.*deb-src' /etc/apt/sources.list.d/*.sources &&
        ! grep -qsE '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list; then
        sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
            >/etc/apt/sources.list.d/debian-src.sources
        apt-get update -qq
    fi
    command -v dpkg-source >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpkg-dev
    # The security pool may answer 404 for its version: fall back to the
    # main archive's (apt-cache showsrc zlib lists it).
    (cd "$repo/bench/work/zlib-src" && { apt-get source -qq zlib ||
        apt-get source -qq "zlib=$(apt-cache showsrc zlib | awk '/^Version:/ { print $2; exit }')"; })
    for d in "$repo"/bench/work/zlib-src/zlib-*/; do
        [[ -f $d/configure ]] && SRC=${d%/} && break
    done
    [[ -n $SRC ]] || {
        echo "zlib-acceptance.sh: apt-get source gave no zlib tree" >&2
        exit 2
    }
fi

rm_w
mkdir -p "$W"
chmod 0755 "$W"
W=$(realpath "$W")
WT=$W/zlib
export XDG_CACHE_HOME=$W/cache # the recording's store, not the user's
M=$W/zlib.json
BUILD='./configure --prefix='$W'/prefix && make -j2 && make install'
((EUID != 0)) || BUILD+=' LDCONFIG=true' # as root, make install would rewrite the host's ld.so.cache
echo "cordon:  $CORDON"
echo "source:  $SRC"
echo "work:    $W"
echo "build:   $BUILD"

fresh_copy() {
    rm -rf -- "$WT" "$W/prefix"
    cp -a -- "$SRC" "$WT"
}

# ------------------------------------------------------------------- record
step "1. cordon record"
fresh_copy
rc=0
(cd "$WT" && "$CORDON" record -q -o "$M" -- sh -c "$BUILD") >"$W/record.log" 2>&1 || rc=$?
tail -n 3 "$W/record.log" | sed 's/^/   /'
if [[ $rc != 0 || ! -s $M ]]; then
    result FAIL "record" "exit $rc, see $W/record.log"
    summary
fi
n_in=$(jq '.inputs | length' "$M")
n_in_rd=$(jq '[.inputs[] | select((.uses // []) | any(. == "read" or . == "exec" or . == "load"))] | length' "$M")
n_out=$(jq '.outputs | length' "$M")
n_proc=$(jq '.processes | length' "$M")
n_gap=$(jq '.coverage.gaps | length' "$M")
want_out=("$W/prefix/lib/libz.a" "$W/prefix/lib/libz.so" "$W/prefix/include/zlib.h"
    "$W/prefix/include/zconf.h" "$W/prefix/lib/pkgconfig/zlib.pc" "$WT/libz.a")
lacking=()
for p in "${want_out[@]}"; do
    jq -e --arg p "$p" 'any(.outputs[]; .path == $p)' "$M" >/dev/null || lacking+=("$p")
done
jq -e --arg p "$W/prefix/lib/libz.so." 'any(.outputs[]; .path | startswith($p))' "$M" >/dev/null ||
    lacking+=("$W/prefix/lib/libz.so.*")
if ((${#lacking[@]})); then
    result FAIL "record" "outputs lack: ${lacking[*]}"
else
    result PASS "record" "$n_in inputs ($n_in_rd read/exec/load), $n_out outputs, $n_proc processes, $n_gap coverage gaps"
fi
# Keep the recorded tree; the strace build takes its place.
mv -- "$WT" "$W/zlib-rec"
mv -- "$W/prefix" "$W/prefix-rec"

# ------------------------------------------------------------------- strace
step "2. the same build under strace -f"
fresh_copy
rc=0
(cd "$WT" && strace -f -qq -o "$W/strace.log" -e trace=%file,%process -y sh -c "$BUILD") \
    >"$W/strace-build.log" 2>&1 || rc=$?
if [[ $rc != 0 ]]; then
    result FAIL "strace build" "exit $rc, see $W/strace-build.log"
else
    # Per pid, the program it runs now (an exec sets it, a fork inherits
    # it); print "EXE<TAB>PID<TAB>PATH" for each successful open that can
    # read what was there: not write-only, not truncating (as's
    # O_RDWR|O_CREAT|O_TRUNC of each .o), not creating a new file
    # (O_CREAT|O_EXCL, mkstemp). An <unfinished ...> call is joined with its
    # resumption.
    awk '
    {
        pid = $1; line = $0
        if (line ~ /<unfinished \.\.\.>$/) { sub(/ <unfinished \.\.\.>$/, "", line); pend[pid] = line; next }
        if (match(line, /<\.\.\. [a-z0-9_]+ resumed>/)) {
            rest = substr(line, RSTART + RLENGTH)
            line = (pid in pend) ? pend[pid] rest : line
            delete pend[pid]
        }
    }
    line ~ /^[0-9]+ +execve(at)?\(/ && line ~ / = 0$/ {
        if (match(line, /execve(at)?\([^"]*"[^"]*"/)) {
            s = substr(line, RSTART, RLENGTH); sub(/^[^"]*"/, "", s); sub(/"$/, "", s)
            exe[pid] = s
        }
        next
    }
    line ~ /^[0-9]+ +(clone3?|fork|vfork)\(/ && match(line, / = [0-9]+$/) {
        child = substr(line, RSTART + 3) + 0
        if (child > 0 && (pid in exe)) exe[child] = exe[pid]
        next
    }
    line ~ /^[0-9]+ +(open|openat|openat2)\(/ && line !~ /O_WRONLY|O_TRUNC/ &&
    !(line ~ /O_CREAT/ && line ~ /O_EXCL/) && match(line, / = [0-9]+<.*>$/) {
        s = substr(line, RSTART, RLENGTH)
        sub(/^ = [0-9]+</, "", s); sub(/>$/, "", s); sub(/ \(deleted\)$/, "", s)
        print ((pid in exe) ? exe[pid] : "-") "\t" pid "\t" s
    }' "$W/strace.log" >"$W/strace.opens"

    # Statically linked programs: an ELF without a program interpreter
    # (a script runs its interpreter, which is dynamic here).
    : >"$W/strace.static"
    cut -f1 "$W/strace.opens" | sort -u | while IFS= read -r exe; do
        [[ $exe == - || ! -f $exe ]] && continue
        [[ $(head -c4 "$exe" | od -An -c | tr -d ' ') == 177ELF ]] || continue
        readelf -lW "$exe" 2>/dev/null | grep -q 'INTERP' || realpath -m -- "$exe"
    done | sort -u >"$W/strace.static"
    jq -r '.coverage.gaps[] | select(.path != null) | .path' "$M" |
        xargs -r -d '\n' realpath -m -- | sort -u >"$W/gaps.paths"
    static_unnamed=$(comm -23 "$W/strace.static" "$W/gaps.paths")
    declare -A static_exe=()
    while IFS= read -r e; do [[ -n $e ]] && static_exe[$e]=1; done <"$W/strace.static"

    # Regular files by real path; what no longer exists is kept (a file the
    # build deleted), what exists and is not a regular file (/dev/null, a
    # directory opened to list it) is not a file the build read.
    regular() {
        xargs -r -d '\n' realpath -m -- | sort -u | while IFS= read -r p; do
            if [[ -e $p && ! -f $p ]]; then continue; fi
            printf '%s\n' "$p"
        done
    }
    # The strace run's own temporary names, which no other run can share:
    # gcc's /tmp/ccXXXXXX.{s,o,res,ld,le,...} (mkstemp), configure's
    # ztest<PID>* in the work tree (`test=ztest$$`) and ar's stXXXXXX
    # (mkstemp beside the archive, also in the prefix when make install runs
    # ranlib) are made, read back and removed by the build itself, under
    # names random or keyed by the pid.
    temp_re="^(/tmp/cc[A-Za-z0-9]{6}(\\..*)?|$WT/ztest[0-9]+.*|$W/.*/st[A-Za-z0-9]{6})\$"
    n_static_opens=0
    : >"$W/strace.paths"
    while IFS=$'\t' read -r exe _pid path; do
        if [[ $exe != - && -n ${static_exe[$(realpath -m -- "$exe")]:-} ]]; then
            n_static_opens=$((n_static_opens + 1))
            continue
        fi
        printf '%s\n' "$path" >>"$W/strace.paths"
    done <"$W/strace.opens"
    regular <"$W/strace.paths" >"$W/strace.files.all"
    grep -Ev "$temp_re" "$W/strace.files.all" >"$W/strace.files" || true
    n_temp=$(grep -cE "$temp_re" "$W/strace.files.all" || true)

    jq -r '(.inputs[] | select((.uses // []) | any(. == "read" or . == "exec" or . == "load")) | .path),
           (.outputs[] | .path)' "$M" | xargs -r -d '\n' realpath -m -- | sort -u >"$W/manifest.files"

    comm -23 "$W/strace.files" "$W/manifest.files" >"$W/only-strace"
    comm -13 "$W/strace.files" "$W/manifest.files" >"$W/only-manifest"
    n_st=$(wc -l <"$W/strace.files")
    n_mf=$(wc -l <"$W/manifest.files")
    n_os=$(wc -l <"$W/only-strace")
    n_om=$(wc -l <"$W/only-manifest")
    note "strace: $n_st files opened for reading by dynamic programs ($n_temp temp names ignored," \
        "$n_static_opens opens by static programs)"
    note "manifest: $n_mf inputs (read/exec/load) and outputs, by real path"
    if ((n_om)); then
        note "only in the manifest ($n_om; executed by the kernel, written, or read by a path strace did not open):"
        head -n 40 "$W/only-manifest" | sed 's/^/     /'
        ((n_om <= 40)) || note "  ... (all in $W/only-manifest)"
    fi
    if ((n_os)); then
        note "opened for reading under strace but not in the manifest ($n_os):"
        sed 's/^/     /' "$W/only-strace"
    fi
    detail="strace $n_st files, manifest $n_mf, strace-only $n_os, manifest-only $n_om"
    if [[ -n $static_unnamed ]]; then
        result FAIL "strace vs manifest" "$detail; static programs not in coverage gaps: $static_unnamed"
    elif ((n_os)); then
        result FAIL "strace vs manifest" "$detail"
    else
        result PASS "strace vs manifest" "$detail"
    fi
fi
# The recorded build's tree back in its place: pack reads the host as
# the recording saw it.
rm -rf -- "$W/zlib-strace" "$W/prefix-strace"
mv -- "$WT" "$W/zlib-strace"
mv -- "$W/prefix" "$W/prefix-strace" 2>/dev/null || true
mv -- "$W/zlib-rec" "$WT"
mv -- "$W/prefix-rec" "$W/prefix"

# --------------------------------------------------------------------- pack
step "3. cordon pack, twice"
A=$W/zlib.tar.zst
rc=0
"$CORDON" pack "$M" -o "$A" --quiet >"$W/pack1.log" 2>&1 || rc=$?
"$CORDON" pack "$M" -o "$W/zlib-2.tar.zst" --quiet >"$W/pack2.log" 2>&1 || rc=$((rc | $?))
if [[ $rc != 0 || ! -s $A ]]; then
    cat "$W/pack1.log" "$W/pack2.log" | tail -n 5 | sed 's/^/   /'
    result FAIL "pack twice" "exit $rc, see $W/pack1.log"
    summary
fi
size=$(stat -c %s "$A")
entries=$(tar --zstd -tf "$A" 2>/dev/null | wc -l || echo '?')
if cmp "$A" "$W/zlib-2.tar.zst"; then
    result PASS "pack twice: identical" "$size bytes, $entries entries, $(sha256sum <"$A" | cut -c1-16)"
else
    result FAIL "pack twice: identical" "the two archives differ ($size and $(stat -c %s "$W/zlib-2.tar.zst") bytes)"
fi

# ------------------------------------------------------------------- replay
# Files of the recorded build compared byte for byte with the replay's,
# independently of cordon's own comparison.
compared=("$W/prefix/lib/libz.a" "$(realpath "$W/prefix/lib/libz.so")" "$W/prefix/include/zlib.h"
    "$W/prefix/include/zconf.h" "$W/prefix/lib/pkgconfig/zlib.pc" "$WT/libz.a")

# As root the replays run as uid 65534; as another user, as that user
# (the no-user-namespace simulation needs root and is then skipped).
if ((EUID == 0)); then
    NOBODY=65534
    AS=(setpriv "--reuid=$NOBODY" "--regid=$NOBODY" --clear-groups --)
    UNSHARE_M=(unshare -m --propagation private)
else
    NOBODY=$EUID
    AS=()
    UNSHARE_M=(unshare -Urm --propagation private)
fi
EMPTY=$W/empty
: >"$EMPTY"
chmod 0444 "$EMPTY"
# cordon itself loads libz.so.1 (through libarchive): while the host's is
# hidden it gets a private copy through LD_LIBRARY_PATH. The replayed build
# runs with the recorded environment, which has no LD_LIBRARY_PATH.
mkdir -p "$W/cordon-libs"
cp -L /usr/lib/x86_64-linux-gnu/libz.so.1 "$W/cordon-libs/" 2>/dev/null || true
chmod -R a+rX "$W/cordon-libs"

# configure.log with the run's own date and pids masked.
mask_log() {
    sed -E -e 's/ztest[0-9]+/ztestPID/g' \
        -e '/^[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [A-Z]+ [0-9]{4}$/d' "$1"
}

# replay LABEL HOW BACKEND: HOW is nouserns, plain or hidden. The exit
# status is the build's (no --check: the outputs are judged below).
replay() {
    local label=$1 how=$2 backend=$3
    local R=$W/replay-$label
    local log=$R/replay.log
    step "4$label. replay as uid $NOBODY ($how, --backend $backend)"
    rm -rf -- "$R"
    mkdir -p "$R/home/.cache"
    cp -- "$A" "$R/zlib.tar.zst"
    ((EUID != 0)) || chown -R "$NOBODY:$NOBODY" "$R"
    local envs=(env -i "HOME=$R/home" "XDG_CACHE_HOME=$R/home/.cache"
        "PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin")
    local cmd=("$CORDON" replay --backend "$backend" --into "$R/root" "$R/zlib.tar.zst")
    local rc=0
    case $how in
    nouserns)
        # cordon-nouserns becomes uid 65534 itself, without capabilities,
        # no_new_privs, in a user namespace allowing no further ones.
        (cd "$R" && "$NOUSERNS" "${envs[@]}" bash -c '
            if unshare -U true 2>/dev/null; then
                echo "the simulation does not hold: unshare -U succeeded" >&2; exit 99
            fi
            exec "$@"' bash "${cmd[@]}") >"$log" 2>&1 || rc=$?
        ;;
    plain)
        (cd "$R" && "${AS[@]}" "${envs[@]}" "${cmd[@]}") >"$log" 2>&1 || rc=$?
        ;;
    hidden)
        local hide=(/usr/include/zlib.h /usr/include/zconf.h)
        local f
        for f in /usr/lib/x86_64-linux-gnu/libz.*; do [[ -e $f ]] && hide+=("$f"); done
        # shellcheck disable=SC2016 # expanded by the inner bash
        (cd "$R" && "${UNSHARE_M[@]}" bash -c '
            empty=$1; shift
            n=0
            while [[ $1 != -- ]]; do
                mount --bind "$empty" "$1" || exit 98
                [[ ! -s $1 ]] || { echo "cannot hide $1" >&2; exit 98; }
                n=$((n + 1)); shift
            done
            shift
            echo "hidden: $n host zlib files (empty files bound over them)"
            exec "$@"' \
            bash "$EMPTY" "${hide[@]}" -- "${AS[@]}" "${envs[@]}" \
            "LD_LIBRARY_PATH=$W/cordon-libs" "${cmd[@]}") >"$log" 2>&1 || rc=$?
        ;;
    esac
    grep -E '^(cordon: replaying|outputs:|differs|missing|hidden:)' "$log" | head -n 20 | sed 's/^/   /' || true
    local picked total ndiff=0 p
    picked=$(sed -n 's/^cordon: replaying with \([a-z]*\).*/\1/p' "$log" | head -n1)
    total=$(jq '.outputs | length' "$M")
    local bad=()
    [[ $rc == 0 ]] || bad+=("the build exited $rc")
    if [[ $backend == auto && $picked != fakechroot ]]; then bad+=("auto picked '${picked:-nothing}'"); fi
    if ! grep -Eq '^outputs: (identical|[0-9]+ of [0-9]+ differ)' "$log"; then
        bad+=("no output comparison from cordon")
    fi
    # cordon's own comparison, output by output. configure.log is the one
    # output no rerun can reproduce: zlib's configure writes `date` and its
    # test files' names, ztest$$, into it. Its difference is accepted only
    # when the two logs agree once the date line and those pids are masked.
    while read -r _ p; do
        ndiff=$((ndiff + 1))
        if [[ $p == "$WT/configure.log" ]] && cmp -s <(mask_log "$p") <(mask_log "$R/root$p"); then
            note "configure.log differs only in its date line and ztest<pid> names, as expected"
        else
            bad+=("cordon: '$p' differs")
        fi
    done < <(grep -E '^(differs|missing) ' "$log")
    local n_cmp=0 f
    for f in "${compared[@]}"; do
        if cmp -s -- "$f" "$R/root$f"; then
            n_cmp=$((n_cmp + 1))
        else
            bad+=("'$f' differs")
        fi
    done
    for f in "${compared[@]:0:2}"; do
        note "sha256 $(sha256sum <"$f" | cut -c1-16) recorded, $(sha256sum <"$R/root$f" 2>/dev/null |
            cut -c1-16) replayed: $f"
    done
    local what="backend ${picked:-?}, cordon: $((total - ndiff))/$total outputs identical, cmp: $n_cmp/${#compared[@]} equal"
    if ((${#bad[@]})); then
        tail -n 15 "$log" | sed 's/^/   | /'
        result FAIL "replay $label ($how)" "$what; ${bad[*]}; log $log"
    else
        result PASS "replay $label ($how)" "$what"
    fi
}

if ((EUID != 0)); then
    result SKIP "replay a (nouserns)" "the simulation without user namespaces needs root"
elif [[ -x $NOUSERNS ]]; then
    replay a nouserns auto
else
    result FAIL "replay a (nouserns)" "no cordon-nouserns helper at '$NOUSERNS'"
fi
replay b plain namespace
replay c-fakechroot hidden fakechroot
replay c-namespace hidden namespace
summary
