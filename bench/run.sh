#!/usr/bin/env bash
# Side-by-side measurements of cordon (record, pack, replay) against its peers
# (strace, ReproZip, CARE, CDE, fakechroot) on a real build: zlib's Debian
# source, ./configure && make -j2 && make install. See bench/README.md.
# The whole script is one block, read before it runs: editing this file
# while a run is under way does not change that run.
{
set -uo pipefail
shopt -s nullglob
export LC_ALL=C

usage() {
	cat <<'EOF'
Usage: bench/run.sh [OPTIONS]

Builds zlib's Debian source (./configure --prefix=... && make -j2 && make
install) once per variant per round, the variants interleaved within each
round, and prints each variant's median time, its ratio to the native build
of the same round, archive sizes, peak memory and status.

Options:
  --rounds N        rounds (default 3)
  --only LIST       comma-separated variants, from: native, fakechroot,
                    cordon-record (--complete=auto, the default),
                    cordon-record-always (--complete=always: every
                    process under seccomp user notification), cordon-pack,
                    tar-zstd, cordon-replay-ns,
                    cordon-replay-fakechroot, strace, reprozip-trace,
                    reprozip-pack, reprounzip-dir, care, cde (default: all;
                    reprozip-pack and reprounzip-dir bring in what they need)
  --synthetic [N]   instead: record, verify, pack and replay a generated build
                    that reads N small files (default 200000)
  --install         apt-get install the peers that are missing (needs root)
  --no-warmup       skip the untimed native build before round 1
  -h, --help        this text

Environment:
  CORDON=/path/to/cordon   benchmark this binary; otherwise cordon is built
                           (Release) into build-bench/ beside bench/

Everything it writes goes to bench/work/ (git-ignored): the zlib source,
scratch runs and logs (runs/), results-<timestamp>.tsv and the cordon cache
(cache/, emptied at each start so that the first replay unpacks).
EOF
}

BENCH_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(dirname -- "$BENCH_DIR")
WORK=$BENCH_DIR/work
RUNS=$WORK/runs
LOGS=$RUNS/logs
BIN=$WORK/bin
BUILD_DIR=$ROOT/build-bench
CACHE=$WORK/cache # XDG_CACHE_HOME of every cordon command
ZLIB_VERSION=1:1.2.13.dfsg-1 # the main archive's; the security pool's may 404

ALL_VARIANTS=(native fakechroot cordon-record cordon-record-always cordon-pack tar-zstd cordon-replay-ns
	cordon-replay-fakechroot strace reprozip-trace reprozip-pack reprounzip-dir care cde)
ROUNDS=3
JOBS=2
ONLY=""
SYNTH=0
SYNTH_N=200000
INSTALL=0
WARMUP=1
TIMEOUT=1800 # seconds, for any one command: a hang cannot hang the bench

die() {
	printf 'bench: %s\n' "$*" >&2
	exit 1
}
note() { printf 'note: %s\n' "$*"; }
need_num() { [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "$1 needs a positive integer, got '${2:-}'"; }

while (($#)); do
	case $1 in
	--rounds)
		need_num "$1" "${2:-}"
		ROUNDS=$2
		shift 2
		;;
	--only)
		[[ -n ${2:-} ]] || die "--only needs a list"
		ONLY=$2
		shift 2
		;;
	--synthetic)
		SYNTH=1
		if [[ ${2:-} =~ ^[0-9]+$ ]]; then
			need_num "$1" "$2"
			SYNTH_N=$2
			shift
		fi
		shift
		;;
	--install)
		INSTALL=1
		shift
		;;
	--no-warmup)
		WARMUP=0
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		die "unknown argument '$1'"
		;;
	esac
done

# Selected variants, in the fixed order of ALL_VARIANTS.
declare -A WANT=()
if [[ -z $ONLY ]]; then
	for v in "${ALL_VARIANTS[@]}"; do WANT[$v]=1; done
else
	IFS=, read -r -a wanted <<<"$ONLY"
	for w in "${wanted[@]}"; do
		[[ " ${ALL_VARIANTS[*]} " == *" $w "* ]] || die "unknown variant '$w' (known: ${ALL_VARIANTS[*]})"
		WANT[$w]=1
	done
	# ReproZip's pack and replay work on the same round's trace and pack.
	if [[ -n ${WANT[reprounzip-dir]:-} && -z ${WANT[reprozip-pack]:-} ]]; then
		note "reprounzip-dir needs reprozip-pack: added"
		WANT[reprozip-pack]=1
	fi
	if [[ -n ${WANT[reprozip-pack]:-} && -z ${WANT[reprozip-trace]:-} ]]; then
		note "reprozip-pack needs reprozip-trace: added"
		WANT[reprozip-trace]=1
	fi
fi
VARIANTS=()
for v in "${ALL_VARIANTS[@]}"; do [[ -n ${WANT[$v]:-} ]] && VARIANTS+=("$v"); done

mkdir -p -- "$WORK" "$BIN" || die "cannot create '$WORK'"

# ------------------------------------------------------------------ helpers

# Seconds between two EPOCHREALTIME values, 3 decimals.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# The median of the numbers given as arguments ("" if none).
median() {
	(($#)) || return 0
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
mb() { if [[ -n ${1:-} ]]; then awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; else printf -- -; fi; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b }'; }
human() { # bytes -> "12.3 MB"
	[[ -n ${1:-} ]] || return 0
	awk -v b="$1" 'BEGIN { if (b >= 1e9) printf "%.2f GB", b / 1e9; else if (b >= 1e6) printf "%.1f MB", b / 1e6;
		else if (b >= 1e3) printf "%.1f kB", b / 1e3; else printf "%d B", b }'
}
fsize() { stat -c %s -- "$1" 2>/dev/null; }
dsize() { du -sb -- "$1" 2>/dev/null | awk '{ print $1 }'; }
# The last informative line of a log, shortened: why something failed.
why() {
	local line
	line=$(grep -aE '[Ee]rror|ERROR|CRITICAL|[Ff]ailed|[Ss]egmentation|[Kk]illed|not found|[Cc]annot|\*\*\*' -- "$1" 2>/dev/null |
		grep -av '^Checking' | tail -n 1)
	[[ -n $line ]] || line=$(grep -aE '^cordon[^ ]*:' -- "$1" 2>/dev/null | grep -avE '^cordon: (root|replaying)' | tail -n 1)
	[[ -n $line ]] || line=$(grep -av '^[[:space:]]*$' -- "$1" 2>/dev/null | tail -n 1)
	line=${line//$'\t'/ }
	printf '%s' "${line:0:140}"
}

# run_timed DIR LOG CMD...: run CMD in DIR under /usr/bin/time -v and a
# timeout, stdout and stderr to LOG. Sets T_SEC (wall clock), T_RC and T_RSS
# (peak resident set in kB: the largest of the command and its descendants,
# as getrusage reports it).
#
# A command starting with "@cordon" runs cordon with its cache (store and
# unpacked roots) in $CACHE and, when bench/peakrss.c built, under peakrss, which
# sets T_OWN to the peak resident set (kB) of cordon's own process alone.
T_SEC="" T_RC=0 T_RSS="" T_OWN=""
run_timed() {
	local dir=$1 log=$2 t0 t1
	shift 2
	rm -f -- "$log.peak"
	if [[ $1 == @cordon ]]; then
		shift
		if [[ -x $BIN/peakrss ]]; then
			set -- "$BIN/peakrss" -o "$log.peak" env XDG_CACHE_HOME="$CACHE" "$CORDON" "$@"
		else
			set -- env XDG_CACHE_HOME="$CACHE" "$CORDON" "$@"
		fi
	fi
	sync
	t0=$EPOCHREALTIME
	(cd -- "$dir" && exec timeout -k 10 "$TIMEOUT" /usr/bin/time -v -o "$log.time" "$@") >"$log" 2>&1 </dev/null
	T_RC=$?
	t1=$EPOCHREALTIME
	T_SEC=$(elapsed "$t0" "$t1")
	T_RSS=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log.time" 2>/dev/null)
	T_OWN=$(awk '$1 == "VmHWM_kB" && $2 > 0 { print $2 }' "$log.peak" 2>/dev/null)
	if ((T_RC == 124 || T_RC == 137)); then
		printf '\n[bench] timed out after %s s\n' "$TIMEOUT" >>"$log"
	fi
}
rc_text() {
	case $1 in
	124 | 137) printf 'timed out after %s s' "$TIMEOUT" ;;
	*) if (($1 > 128)); then printf 'killed by signal %d' $(($1 - 128)); else printf 'exit %d' "$1"; fi ;;
	esac
}

# The workload, in a build directory D holding src/: fresh prefix under D.
workload() { printf './configure --prefix=%s/prefix && make -j%d && make install LDCONFIG=true' "$1" "$JOBS"; }
# What make install leaves in a prefix: the build really happened.
outputs_ok() {
	local p=$1/prefix
	[[ -s $p/lib/libz.a && -s $p/include/zlib.h && -s $p/include/zconf.h && -s $p/lib/pkgconfig/zlib.pc ]] &&
		compgen -G "$p/lib/libz.so.*.*" >/dev/null
}
# fresh_build_dir NAME: an empty D with a fresh copy of the source in D/src.
fresh_build_dir() {
	local d=$RUNS/$1
	rm -rf -- "$d"
	if ! { mkdir -p -- "$d" && cp -a -- "$SRC" "$d/src"; }; then
		die "cannot copy the source into '$d'"
	fi
	printf '%s' "$d"
}

have() { command -v "$1" >/dev/null 2>&1; }

# ------------------------------------------------------------------ tools

# Debian packages behind each tool, for --install and for the messages.
declare -A PKG=([strace]=strace [fakechroot]=fakechroot [reprozip]=reprozip [reprounzip]=reprounzip
	[care]=care [cde]=cde [jq]=jq [zstd]=zstd [hyperfine]=hyperfine [bwrap]=bubblewrap
	[/usr/bin/time]=time [cmake]=cmake [cc]=gcc [apt-get]=apt)

install_missing() {
	local t missing=()
	for t in "${!PKG[@]}"; do have "$t" || missing+=("${PKG[$t]}"); done
	((${#missing[@]})) || return 0
	((EUID == 0)) || die "--install needs root"
	local p avail=()
	for p in "${missing[@]}"; do
		if apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
			avail+=("$p")
		else
			note "package '$p' has no candidate in this distribution's archive: its variant is skipped"
		fi
	done
	((${#avail[@]})) || return 0
	echo "installing: ${avail[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${avail[@]}" >"$WORK/install.log" 2>&1 ||
		note "apt-get install failed, see $WORK/install.log"
}
((INSTALL)) && install_missing
have /usr/bin/time || die "/usr/bin/time is missing: apt-get install -y time (it gives the peak memory)"
have timeout || die "timeout (coreutils) is missing"

# A tool a variant needs: "" if present, else the reason it is skipped.
missing_tool() {
	local t
	for t in "$@"; do
		have "$t" || {
			printf "'%s' is not installed (apt-get install -y %s, or bench/run.sh --install)" "$t" "${PKG[$t]:-$t}"
			return
		}
	done
}

# bench/*.c helpers, compiled into bench/work/bin when newer than the binary.
build_helper() {
	local name=$1
	if [[ ! -x $BIN/$name || $BENCH_DIR/$name.c -nt $BIN/$name ]]; then
		cc -O2 -Wall -Wextra -Werror -o "$BIN/$name" "$BENCH_DIR/$name.c" >"$WORK/$name-build.log" 2>&1 ||
			{
				note "cannot build bench/$name.c (see $WORK/$name-build.log)"
				return 1
			}
	fi
}

# ------------------------------------------------------------------ cordon

# CORDON_WHY is "" when a cordon binary is there to try, else why not.
# Warnings are not errors here: a benchmark measures, and -O2 makes gcc 12
# warn (-Wmaybe-uninitialized) where the default build does not.
CORDON_WHY=""
setup_cordon() {
	if [[ -n ${CORDON:-} ]]; then
		[[ -x $CORDON ]] || CORDON_WHY="CORDON='$CORDON' is not an executable"
		build_helper peakrss || note "cordon's own peak memory will not be measured"
		return
	fi
	CORDON=$BUILD_DIR/bin/cordon
	build_helper peakrss || note "cordon's own peak memory will not be measured"
	local log=$WORK/cordon-build.log
	echo "building cordon (Release) in $BUILD_DIR (log: $log)"
	if ! {
		{ [[ -f $BUILD_DIR/CMakeCache.txt ]] ||
			cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DCORDON_TESTS=OFF \
				-DCORDON_WERROR=OFF; } &&
			cmake --build "$BUILD_DIR" -j2
	} >"$log" 2>&1; then
		if [[ -x $CORDON ]]; then
			note "building cordon failed ($(why "$log")); using the binary left from an earlier build"
		else
			CORDON_WHY="cordon does not build: $(why "$log")"
		fi
	fi
	[[ -x $CORDON || -n $CORDON_WHY ]] || CORDON_WHY="no binary at '$CORDON' after the build"
}



# The manifest's inputs whose bytes the build needed (read, executed or
# loaded regular files) that exist now: the file list of the tar baseline.
# Prints the count of listed paths; the paths go to $2 without the leading
# slash, for tar -C /.
content_list() {
	local m=$1 out=$2 p n=0 gone=0
	: >"$out"
	while IFS= read -r p; do
		if [[ -f $p ]]; then
			printf '%s\n' "${p#/}" >>"$out"
			n=$((n + 1))
		else
			gone=$((gone + 1))
		fi
	done < <(jq -r '.inputs[] | select(.type == "file" and ((.uses // []) |
		any(. == "read" or . == "exec" or . == "load"))) | .path' "$m")
	printf '%d %d' "$n" "$gone"
}

# cordon's options go before its operands here (pack -o A M, replay
# --backend B A): every argument parser takes that order.

# ------------------------------------------------------------------ source

SRC=""
find_src() {
	local d
	for d in "$WORK"/src/zlib-*/; do
		if [[ -f $d/configure && -f $d/Makefile.in ]]; then
			SRC=${d%/}
			return 0
		fi
	done
	return 1
}
fetch_src() {
	find_src && return 0
	((EUID == 0)) || die "zlib's source is not in $WORK/src; fetching it needs root once (apt-get source)"
	local log=$WORK/fetch.log
	echo "fetching zlib's Debian source into $WORK/src (log: $log)"
	mkdir -p -- "$WORK/src"
	if ! grep -qsE '^Types:.*deb-src' /etc/apt/sources.list.d/*.sources &&
		! grep -qsE '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list; then
		[[ -f /etc/apt/sources.list.d/debian.sources ]] || die "no deb-src entry and no debian.sources to copy"
		sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
			>/etc/apt/sources.list.d/debian-src.sources
		apt-get update >>"$log" 2>&1 || die "apt-get update failed, see $log"
	fi
	have dpkg-source || DEBIAN_FRONTEND=noninteractive apt-get install -y dpkg-dev >>"$log" 2>&1
	(cd -- "$WORK/src" && apt-get source zlib) >>"$log" 2>&1 ||
		(cd -- "$WORK/src" && apt-get source "zlib=$ZLIB_VERSION") >>"$log" 2>&1 ||
		die "apt-get source zlib failed, see $log"
	find_src || die "no zlib source tree in $WORK/src after apt-get source"
}

# ================================================================== synthetic

synthetic() {
	local n=$SYNTH_N
	local s=$WORK/synth/$n
	build_helper synth || die "cannot build the synthetic workload"
	setup_cordon
	[[ -z $CORDON_WHY ]] || die "$CORDON_WHY"
	printf '# bench/run.sh --synthetic %d %s: %s CPUs, load %s; cordon %s, tree at %s\n' "$n" \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$CORDON" \
		"$(git -C "$ROOT" describe --always --dirty 2>/dev/null)"
	mkdir -p -- "$s"
	if [[ ! -f $s/tree.done ]]; then
		echo "generating $n files in $s/tree"
		rm -rf -- "$s/tree"
		"$BIN/synth" gen "$s/tree" "$n" || die "cannot generate the tree"
		touch -- "$s/tree.done"
	fi
	# A cache of its own: N files in the store and in each root take minutes
	# to delete on a slow disk, which the zlib runs should not pay for.
	CACHE=$s/run/cache
	rm -rf -- "$s/run"
	mkdir -p -- "$s/run" "$s/run/logs"
	# The work tree is the tree itself plus where the output goes, as a
	# source tree is: cordon snapshots it at the start of the recording.
	local wt=$s/run/wt
	mkdir -p -- "$wt" || die "cannot create '$wt'"
	cp -al -- "$s/tree" "$wt/tree" 2>/dev/null || cp -a -- "$s/tree" "$wt/tree" || die "cannot copy the tree"
	local logs=$s/run/logs m=$s/run/manifest.json a=$s/run/root.tar.zst
	printf '\n%-36s %10s %10s %10s  %s\n' step seconds peak_rss own_rss status
	# syn_step NAME LOG DIR CMD...: run and print one row; SYN_OK says ok.
	syn_step() {
		local name=$1 log=$logs/$2.log dir=$3
		shift 3
		run_timed "$dir" "$log" "$@"
		SYN_ST=ok
		((T_RC == 0)) || SYN_ST="failed: $(rc_text "$T_RC"): $(why "$log")"
		SYN_OK=$((T_RC == 0))
		SYN_NAME=$name
	}
	syn_print() { # [extra]
		printf '%-36s %10s %10s %10s  %s\n' "$SYN_NAME" "$T_SEC" "$(mb "$T_RSS")" "$(mb "$T_OWN")" \
			"$SYN_ST${1:+ ($1)}"
	}
	# What creating that many files costs on this file system: the floor
	# under a snapshot, an unpack or a working root.
	syn_step "cp -a of the tree (baseline)" cp "$s/run" cp -a -- "$s/tree" "$s/run/tree-copy"
	syn_print
	rm -rf -- "$s/run/tree-copy"
	syn_step "native read" native "$wt" "$BIN/synth" read tree out.txt
	syn_print "$(tr '\n' ' ' <"$wt/out.txt" 2>/dev/null)"
	rm -f -- "$wt/out.txt"
	syn_step "cordon record" record "$wt" @cordon record -o "$m" -- "$BIN/synth" read tree out.txt
	[[ -f $m ]] && syn_print "manifest $(human "$(fsize "$m")"), $(jq '.inputs | length' "$m" 2>/dev/null) inputs; includes the work tree's snapshot"
	[[ -f $m ]] || syn_print
	((SYN_OK)) || return 0
	syn_step "cordon verify" verify "$wt" @cordon verify "$m"
	syn_print
	syn_step "cordon pack" pack "$s/run" @cordon pack -o "$a" "$m"
	syn_print "$([[ -f $a ]] && human "$(fsize "$a")")"
	((SYN_OK)) || return 0
	local b step
	for step in namespace-cold namespace fakechroot; do
		b=${step%-cold}
		syn_step "cordon replay --backend $b" "replay-$step" "$s/run" @cordon replay --backend "$b" "$a"
		if ((SYN_OK)) && ! grep -q '^outputs: identical' "$logs/replay-$step.log"; then
			SYN_ST="failed: $(grep -a '^outputs:' "$logs/replay-$step.log" | head -n 1)"
		fi
		if [[ $step == *-cold ]]; then syn_print "first: unpack + working root + run"; else syn_print "cached root: working root + run"; fi
	done
	echo
	echo "logs: $logs"
}

if ((SYNTH)); then
	synthetic
	exit 0
fi

# ================================================================== zlib

fetch_src
needs_cordon=0
for v in "${VARIANTS[@]}"; do [[ $v == cordon-* || $v == tar-zstd ]] && needs_cordon=1; done
((needs_cordon)) && setup_cordon
have jq || CORDON_WHY=${CORDON_WHY:-"'jq' is not installed (it reads the manifest)"}

rm -rf -- "$RUNS" "$CACHE"
mkdir -p -- "$RUNS" "$LOGS" || die "cannot create '$RUNS'"
STAMP=$(date +%Y%m%d-%H%M%S)
TSV=$WORK/results-$STAMP.tsv

# Per variant: why it cannot run at all ("" = it can).
declare -A SKIP=()
for v in "${VARIANTS[@]}"; do
	case $v in
	native) ;;
	fakechroot) SKIP[$v]=$(missing_tool fakechroot) ;;
	cordon-record | cordon-record-always | cordon-pack) SKIP[$v]=$CORDON_WHY ;;
	tar-zstd) SKIP[$v]=${CORDON_WHY:+"no cordon manifest to list files from: $CORDON_WHY"}
		[[ -n ${SKIP[$v]} ]] || SKIP[$v]=$(missing_tool tar zstd) ;;
	cordon-replay-ns) SKIP[$v]=$CORDON_WHY ;;
	cordon-replay-fakechroot) SKIP[$v]=$CORDON_WHY ;;
	strace) SKIP[$v]=$(missing_tool strace) ;;
	reprozip-trace | reprozip-pack)
		SKIP[$v]=$(missing_tool reprozip)
		[[ -n ${SKIP[$v]} ]] || build_helper noclone3 || SKIP[$v]="bench/noclone3.c does not build"
		;;
	reprounzip-dir) SKIP[$v]=$(missing_tool reprounzip) ;;
	care) SKIP[$v]=$(missing_tool care) ;;
	cde) SKIP[$v]=$(missing_tool cde) ;;
	esac
done

# Results: key "variant round".
declare -A SEC=() STATUS=() RSS=() OWN=() SIZE=()
declare -A NOTE=() # per variant: one line of context for the final table

# The reference recording and root that the replays (and, without
# cordon-record, the pack variants) use. Made once, before the rounds:
# replaying one archive each round lets the second replay onward reuse the
# unpacked root in the cache.
REF=$RUNS/ref-cordon
REF_M=$REF/manifest.json
REF_A=$REF/root.tar.zst
REF_WHY="" # "" when the reference archive exists
declare -A COLD=() # backend -> "seconds|status|rss|own rss|what"

prepare_cordon() {
	local need=0 v
	for v in cordon-pack tar-zstd cordon-replay-ns cordon-replay-fakechroot; do
		[[ -n ${WANT[$v]:-} && -z ${SKIP[$v]:-} ]] && need=1
	done
	((need)) || return 0
	echo "== reference recording and root for the replays ($REF)"
	fresh_build_dir ref-cordon >/dev/null
	run_timed "$REF/src" "$LOGS/ref-record.log" @cordon record -o "$REF_M" -- sh -c "$(workload "$REF")"
	if ((T_RC != 0)) || [[ ! -s $REF_M ]]; then
		REF_WHY="cordon record failed ($(rc_text "$T_RC")): $(why "$LOGS/ref-record.log")"
		echo "   record: $REF_WHY"
		return
	fi
	echo "   record: $T_SEC s, manifest $(human "$(fsize "$REF_M")"), $(jq '.inputs | length' "$REF_M") inputs"
	run_timed "$REF" "$LOGS/ref-pack.log" @cordon pack -o "$REF_A" "$REF_M"
	if ((T_RC != 0)) || [[ ! -s $REF_A ]]; then
		REF_WHY="cordon pack failed ($(rc_text "$T_RC")): $(why "$LOGS/ref-pack.log")"
		echo "   pack: $REF_WHY"
		return
	fi
	echo "   pack: $T_SEC s, $(human "$(fsize "$REF_A")")"
	# The outputs must come back inside the root, never on the host: with
	# the host's copy gone, one reappearing is a leak.
	rm -rf -- "$REF/prefix"
	# Only the first replay unpacks; the other backend's first replay
	# already finds the root in the cache.
	local b what="cold: unpack + build"
	for b in namespace fakechroot; do
		v=cordon-replay-${b/namespace/ns}
		[[ -n ${WANT[$v]:-} && -z ${SKIP[$v]:-} ]] || continue
		run_replay "$b" "$LOGS/ref-replay-$b-first.log"
		COLD[$b]="$T_SEC|$R_STATUS|$T_RSS|$T_OWN|$what"
		echo "   replay --backend $b, first ($what): $T_SEC s, $R_STATUS"
		what="first, root already unpacked"
	done
}

# "1 of 63 differ: configure.log" from a replay's log (up to 3 names).
outputs_differ() {
	local summary names
	summary=$(grep -a '^outputs:' "$1" | head -n 1)
	summary=${summary#outputs: }
	names=$(awk '$1 == "differs" || $1 == "missing" || $1 == "new" { n = split($2, p, "/"); printf "%s%s", sep, p[n]; sep = ", " }' "$1" |
		cut -c1-80)
	printf '%s%s' "${summary:-no comparison printed}" "${names:+: $names}"
}

# run_replay BACKEND LOG: replay the reference archive; sets R_STATUS.
R_STATUS=""
run_replay() {
	local b=$1 log=$2
	run_timed "$REF" "$log" @cordon replay --backend "$b" "$REF_A"
	# cordon replay prints "outputs: identical (N files)" or what differs.
	if ((T_RC != 0)); then
		R_STATUS="failed: $(rc_text "$T_RC"): $(why "$log")"
	elif grep -q '^outputs: identical' "$log"; then
		R_STATUS=ok
	else
		R_STATUS="differs: $(outputs_differ "$log")"
	fi
	if [[ -e $REF/prefix ]]; then
		R_STATUS="leaked: wrote '$REF/prefix' on the host"
		rm -rf -- "$REF/prefix"
	fi
}

# ------------------------------------------------------------------ variants

# A run whose time counts: ok, or it ran through but leaked onto the host or
# some outputs differ from the recorded ones (the status column says so).
ran() { [[ ${STATUS["$1 $2"]:-} =~ ^(ok|leaked|differs) ]]; }

# run_variant VARIANT ROUND: one timed run; fills SEC, STATUS, RSS, SIZE.
run_variant() {
	local v=$1 r=$2 key="$1 $2" d="" log=$LOGS/r$2-$1.log st=""
	if [[ -n ${SKIP[$v]:-} ]]; then
		STATUS[$key]="skipped: ${SKIP[$v]}"
		return
	fi
	case $v in
	native)
		d=$(fresh_build_dir "r$r-$v")
		run_timed "$d/src" "$log" sh -c "$(workload "$d")"
		;;
	fakechroot)
		d=$(fresh_build_dir "r$r-$v")
		run_timed "$d/src" "$log" fakechroot sh -c "$(workload "$d")"
		;;
	cordon-record | cordon-record-always)
		d=$(fresh_build_dir "r$r-$v")
		local complete=auto
		[[ $v == cordon-record-always ]] && complete=always
		run_timed "$d/src" "$log" @cordon record --complete=$complete -o "$d/manifest.json" -- sh -c "$(workload "$d")"
		if [[ -s $d/manifest.json ]]; then
			SIZE[$key]=$(fsize "$d/manifest.json")
			# Untimed: a manifest that cordon cannot read back is no use.
			if ((T_RC == 0)) && ! "$CORDON" show "$d/manifest.json" >"$log.show" 2>&1; then
				st="failed: the manifest does not read back: $(why "$log.show")"
			fi
		elif ((T_RC == 0)); then
			st="failed: no manifest written"
		fi
		;;
	cordon-pack | tar-zstd)
		local m
		if [[ -n ${WANT[cordon-record]:-} && -z ${SKIP[cordon-record]:-} ]]; then
			m=$RUNS/r$r-cordon-record/manifest.json
			[[ ${STATUS["cordon-record $r"]:-} == ok ]] || m=""
		else
			m=$REF_M
			[[ -z $REF_WHY ]] || m=""
		fi
		if [[ -z $m || ! -s $m ]]; then
			STATUS[$key]="skipped: no manifest this round (cordon record failed)"
			return
		fi
		d=$RUNS/r$r-$v
		rm -rf -- "$d" && mkdir -p -- "$d"
		if [[ $v == cordon-pack ]]; then
			run_timed "$d" "$log" @cordon pack -o "$d/root.tar.zst" "$m"
			SIZE[$key]=$(fsize "$d/root.tar.zst")
		else
			local counts
			counts=$(content_list "$m" "$d/list")
			NOTE[$v]="${counts% *} files with content (${counts#* } gone since the recording, left out)"
			run_timed "$d" "$log" tar -C / --zstd --no-recursion -cf "$d/files.tar.zst" -T "$d/list"
			SIZE[$key]=$(fsize "$d/files.tar.zst")
			((T_RC == 1)) && T_RC=0 # "file changed as we read it" is still an archive
		fi
		;;
	cordon-replay-ns | cordon-replay-fakechroot)
		if [[ -n $REF_WHY ]]; then
			STATUS[$key]="n/a: no root to replay: $REF_WHY"
			return
		fi
		local b=namespace
		[[ $v == cordon-replay-fakechroot ]] && b=fakechroot
		run_replay "$b" "$log"
		st=$R_STATUS
		;;
	strace)
		d=$(fresh_build_dir "r$r-$v")
		run_timed "$d/src" "$log" strace -f -o /dev/null sh -c "$(workload "$d")"
		;;
	reprozip-trace)
		d=$(fresh_build_dir "r$r-$v")
		# Debian's reprozip 1.1 aborts on clone3: noclone3 makes glibc fall back to clone.
		run_timed "$d/src" "$log" "$BIN/noclone3" reprozip trace -d "$d/rz" sh -c "$(workload "$d")"
		;;
	reprozip-pack)
		local t=$RUNS/r$r-reprozip-trace
		if [[ ${STATUS["reprozip-trace $r"]:-} != ok ]]; then
			STATUS[$key]="skipped: no trace this round (reprozip trace failed)"
			return
		fi
		d=$RUNS/r$r-$v
		rm -rf -- "$d" && mkdir -p -- "$d"
		run_timed "$d" "$log" reprozip pack -d "$t/rz" "$d/zlib.rpz"
		SIZE[$key]=$(fsize "$d/zlib.rpz")
		;;
	reprounzip-dir)
		local p=$RUNS/r$r-reprozip-pack/zlib.rpz tr=$RUNS/r$r-reprozip-trace
		if [[ ${STATUS["reprozip-pack $r"]:-} != ok ]]; then
			STATUS[$key]="skipped: no .rpz this round (reprozip pack failed)"
			return
		fi
		d=$RUNS/r$r-$v
		rm -rf -- "$d" && mkdir -p -- "$d"
		# Unpacking is not timed (cordon's cold replay is reported apart too).
		(cd -- "$d" && timeout "$TIMEOUT" reprounzip directory setup "$p" "$d/rzd") >"$log.setup" 2>&1 || {
			STATUS[$key]="failed: reprounzip directory setup: $(why "$log.setup")"
			return
		}
		# The traced build's outputs were written on the host: gone, a
		# replay that writes them again escaped its directory.
		rm -rf -- "$tr/prefix"
		run_timed "$d" "$log" reprounzip directory run "$d/rzd"
		if ((T_RC == 0)) && grep -q 'status: [1-9]' "$log"; then
			st="failed: the replayed build $(grep -o 'status: [0-9]*' "$log" | tail -n 1)"
		elif ((T_RC == 0)) && outputs_ok "$tr"; then
			st="leaked: ran, but make install wrote '$tr/prefix' on the host"
		elif ((T_RC == 0)); then
			st=ok
		fi
		;;
	care)
		d=$(fresh_build_dir "r$r-$v")
		# CARE's PRoot 5.1 segfaults every tracee with its seccomp mode on.
		run_timed "$d/src" "$log" env PROOT_NO_SECCOMP=1 care -o "$d/care.tar.gz" sh -c "$(workload "$d")"
		SIZE[$key]=$(fsize "$d/care.tar.gz")
		[[ -n ${SIZE[$key]} ]] || { ((T_RC == 0)) && st="failed: no archive written"; }
		;;
	cde)
		d=$(fresh_build_dir "r$r-$v")
		run_timed "$d/src" "$log" cde -o "$d/cde-package" sh -c "$(workload "$d")"
		SIZE[$key]=$(dsize "$d/cde-package")
		;;
	esac
	SEC[$key]=$T_SEC
	RSS[$key]=$T_RSS
	OWN[$key]=$T_OWN
	if [[ -z $st ]]; then
		if ((T_RC != 0)); then
			st="failed: $(rc_text "$T_RC"): $(why "$log")"
		elif [[ $d == */r$r-$v && -d $d/src ]] && ! outputs_ok "$d"; then
			st="failed: the build's outputs are missing from its prefix"
		else
			st=ok
		fi
	fi
	STATUS[$key]=$st
}

# ------------------------------------------------------------------ run

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
printf '# bench/run.sh %s: %s, kernel %s, %s CPUs, load %s, zlib %s, make -j%d, rounds %d\n' \
	"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(. /etc/os-release && echo "$PRETTY_NAME")" "$(uname -r)" \
	"$(nproc)" "$(loadavg)" "$(basename -- "$SRC")" "$JOBS" "$ROUNDS" | tee "$TSV"
printf 'round\tvariant\tseconds\tratio_to_native\trss_kb\tsize_bytes\tstatus\n' >>"$TSV"
if [[ -n $CORDON_WHY ]]; then
	note "cordon variants not available: $CORDON_WHY"
elif ((needs_cordon)); then
	echo "cordon: $CORDON ($("$CORDON" --version 2>/dev/null | head -n 1), tree at $(git -C "$ROOT" describe --always --dirty 2>/dev/null))"
fi
for v in "${VARIANTS[@]}"; do [[ -n ${SKIP[$v]:-} ]] && note "$v skipped: ${SKIP[$v]}"; done

if ((WARMUP)); then
	echo "== warm-up (untimed native build, for the page cache)"
	d=$(fresh_build_dir warmup)
	(cd -- "$d/src" && sh -c "$(workload "$d")") >"$LOGS/warmup.log" 2>&1 ||
		die "the native build fails: see $LOGS/warmup.log"
	rm -rf -- "$d"
fi
[[ -z $CORDON_WHY ]] && prepare_cordon

for ((r = 1; r <= ROUNDS; r++)); do
	echo "== round $r/$ROUNDS"
	for v in "${VARIANTS[@]}"; do
		run_variant "$v" "$r"
		key="$v $r"
		s=${SEC[$key]:-}
		rn=""
		if [[ -n $s ]] && ran native "$r"; then rn=$(ratio "$s" "${SEC["native $r"]}"); fi
		printf '   %-26s %9s %8s  %s\n' "$v" "${s:+$s s}" "${rn:+${rn}x}" "${STATUS[$key]}"
		printf '%d\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$v" "${s:-NA}" "${rn:-NA}" "${RSS[$key]:-NA}" \
			"${SIZE[$key]:-NA}" "${STATUS[$key]}" >>"$TSV"
	done
	# Keep failed runs for a look; the others' trees (up to 200 MB each) go.
	for v in "${VARIANTS[@]}"; do
		[[ ${STATUS["$v $r"]:-} == failed* ]] || rm -rf -- "$RUNS/r$r-$v"
	done
done

# ------------------------------------------------------------------ summary


# The median over rounds of VARIANT's time divided by BASE's in the same
# round, both ok.
paired_ratio() {
	local v=$1 base=$2 r list=()
	for ((r = 1; r <= ROUNDS; r++)); do
		if ! ran "$v" "$r" || ! ran "$base" "$r"; then continue; fi
		list+=("$(ratio "${SEC["$v $r"]}" "${SEC["$base $r"]}")")
	done
	median "${list[@]}"
}

echo
# The shortest time of VARIANT's runs that ran through.
min_time() {
	local r list=()
	for ((r = 1; r <= ROUNDS; r++)); do ran "$1" "$r" && list+=("${SEC["$1 $r"]}"); done
	((${#list[@]})) && printf '%s\n' "${list[@]}" | sort -g | head -n 1
}
native_min=$(min_time native)

echo "== results over $ROUNDS rounds; ratio = median over rounds of (variant / native of the same round);"
echo "   min_ratio = (variant's fastest run) / (native's fastest run)"
printf '%-28s %5s %9s %8s %7s %9s  %-22s %10s %10s %10s  %s\n' variant ok median_s min_s ratio min_ratio "other ratio" size \
	peak_rss own_rss status
for v in "${VARIANTS[@]}"; do
	times=() rss_max=0 own_max=0 size="" ok=0 last_status="" fail=""
	for ((r = 1; r <= ROUNDS; r++)); do
		key="$v $r"
		st=${STATUS[$key]:-}
		last_status=$st
		ran "$v" "$r" && times+=("${SEC[$key]}")
		if [[ $st == ok ]]; then
			ok=$((ok + 1))
		elif [[ -z $fail ]]; then fail=$st; fi
		kb=${RSS[$key]:-0}
		((kb > rss_max)) && rss_max=$kb
		kb=${OWN[$key]:-0}
		((kb > own_max)) && own_max=$kb
		[[ -n ${SIZE[$key]:-} ]] && size=${SIZE[$key]}
	done
	med=$(median "${times[@]}")
	mn=$(min_time "$v")
	mrat=""
	[[ $v != native && -n $mn && -n $native_min ]] && mrat=$(ratio "$mn" "$native_min")
	rat=""
	[[ $v != native ]] && rat=$(paired_ratio "$v" native)
	other=""
	case $v in
	cordon-pack) [[ -n ${WANT[tar-zstd]:-} ]] && other=$(paired_ratio cordon-pack tar-zstd) && other=${other:+"${other}x tar-zstd"} ;;
	cordon-replay-fakechroot) [[ -n ${WANT[fakechroot]:-} ]] && other=$(paired_ratio "$v" fakechroot) && other=${other:+"${other}x fakechroot"} ;;
	cordon-replay-ns) [[ -n ${WANT[fakechroot]:-} ]] && other=$(paired_ratio "$v" fakechroot) && other=${other:+"${other}x fakechroot"} ;;
	reprozip-pack) [[ -n ${WANT[cordon-pack]:-} ]] && other=$(paired_ratio "$v" cordon-pack) && other=${other:+"${other}x cordon-pack"} ;;
	esac
	if ((ok == ROUNDS)); then
		status=ok
	elif ((ok > 0)); then
		status="ok $ok/$ROUNDS; $fail"
	else
		status=${fail:-$last_status}
	fi
	((rss_max > 0)) || rss_max=""
	((own_max > 0)) || own_max=""
	printf '%-28s %5s %9s %8s %7s %9s  %-22s %10s %10s %10s  %s\n' "$v" "$ok/$ROUNDS" "${med:--}" "${mn:--}" \
		"${rat:--}" "${mrat:--}" "${other:--}" "${size:+$(human "$size")}" "$(mb "$rss_max")" "$(mb "$own_max")" "$status"
done
for b in namespace fakechroot; do
	[[ -n ${COLD[$b]:-} ]] || continue
	IFS='|' read -r cs cst crss cown cwhat <<<"${COLD[$b]}"
	printf '%-28s %5s %9s %8s %7s %9s  %-22s %10s %10s %10s  %s\n' "cordon-replay-${b/namespace/ns} 1st" 1 "$cs" - - - \
		"${cwhat/cold: /}" "" "$(mb "$crss")" "$(mb "$cown")" "$cst"
done
for v in "${VARIANTS[@]}"; do [[ -n ${NOTE[$v]:-} ]] && echo "note: $v: ${NOTE[$v]}"; done
[[ -s $REF_A ]] && echo "note: reference root $(human "$(fsize "$REF_A")") ($REF_A), manifest $(human "$(fsize "$REF_M")")"
echo
echo "peak_rss: the largest resident set of the command or any one of its descendants (/usr/bin/time -v)"
echo "own_rss: the peak resident set of cordon's own process alone (VmHWM at its exit, bench/peakrss.c)"
echo "load average at the end: $(loadavg) (on $(nproc) CPUs: anything else running skews every figure)"
echo "raw results: $TSV"
echo "logs: $LOGS"
exit 0
}
