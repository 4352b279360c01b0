#!/bin/bash
# completeness.sh: issue 16's builds, each recorded by `cordon record`
# (--complete=auto, the default) and compared with `strace -f`, then packed
# and replayed.
#
#   bench/completeness.sh [--dir W] [--keep] [CASE...]
#
# RECORD_FLAGS adds options to each `cordon record` (for instance
# RECORD_FLAGS=--complete=always).
#
# Cases (all by default): cmake (json-c's Debian source, configure + build),
# busybox (busybox-static's sh running cat), go (go build of a generated
# module, then its binary on an input), venv (python3 -m venv + pip install
# of a local wheel), uring (a static and a dynamic program that try io_uring
# first and read their file through it when they can).
#
# Per case, in W/CASE/wt (the same path each time):
#  1. `cordon record` in a fresh copy of the case's source;
#  2. the same command under `strace -f -e trace=%file,%process` in another
#     fresh copy; the regular files opened for reading (successfully, not
#     write-only, not truncated, not O_CREAT|O_EXCL), real paths, minus the
#     run's own temporary names, are compared with the manifest's inputs
#     (uses read, exec or load) and outputs; a file strace saw that the
#     manifest lacks fails the case unless the program that opened it is
#     named by a coverage gap that means "not seen" (static-exec,
#     seccomp-unavailable, unobserved-process: seccomp-observed programs ARE
#     seen and are held to the same standard);
#  3. `cordon pack`, then `cordon replay --check --backend namespace` into a
#     fresh directory (exit 1 when outputs differ), and `--backend
#     fakechroot` where fakechroot can work at all: it rewrites paths in
#     libc's wrappers, so a static program, Go's raw syscalls and io_uring's
#     openat go around it; those cases say so instead of failing.
# A summary table at the end; exit 1 when any case failed.
#
# The comparison is zlib-acceptance.sh's (same awk over strace's log, same
# regular-file filter); $CORDON, else build/bin/cordon beside bench/. The
# json-c source is fetched once (root, apt-get source) into
# bench/work/src-jsonc; golang-go, busybox-static, python3-venv and
# liburing-dev are needed (apt-get install -y ...).
set -euo pipefail
shopt -s extglob

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
W=/tmp/cordon-completeness
keep=0
CASES=()
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
    cmake | busybox | go | venv | uring) CASES+=("$1") ;;
    *)
        echo "completeness.sh: unknown argument '$1'" >&2
        exit 2
        ;;
    esac
    shift
done
((${#CASES[@]})) || CASES=(cmake busybox go venv uring)

CORDON=${CORDON:-$repo/build/bin/cordon}
[[ -x $CORDON ]] || {
    echo "completeness.sh: no cordon at '$CORDON' (set CORDON)" >&2
    exit 2
}
CORDON=$(realpath "$CORDON")
for tool in jq strace readelf realpath; do
    command -v "$tool" >/dev/null || {
        echo "completeness.sh: '$tool' is needed" >&2
        exit 2
    }
done

step() { printf '\n== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }

chmod -R u+w "$W" 2>/dev/null || true
rm -rf -- "$W"
mkdir -p "$W"
chmod 0755 "$W"
W=$(realpath "$W")
export XDG_CACHE_HOME=$W/cache
echo "cordon: $CORDON"
echo "work:   $W"

declare -a TABLE=()
failed=0

# ------------------------------------------------------------------ sources
# Each setup_CASE fills $W/CASE/src (the pristine tree), sets CMD (run by sh
# in the copy), TEMP_RE (the strace run's own temporary names, which no other
# run can share: mkstemp, pid-keyed or random names the build makes, reads
# back and removes) and FAKE (why fakechroot cannot replay it, or empty).

setup_cmake() {
    local src=
    for d in "$repo"/bench/work/src-jsonc/json-c-*/; do
        [[ -f $d/CMakeLists.txt ]] && src=${d%/} && break
    done
    if [[ -z $src ]]; then
        ((EUID == 0)) || {
            echo "no json-c source under bench/work/src-jsonc; fetching it needs root once" >&2
            return 1
        }
        mkdir -p "$repo/bench/work/src-jsonc"
        if ! grep -qsE '^Types:.*deb-src' /etc/apt/sources.list.d/*.sources; then
            sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
                >/etc/apt/sources.list.d/debian-src.sources
            apt-get update -qq
        fi
        (cd "$repo/bench/work/src-jsonc" && apt-get source -qq json-c)
        for d in "$repo"/bench/work/src-jsonc/json-c-*/; do
            [[ -f $d/CMakeLists.txt ]] && src=${d%/} && break
        done
        [[ -n $src ]] || return 1
    fi
    cp -a -- "$src" "$1"
    # Doxygen would be found and run only if installed: off, as Debian's
    # build does for the library package.
    CMD='cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DCMAKE_INSTALL_PREFIX='$W'/cmake/prefix && cmake --build build -j2 && cmake --install build'
    # gcc's /tmp/ccXXXXXX.*; CMake's try_compile scratch directories
    # (CMakeScratch/TryCompile-XXXXXX, random) and its cmTC_XXXXX targets.
    TEMP_RE="^(/tmp/cc[A-Za-z0-9]{6}(\\..*)?|.*/CMakeScratch/TryCompile-[A-Za-z0-9]+(/.*)?)\$"
    FAKE=
}

setup_busybox() {
    local bb=/bin/busybox
    readelf -lW "$bb" | grep -q INTERP && {
        echo "'$bb' is not static (apt-get install busybox-static)" >&2
        return 1
    }
    mkdir -p "$1"
    printf 'line %s\n' {1..100} >"$1/input.txt"
    CMD="$bb sh -c '$bb cat input.txt > out.txt'"
    TEMP_RE='^$'
    FAKE="static busybox: its open(2) is a raw syscall, not libc's wrapper that fakechroot rewrites"
}

setup_go() {
    command -v go >/dev/null || {
        echo "no go (apt-get install -y golang-go)" >&2
        return 1
    }
    mkdir -p "$1"
    cat >"$1/go.mod" <<'EOF'
module example.com/upper

go 1.19
EOF
    cat >"$1/main.go" <<'EOF'
package main

import (
	"bytes"
	"fmt"
	"os"
)

func main() {
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Stdout.Write(bytes.ToUpper(data))
}
EOF
    printf 'go input %s\n' {1..50} >"$1/input.txt"
    local goroot
    goroot=$(go env GOROOT)
    # No network, no module cache, the build cache inside the work tree.
    CMD='export GOPROXY=off GOFLAGS= GOCACHE='$W'/go/wt/.gocache GOPATH='$W'/go/wt/.gopath GOTOOLCHAIN=local CGO_ENABLED=0 && '$goroot'/bin/go build -o upper . && ./upper input.txt > out.txt'
    # go's work directory /tmp/go-buildNNN (random) and the cache's own
    # temporary files; gcc is not used (CGO_ENABLED=0).
    TEMP_RE="^(/tmp/go-build[0-9]+(/.*)?|$W/go/wt/\\.gocache/.*\\.tmp[0-9]*|$W/go/wt/\\.gocache/[0-9a-f]{2}/[0-9a-f]+-[ad]\\.[0-9]+)\$"
    FAKE="go: the toolchain and the binary make raw syscalls (no libc), which fakechroot cannot rewrite"
}

# Go's cache: an action entry ("v1 ACTION OUTPUT SIZE TIME") and trim.txt
# carry the time they were written; the rest must be equal.
explain_go() {
    [[ -f $1 && -f $2 ]] || return 1
    case $1 in
    */.gocache/trim.txt) return 0 ;;
    */.gocache/*/*-a) cmp -s <(sed -E 's/ [0-9]+$//' "$1") <(sed -E 's/ [0-9]+$//' "$2") ;;
    *) return 1 ;;
    esac
}
explain_why_go() { echo "Go cache entries differ only in the times written into them"; }

# CMake's try_compile logs name its random scratch directories, targets
# and gcc's mkstemp files; masked, they must be equal.
cmake_mask() { sed -E 's/cmTC_[0-9a-f]+/cmTC_X/g; s/TryCompile-[A-Za-z0-9]+/TryCompile-X/g; s|/tmp/cc[A-Za-z0-9]{6}|/tmp/ccX|g' "$1"; }
explain_cmake() {
    [[ -f $1 && -f $2 && $1 == */CMakeFiles/CMake@(Output|Error).log ]] &&
        cmp -s <(cmake_mask "$1") <(cmake_mask "$2")
}
explain_why_cmake() { echo "try_compile logs differ only in random scratch, target and temp names"; }

# A .pyc's header holds its source's mtime (bytes 8-11): the installed
# sources are new files each run. The rest must be equal.
explain_venv() {
    [[ -f $1 && -f $2 && $1 == *.pyc ]] &&
        cmp -s <(head -c 8 "$1"; tail -c +13 "$1") <(head -c 8 "$2"; tail -c +13 "$2")
}
explain_why_venv() { echo ".pyc files differ only in their source mtime field"; }

setup_venv() {
    local py=/usr/bin/python3
    "$py" -c 'import venv, ensurepip' 2>/dev/null || {
        echo "no venv/ensurepip for $py (apt-get install -y python3-venv)" >&2
        return 1
    }
    mkdir -p "$1/wheels"
    # A handmade wheel: one module, its metadata, a RECORD; fixed zip
    # timestamps so every copy is the same bytes.
    "$py" - "$1/wheels/tinyupper-1.0-py3-none-any.whl" <<'EOF'
import base64, hashlib, sys, zipfile
files = {
    "tinyupper.py": "def upper(s):\n    return s.upper()\n",
    "tinyupper-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: tinyupper\nVersion: 1.0\n",
    "tinyupper-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: handmade\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
for name, text in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
    record.append(f"{name},sha256={digest},{len(text.encode())}")
record.append("tinyupper-1.0.dist-info/RECORD,,")
files["tinyupper-1.0.dist-info/RECORD"] = "\n".join(record) + "\n"
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for name, text in files.items():
        z.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), text)
EOF
    echo 'venv input' >"$1/input.txt"
    # No network and no user configuration; the venv's python, not pyenv's.
    CMD="export PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONHASHSEED=0 && $py -m venv venv && venv/bin/pip install -q --no-index wheels/tinyupper-1.0-py3-none-any.whl && venv/bin/python -c 'import sys, tinyupper; sys.stdout.write(tinyupper.upper(open(\"input.txt\").read()))' > out.txt"
    # ensurepip's and pip's temporary directories (tempfile: random).
    TEMP_RE="^(/tmp/tmp[A-Za-z0-9_]{8}(/.*)?|/tmp/pip-[A-Za-z0-9_-]+(/.*)?)\$"
    FAKE=
}

setup_uring() {
    [[ -f /usr/include/liburing.h ]] || {
        echo "no liburing (apt-get install -y liburing-dev)" >&2
        return 1
    }
    mkdir -p "$1"
    # Reads its file through io_uring (openat, read, close on the ring) when
    # io_uring_setup works, else with read(2); says which on stderr, so the
    # output is the file either way.
    cat >"$W/uring.c" <<'EOF'
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int ring_read(struct io_uring *ring, const char *path) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    struct io_uring_cqe *cqe;
    io_uring_prep_openat(sqe, AT_FDCWD, path, O_RDONLY, 0);
    io_uring_submit(ring);
    if (io_uring_wait_cqe(ring, &cqe) < 0 || cqe->res < 0)
        return -1;
    int fd = cqe->res;
    io_uring_cqe_seen(ring, cqe);
    static char buf[1 << 16];
    for (unsigned long long off = 0;;) {
        sqe = io_uring_get_sqe(ring);
        io_uring_prep_read(sqe, fd, buf, sizeof buf, off);
        io_uring_submit(ring);
        if (io_uring_wait_cqe(ring, &cqe) < 0 || cqe->res < 0)
            return -1;
        int n = cqe->res;
        io_uring_cqe_seen(ring, cqe);
        if (n == 0)
            break;
        fwrite(buf, 1, (size_t)n, stdout);
        off += (unsigned)n;
    }
    close(fd);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    struct io_uring ring;
    int r = io_uring_queue_init(4, &ring, 0);
    if (r == 0) {
        fprintf(stderr, "%s: io_uring\n", argv[0]);
        return ring_read(&ring, argv[1]) ? 1 : 0;
    }
    fprintf(stderr, "%s: fallback %s\n", argv[0], r == -ENOSYS ? "ENOSYS" : strerror(-r));
    FILE *f = fopen(argv[1], "r");
    if (!f)
        return perror(argv[1]), 1;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, stdout);
    fclose(f);
    return 0;
}
EOF
    cc -O -o "$1/uring-dyn" "$W/uring.c" -luring || return 1
    cc -static -O -o "$1/uring-static" "$W/uring.c" -luring || return 1
    printf 'static ring %s\n' {1..20} >"$1/in-static.txt"
    printf 'dynamic ring %s\n' {1..20} >"$1/in-dyn.txt"
    # Which path each took goes to stderr (the run's log): under replay
    # io_uring works and the output must be the same.
    CMD='./uring-static in-static.txt > out-static.txt && ./uring-dyn in-dyn.txt > out-dyn.txt'
    TEMP_RE='^$'
    FAKE="io_uring's openat and the static program's raw syscalls go around fakechroot's libc wrappers"
}

# ------------------------------------------------------------- comparison
# zlib-acceptance.sh's awk: "EXE<TAB>PID<TAB>PATH" per open that can read.
strace_opens() {
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
    }' "$1"
}
regular() {
    xargs -r -d '\n' realpath -m -- | sort -u | while IFS= read -r p; do
        if [[ -e $p && ! -f $p ]]; then continue; fi
        printf '%s\n' "$p"
    done
}

# ------------------------------------------------------------------- a case
run_case() {
    local name=$1
    local C=$W/$name WT=$W/$name/wt M=$W/$name/m.json
    local CMD TEMP_RE FAKE
    local n_st=- n_in=- n_miss=- r_ns=- r_fc=- bad=()
    step "$name"
    mkdir -p "$C"
    if ! "setup_$name" "$C/src" >"$C/setup.log" 2>&1; then
        sed 's/^/   | /' "$C/setup.log" | tail -n 5
        TABLE+=("$(printf '%-8s %8s %8s %8s  %-10s %s' "$name" - - - FAIL "setup failed, see $C/setup.log")")
        failed=$((failed + 1))
        return
    fi
    note "command: $CMD"
    local prefix=$C/prefix

    # 1. record
    rm -rf -- "$WT" "$prefix" "$C/strace-made"
    cp -a -- "$C/src" "$WT"
    local rc=0
    # shellcheck disable=SC2086 # RECORD_FLAGS is a list of options
    (cd "$WT" && "$CORDON" record -q ${RECORD_FLAGS:-} -o "$M" -- sh -c "$CMD") >"$C/record.log" 2>&1 || rc=$?
    if [[ $rc != 0 || ! -s $M ]]; then
        tail -n 5 "$C/record.log" | sed 's/^/   | /'
        TABLE+=("$(printf '%-8s %8s %8s %8s  %-10s %s' "$name" - - - FAIL "record exited $rc")")
        failed=$((failed + 1))
        return
    fi
    n_in=$(jq '[.inputs[] | select((.uses // []) | any(. == "read" or . == "exec" or . == "load"))] | length' "$M")
    note "record: $n_in inputs read/exec/load, $(jq '.outputs | length' "$M") outputs," \
        "gaps: $(jq -c '[.coverage.gaps[] | "\(.kind) \(.path // "")"]' "$M")"
    if [[ $name == uring ]]; then
        for k in static dyn; do
            note "under record, $(grep "^\./uring-$k: " "$C/record.log" || echo "uring-$k: nothing said")"
            grep -qx "\./uring-$k: fallback ENOSYS" "$C/record.log" || bad+=("uring-$k was not refused io_uring")
            jq -e --arg p "$WT/in-$k.txt" 'any(.inputs[]; .path == $p and ((.uses // []) | index("read")))' "$M" \
                >/dev/null || bad+=("in-$k.txt is not a read input")
        done
    fi
    mv -- "$WT" "$C/wt-rec"
    [[ ! -e $prefix ]] || mv -- "$prefix" "$C/prefix-rec"

    # 2. strace at the same path
    cp -a -- "$C/src" "$WT"
    rc=0
    (cd "$WT" && strace -f -qq -o "$C/strace.log" -e trace=%file,%process -y sh -c "$CMD") \
        >"$C/strace-run.log" 2>&1 || rc=$?
    if [[ $rc != 0 ]]; then
        bad+=("the strace run exited $rc")
    else
        strace_opens "$C/strace.log" >"$C/strace.opens"
        # Programs the manifest says it did not see (seccomp-observed ones
        # were seen).
        jq -r '.coverage.gaps[] | select(.kind != "seccomp-observed") | select(.path != null) | .path' "$M" |
            xargs -r -d '\n' realpath -m -- | sort -u >"$C/unseen.paths"
        declare -A unseen=()
        while IFS= read -r e; do [[ -n $e ]] && unseen[$e]=1; done <"$C/unseen.paths"
        : >"$C/strace.paths"
        local n_unseen=0 exe path
        while IFS=$'\t' read -r exe _ path; do
            if [[ $exe != - && -n ${unseen[$(realpath -m -- "$exe")]:-} ]]; then
                n_unseen=$((n_unseen + 1))
                continue
            fi
            printf '%s\n' "$path" >>"$C/strace.paths"
        done <"$C/strace.opens"
        regular <"$C/strace.paths" >"$C/strace.files.all"
        # /proc and /sys are the kernel's, per process and per host: no
        # archive carries them (cordon records no /proc or /sys input).
        grep -Ev "$TEMP_RE" "$C/strace.files.all" | grep -Ev '^/(proc|sys)/' >"$C/strace.files" || true
        note "kernel pseudo-files (/proc, /sys) strace saw, not compared: $(grep -cE '^/(proc|sys)/' "$C/strace.files.all" || true)"
        local n_temp
        n_temp=$(grep -cE "$TEMP_RE" "$C/strace.files.all" || true)
        jq -r '(.inputs[] | select((.uses // []) | any(. == "read" or . == "exec" or . == "load")) | .path),
               (.outputs[] | .path)' "$M" | xargs -r -d '\n' realpath -m -- | sort -u >"$C/manifest.files"
        # A file under the work tree that the source did not have was made
        # by the strace run itself (an O_RDWR|O_CREAT open, which the awk
        # counts, creates it): an intermediate under a name of that run (Go's
        # cache keys hash the tree's mtimes), not an input.
        comm -23 "$C/strace.files" "$C/manifest.files" | while IFS= read -r p; do
            if [[ $p == "$WT"/* && ! -e $C/src/${p#"$WT"/} ]]; then
                printf '%s\n' "$p" >>"$C/strace-made"
            else
                printf '%s\n' "$p"
            fi
        done >"$C/only-strace"
        [[ ! -s $C/strace-made ]] || note "made and read back by the strace run under its own names: $(wc -l <"$C/strace-made") (in $C/strace-made)"
        comm -13 "$C/strace.files" "$C/manifest.files" >"$C/only-manifest"
        n_st=$(wc -l <"$C/strace.files")
        n_miss=$(wc -l <"$C/only-strace")
        note "strace: $n_st files opened for reading ($n_temp temporary names ignored," \
            "$n_unseen opens by programs the manifest names as unseen)"
        note "only in the manifest: $(wc -l <"$C/only-manifest") (all in $C/only-manifest)"
        head -n 10 "$C/only-manifest" | sed 's/^/     /'
        if ((n_miss)); then
            note "opened for reading under strace, not in the manifest ($n_miss):"
            head -n 40 "$C/only-strace" | sed 's/^/     /'
            bad+=("$n_miss files strace saw are missing")
        fi
    fi
    rm -rf -- "$C/wt-strace" "$C/prefix-strace"
    mv -- "$WT" "$C/wt-strace"
    [[ ! -e $prefix ]] || mv -- "$prefix" "$C/prefix-strace"
    mv -- "$C/wt-rec" "$WT"
    [[ ! -e $C/prefix-rec ]] || mv -- "$C/prefix-rec" "$prefix"

    # 3. pack and replay
    local A=$C/root.tar.zst
    rc=0
    "$CORDON" pack "$M" -o "$A" --quiet >"$C/pack.log" 2>&1 || rc=$?
    if [[ $rc != 0 ]]; then
        tail -n 5 "$C/pack.log" | sed 's/^/   | /'
        bad+=("pack exited $rc")
    else
        local backend
        for backend in namespace fakechroot; do
            if [[ $backend == fakechroot && -n $FAKE ]]; then
                r_fc="n/a"
                note "fakechroot: not run: $FAKE"
                continue
            fi
            local R=$C/replay-$backend
            rm -rf -- "$R"
            rc=0
            "$CORDON" replay --check --backend "$backend" --into "$R" "$A" >"$C/replay-$backend.log" 2>&1 || rc=$?
            grep -E '^(cordon: replaying|outputs:|differs|missing)' "$C/replay-$backend.log" | head -n 10 |
                sed "s/^/   $backend: /" || true
            local verdict unexplained=0
            if [[ $rc == 1 ]]; then
                # --check's exit 1: outputs differ. Some builds cannot
                # reproduce some outputs (times written into them): the
                # case's explain_CASE says which and shows why.
                while read -r _ p; do
                    if declare -F "explain_$name" >/dev/null && "explain_$name" "$p" "$R$p"; then
                        continue
                    fi
                    unexplained=$((unexplained + 1))
                done < <(grep -E '^(differs|missing) ' "$C/replay-$backend.log")
                ((unexplained)) || {
                    rc=0
                    note "$backend: every difference explained: $(explain_why_$name)"
                }
            fi
            if [[ $rc == 0 ]]; then verdict=ok; else
                verdict="exit$rc"
                tail -n 8 "$C/replay-$backend.log" | sed 's/^/   | /'
                bad+=("replay $backend exited $rc")
            fi
            if [[ $backend == namespace ]]; then r_ns=$verdict; else r_fc=$verdict; fi
        done
    fi
    local status=PASS
    if ((${#bad[@]})); then
        status=FAIL
        failed=$((failed + 1))
    fi
    note "-> $status ${bad[*]}"
    TABLE+=("$(printf '%-8s %8s %8s %8s  %-10s %-10s %s' "$name" "$n_st" "$n_in" "$n_miss" "$r_ns" "$r_fc" "$status ${bad[*]}")")
}

for c in "${CASES[@]}"; do run_case "$c"; done

step "summary"
printf '%-8s %8s %8s %8s  %-10s %-10s %s\n' case strace manifest missing "replay-ns" "replay-fc" result
printf '%s\n' "${TABLE[@]}"
if ((failed)); then
    echo "completeness: $failed case(s) failed; everything is in $W"
    exit 1
fi
echo "completeness: every case passed"
((keep)) || {
    chmod -R u+w "$W" 2>/dev/null || true
    rm -rf -- "$W"
}
