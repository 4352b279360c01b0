#!/usr/bin/env bash
# Benchmark for cordon: the cost of building zlib (./configure && make) inside
# `cordon run` compared with no sandbox and with other wrappers, plus the
# start-up latency of `cordon run -- true`. See bench/README.md.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: bench/run.sh [OPTIONS]

Builds zlib's Debian source (./configure && make -jJOBS) once per variant per
round, interleaved round-robin, then measures start-up latency with hyperfine.

Options:
  --rounds N        build rounds (default 5)
  --only LIST       comma-separated variants to build with, from: native,
                    cordon (auto: namespace), cordon-landlock, cordon-seccomp,
                    cordon-preload, cordon-ptrace, cordon-landlock-seccomp,
                    cordon-landlock-ptrace, cordon-trace, cordon-run-trace,
                    cordon-landlock-run-trace, bwrap, fakechroot, proot, strace
                    (default: all)
  --jobs N          make -jN (default 2)
  --build           (re)build cordon with scripts/build-release first
  --as-user         run every variant as uid/gid 65534 via setpriv (needs root)
  --no-warmup       skip the untimed native warm-up build before round 1
  --no-startup      skip the start-up latency part
  --startup-only    only the start-up latency part (no builds)
  --startup-runs N  hyperfine minimum runs per command and round (default 30, at
                    least 30)
  --startup-rounds N  start-up rounds, each running every command in turn (default 5)
  -h, --help        this text

Environment:
  CORDON=/path/to/cordon   use this binary instead of the one scripts/build-release
                           builds (target/HOST/release/cordon, statically linked)

Outputs go to bench/work/ (git-ignored): the zlib source, scratch build dirs
and logs (runs/), results-<timestamp>.tsv and startup-<timestamp>.json.
EOF
}

BENCH_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(dirname -- "$BENCH_DIR")
WORK=$BENCH_DIR/work
RUNS_DIR=$WORK/runs
SRC_PARENT=$WORK/src
NOBODY=65534

ALL_VARIANTS=(native cordon cordon-landlock cordon-seccomp cordon-preload cordon-ptrace
	cordon-landlock-seccomp cordon-landlock-ptrace cordon-trace cordon-run-trace
	cordon-landlock-run-trace bwrap fakechroot proot strace)
ROUNDS=5
JOBS=2
ONLY=""
BUILD_CORDON=0
AS_USER=0
WARMUP=1
DO_BUILDS=1
DO_STARTUP=1
STARTUP_RUNS=30
STARTUP_ROUNDS=5
# Upper bounds so that a hanging sandbox cannot hang the benchmark.
SMOKE_TIMEOUT=30
BUILD_TIMEOUT=1800

die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}
note() { printf 'note: %s\n' "$*"; }
# exit_text RC TIMEOUT: describe an exit status of `timeout TIMEOUT ...`.
exit_text() {
	case $1 in
	124 | 137) echo "timed out after $2 s or was killed (exit $1)" ;;
	*) echo "exited $1" ;;
	esac
}

need_num() {
	[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "$1 needs a positive integer, got '${2:-}'"
}

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
	--jobs)
		need_num "$1" "${2:-}"
		JOBS=$2
		shift 2
		;;
	--startup-runs)
		need_num "$1" "${2:-}"
		STARTUP_RUNS=$2
		shift 2
		;;
	--startup-rounds)
		need_num "$1" "${2:-}"
		STARTUP_ROUNDS=$2
		shift 2
		;;
	--build)
		BUILD_CORDON=1
		shift
		;;
	--as-user)
		AS_USER=1
		shift
		;;
	--no-warmup)
		WARMUP=0
		shift
		;;
	--no-startup)
		DO_STARTUP=0
		shift
		;;
	--startup-only)
		DO_BUILDS=0
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		die "unknown argument: $1"
		;;
	esac
done

((STARTUP_RUNS >= 30)) || die "--startup-runs must be at least 30"
((STARTUP_ROUNDS >= 1)) || die "--startup-rounds must be at least 1"
((DO_BUILDS || DO_STARTUP)) || die "--startup-only and --no-startup together leave nothing to do"
if ((AS_USER)); then
	((EUID == 0)) || die "--as-user needs root (it drops to uid $NOBODY with setpriv)"
	command -v setpriv >/dev/null || die "--as-user needs setpriv (util-linux)"
fi

# Selected variants, always in the fixed order of ALL_VARIANTS.
VARIANTS=()
if [[ -z $ONLY ]]; then
	VARIANTS=("${ALL_VARIANTS[@]}")
else
	IFS=, read -r -a wanted <<<"$ONLY"
	for w in "${wanted[@]}"; do
		[[ " ${ALL_VARIANTS[*]} " == *" $w "* ]] || die "unknown variant '$w' (known: ${ALL_VARIANTS[*]})"
	done
	for v in "${ALL_VARIANTS[@]}"; do
		[[ ",$ONLY," == *",$v,"* ]] && VARIANTS+=("$v")
	done
fi

USER_PREFIX=()
((AS_USER)) && USER_PREFIX=(setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups)

TMP_DIR=""
cleanup() {
	if [[ -n $TMP_DIR ]]; then rm -rf -- "$TMP_DIR"; fi
}
trap cleanup EXIT

# A scratch directory the (possibly unprivileged) variant can write to.
make_scratch() {
	rm -rf -- "$1"
	mkdir -p -- "$1"
	if ((AS_USER)); then chmod 0777 "$1"; fi
}

rm -rf -- "$RUNS_DIR" || die "cannot clean $RUNS_DIR"
mkdir -p -- "$RUNS_DIR"
# The trace variants write their trace next to the scratch directory.
if ((AS_USER)); then chmod 1777 "$RUNS_DIR"; fi

# ---------------------------------------------------------------- zlib source

SRC=""
find_src() {
	local d
	for d in "$SRC_PARENT"/zlib-*/; do
		if [[ -f $d/configure && -f $d/Makefile.in ]]; then
			SRC=${d%/}
			return 0
		fi
	done
	return 1
}

has_deb_src() {
	grep -Eqs '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list && return 0
	grep -Eqs '^Types:(.*[[:space:]])?deb-src([[:space:]]|$)' /etc/apt/sources.list.d/*.sources
}

add_deb_src() {
	local main=/etc/apt/sources.list.d/debian.sources
	if [[ -f $main ]]; then
		echo "adding /etc/apt/sources.list.d/debian-src.sources (Types: deb-src)"
		sed -E 's/^Types:.*/Types: deb-src/' "$main" >/etc/apt/sources.list.d/debian-src.sources
	elif grep -Eqs '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list; then
		echo "adding /etc/apt/sources.list.d/debian-src.list (deb-src)"
		sed -nE 's/^[[:space:]]*deb[[:space:]]+/deb-src /p' /etc/apt/sources.list >/etc/apt/sources.list.d/debian-src.list
	else
		die "no Debian apt source found to derive a deb-src entry from"
	fi
}

fetch_source() {
	find_src && return 0
	if ((EUID != 0)); then
		cat >&2 <<EOF
error: zlib's Debian source is not in $SRC_PARENT yet, and fetching it needs root.
Either run this script once as root (it adds a deb-src entry, runs apt-get update
and fetches the source), or do it by hand:
  sudo sh -c "sed 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \\
      > /etc/apt/sources.list.d/debian-src.sources && apt-get update && apt-get install -y dpkg-dev"
  mkdir -p '$SRC_PARENT' && cd '$SRC_PARENT' && apt-get source zlib
EOF
		exit 2
	fi
	echo "fetching zlib's Debian source package into $SRC_PARENT (done once)"
	local log=$WORK/fetch.log
	: >"$log"
	if ! command -v dpkg-source >/dev/null; then
		apt-get update -qq >>"$log" 2>&1 || true
		apt-get install -y -qq dpkg-dev >>"$log" 2>&1 || {
			tail -n 20 "$log" >&2
			die "apt-get install dpkg-dev failed (log: $log)"
		}
	fi
	if ! has_deb_src; then
		add_deb_src
		apt-get update -qq >>"$log" 2>&1 || {
			tail -n 20 "$log" >&2
			die "apt-get update failed (log: $log)"
		}
	fi
	mkdir -p -- "$SRC_PARENT"
	if ! (cd -- "$SRC_PARENT" && apt-get source zlib) >>"$log" 2>&1; then
		# The deb-src entry may exist without its index having been fetched.
		apt-get update -qq >>"$log" 2>&1 || true
		(cd -- "$SRC_PARENT" && apt-get source zlib) >>"$log" 2>&1 || {
			tail -n 20 "$log" >&2
			die "apt-get source zlib failed (log: $log)"
		}
	fi
	find_src || die "apt-get source zlib left no zlib-*/configure in $SRC_PARENT (log: $log)"
}

# ---------------------------------------------------------------- cordon

CORDON_EXE=""  # the binary the benchmark runs (a world-readable copy with --as-user)
CORDON_NOTE="" # why cordon is skipped, if it is

cordon_needed() {
	((DO_STARTUP)) && return 0
	((DO_BUILDS)) && [[ " ${VARIANTS[*]} " == *" cordon"* ]]
}

prepare_cordon() {
	local bin log=$WORK/cargo-build.log
	if [[ -n ${CORDON:-} ]]; then
		if ((BUILD_CORDON)); then note "CORDON is set, so --build is ignored"; fi
		bin=$(command -v -- "$CORDON" || true)
		if [[ -z $bin || ! -x $bin ]]; then
			CORDON_NOTE="CORDON=$CORDON is not an executable file"
			return 0
		fi
	else
		# The binary README installs: statically linked, built for the host's triple.
		local host=""
		command -v rustc >/dev/null && host=$(rustc -vV | sed -n 's/^host: //p')
		bin=$ROOT/target/${host:-HOST}/release/cordon
		if ((BUILD_CORDON)) || [[ ! -x $bin ]]; then
			if ! command -v cargo >/dev/null; then
				((BUILD_CORDON)) && die "--build given but cargo is not on PATH"
				CORDON_NOTE="$bin is missing and cargo is not on PATH to build it"
				return 0
			fi
			echo "building cordon: scripts/build-release (log: $log)"
			if ! bin=$("$ROOT/scripts/build-release" 2>"$log"); then
				if ((BUILD_CORDON)); then
					tail -n 30 "$log" >&2
					die "scripts/build-release failed (log: $log)"
				fi
				CORDON_NOTE="cordon is missing and scripts/build-release failed (log: $log)"
				return 0
			fi
			[[ -x $bin ]] || {
				CORDON_NOTE="scripts/build-release succeeded but $bin does not exist"
				return 0
			}
		fi
	fi
	if ((AS_USER)); then
		TMP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cordon-bench.XXXXXX")
		chmod 0755 "$TMP_DIR"
		cp -- "$bin" "$TMP_DIR/cordon"
		chmod 0755 "$TMP_DIR/cordon"
		bin=$TMP_DIR/cordon
	fi
	local dir=$RUNS_DIR/smoke-cordon rc=0
	make_scratch "$dir"
	(cd -- "$dir" && exec timeout -k 5 "$SMOKE_TIMEOUT" "${USER_PREFIX[@]}" "$bin" run -- true) >"$dir.log" 2>&1 </dev/null || rc=$?
	if ((rc != 0)); then
		CORDON_NOTE="\`$bin run -- true\` $(exit_text "$rc" "$SMOKE_TIMEOUT"): $(tail -n 3 "$dir.log" | tr '\n' ' ')(log: $dir.log)"
		return 0
	fi
	# Exiting 0 is not enough: the command must really have run.
	CORDON_EXE=$bin
	smoke_ok cordon "$dir" || {
		CORDON_EXE=""
		CORDON_NOTE="\`$bin run -- true\` exits 0, but \`$bin run -- $SMOKE_DESC\` did not print $SMOKE_MARK, so cordon does not run the command yet (log: $dir.log)"
	}
	return 0
}

# ---------------------------------------------------------------- variants

# wrap VARIANT DIR COMMAND... -> sets CMD to COMMAND run under VARIANT in DIR.
# The caller runs CMD with DIR as its working directory.
CMD=()
wrap() {
	local v=$1 dir=$2
	shift 2
	case $v in
	native) CMD=("$@") ;;
	cordon) CMD=("$CORDON_EXE" run -- "$@") ;;
	# The same policy with each backend that needs no user namespace.
	cordon-landlock) CMD=("$CORDON_EXE" run --backend landlock -- "$@") ;;
	cordon-seccomp) CMD=("$CORDON_EXE" run --backend seccomp -- "$@") ;;
	cordon-preload) CMD=("$CORDON_EXE" run --backend preload -- "$@") ;;
	cordon-ptrace) CMD=("$CORDON_EXE" run --backend ptrace -- "$@") ;;
	cordon-landlock-seccomp) CMD=("$CORDON_EXE" run --backend landlock+seccomp -- "$@") ;;
	cordon-landlock-ptrace) CMD=("$CORDON_EXE" run --backend landlock+ptrace -- "$@") ;;
	cordon-landlock-run-trace)
		CMD=("$CORDON_EXE" run --backend landlock --trace "$dir.trace.jsonl.zst" -- "$@")
		;;
	# The tracer alone (no sandbox), and the sandbox with the tracer; compressed traces,
	# written next to the scratch dir.
	cordon-trace) CMD=("$CORDON_EXE" trace -o "$dir.trace.jsonl.zst" -- "$@") ;;
	cordon-run-trace) CMD=("$CORDON_EXE" run --trace "$dir.trace.jsonl.zst" -- "$@") ;;
	bwrap)
		CMD=(bwrap --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp
			--bind "$dir" "$dir" --chdir "$dir"
			--unshare-all --share-net --die-with-parent -- "$@")
		;;
	# fakechroot without a chroot call: only the LD_PRELOAD wrapper's cost.
	fakechroot) CMD=(fakechroot "$@") ;;
	proot) CMD=(proot -r / -w "$dir" "$@") ;;
	strace) CMD=(strace -f -qq -o /dev/null "$@") ;;
	*) die "internal: unknown variant $v" ;;
	esac
	CMD=("${USER_PREFIX[@]}" "${CMD[@]}")
}

variant_tool() {
	case $1 in
	native) echo sh ;;
	cordon*) echo cordon ;;
	*) echo "$1" ;;
	esac
}

# smoke_ok VARIANT DIR: does VARIANT really run a command in DIR?
SMOKE_MARK=cordon-bench-ok
SMOKE_DESC="sh -c 'echo $SMOKE_MARK >marker; cat marker'"
smoke_ok() {
	local v=$1 dir=$2 rc=0
	rm -f -- "$dir/marker"
	wrap "$v" "$dir" sh -c "echo $SMOKE_MARK >marker; cat marker"
	(cd -- "$dir" && exec timeout -k 5 "$SMOKE_TIMEOUT" "${CMD[@]}") >"$dir.log" 2>&1 </dev/null || rc=$?
	((rc == 0)) && grep -qx "$SMOKE_MARK" "$dir.log" && grep -qx "$SMOKE_MARK" "$dir/marker" 2>/dev/null
}

# Drop variants whose tool is missing or cannot run a command in the scratch dir.
check_variants() {
	local v tool dir kept=()
	for v in "${VARIANTS[@]}"; do
		if [[ $v == cordon* ]]; then
			if [[ -z $CORDON_EXE ]]; then
				note "skipping variant $v: $CORDON_NOTE"
				continue
			fi
		else
			tool=$(variant_tool "$v")
			if ! command -v "$tool" >/dev/null; then
				note "skipping variant $v: '$tool' is not installed (apt-get install -y $tool)"
				continue
			fi
			dir=$RUNS_DIR/smoke-$v
			make_scratch "$dir"
			if ! smoke_ok "$v" "$dir"; then
				note "skipping variant $v: \`${CMD[*]}\` failed to write and print $SMOKE_MARK in $dir: $(tail -n 3 "$dir.log" | tr '\n' ' ')"
				continue
			fi
		fi
		kept+=("$v")
	done
	VARIANTS=("${kept[@]}")
}

# ---------------------------------------------------------------- build step

BUILD_SH="./configure && make -j$JOBS"
ELAPSED_US=0

fmt_s() { printf '%d.%06d' $(($1 / 1000000)) $(($1 % 1000000)); }

# build_once VARIANT LABEL: fresh copy of the source, then time configure+make.
build_once() {
	local v=$1 label=$2 dir log t0 t1 rc=0
	dir=$RUNS_DIR/$label
	log=$RUNS_DIR/$label.log
	make_scratch "$dir"
	cp -a -- "$SRC/." "$dir/"
	if ((AS_USER)); then chmod -R a+rwX -- "$dir"; fi
	wrap "$v" "$dir" sh -c "$BUILD_SH"
	# Flush the copy and the previous build's deletion so their write-back
	# is not billed to this build.
	sync
	t0=${EPOCHREALTIME//[!0-9]/}
	(cd -- "$dir" && exec timeout -k 10 "$BUILD_TIMEOUT" "${CMD[@]}") >"$log" 2>&1 </dev/null || rc=$?
	t1=${EPOCHREALTIME//[!0-9]/}
	if ((rc == 0)) && [[ ! -f $dir/libz.a || ! -x $dir/example ]]; then
		echo "build reported success but libz.a/example are missing" >>"$log"
		rc=99
	fi
	if ((rc != 0)); then
		{
			echo
			echo "=== build FAILED: variant $v ($label), $(exit_text "$rc" "$BUILD_TIMEOUT")"
			echo "=== command: (cd $dir && ${CMD[*]})"
			echo "=== last lines of $log:"
			tail -n 40 "$log"
			echo "=== scratch dir kept: $dir"
			echo "=== rerun without this variant: --only <list without $v>"
		} >&2
		exit 1
	fi
	ELAPSED_US=$((t1 - t0))
	rm -rf -- "$dir"
}

# ---------------------------------------------------------------- header

first_line() { "$@" 2>&1 | head -n 1 || true; }

header_line() {
	local cpu vers=() v
	cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
	vers+=("bash ${BASH_VERSION%%(*}")
	if [[ -n $CORDON_EXE ]]; then
		v=$(first_line "$CORDON_EXE" --version)
		vers+=("cordon: ${v:-?}")
	fi
	command -v bwrap >/dev/null && vers+=("$(first_line bwrap --version)")
	if command -v proot >/dev/null; then
		v=$(proot --version 2>&1 | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1 || true)
		vers+=("proot ${v:-?}")
	fi
	command -v fakechroot >/dev/null && vers+=("$(first_line fakechroot --version)")
	command -v strace >/dev/null && vers+=("$(first_line strace -V)")
	command -v hyperfine >/dev/null && vers+=("$(first_line hyperfine --version)")
	command -v gcc >/dev/null && vers+=("gcc $(first_line gcc -dumpfullversion)")
	command -v make >/dev/null && vers+=("$(first_line make --version)")
	local joined
	joined=$(printf '%s; ' "${vers[@]}")
	printf '# %s | kernel %s | %s CPUs%s | %s | %smake -j%s | %s\n' \
		"$(date '+%Y-%m-%d %H:%M:%S %z')" "$(uname -r)" "$(nproc)" "${cpu:+ ($cpu)}" \
		"$( ((AS_USER)) && echo "as uid $NOBODY" || echo "as uid $EUID")" \
		"${SRC:+zlib ${SRC##*/zlib-} | }" "$JOBS" "${joined%; }"
}

# ---------------------------------------------------------------- summary

# summarize TSV: per variant median/min/max seconds and the median of the
# per-round ratio variant/native (same round).
summarize() {
	awk -F'\t' '
	function median(a, n,    i, j, t) {
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	/^#/ || $1 == "round" { next }
	{
		v = $2
		if (!(v in n)) { order[++nv] = v; n[v] = 0; nr[v] = 0 }
		t[v, ++n[v]] = $3 + 0
		if ($4 != "NA") r[v, ++nr[v]] = $4 + 0
	}
	END {
		printf "%-17s %5s %10s %10s %10s %8s\n", "variant", "runs", "median_s", "min_s", "max_s", "ratio"
		for (k = 1; k <= nv; k++) {
			v = order[k]
			delete a; mn = ""; mx = ""
			for (i = 1; i <= n[v]; i++) { a[i] = t[v, i]; if (mn == "" || a[i] < mn) mn = a[i]; if (mx == "" || a[i] > mx) mx = a[i] }
			med = median(a, n[v])
			delete b
			for (i = 1; i <= nr[v]; i++) b[i] = r[v, i]
			ratio = nr[v] ? sprintf("%.3f", median(b, nr[v])) : "n/a"
			printf "%-17s %5d %10.3f %10.3f %10.3f %8s\n", v, n[v], med, mn, mx, ratio
		}
	}' "$1"
}

run_builds() {
	if ((${#VARIANTS[@]} == 0)); then
		note "no build variant left to run"
		return 0
	fi
	local ts tsv r v native_us ratio
	ts=$(date +%Y%m%d-%H%M%S)
	tsv=$WORK/results-$ts.tsv
	{
		header_line
		printf 'round\tvariant\tseconds\tratio_to_native\n'
	} >"$tsv"
	echo
	echo "== build: zlib ($SRC), '$BUILD_SH', $ROUNDS round(s), order: ${VARIANTS[*]}"
	if ((WARMUP)); then
		printf 'warm-up (native, untimed) ... '
		build_once native warmup
		echo "done"
	fi
	for ((r = 1; r <= ROUNDS; r++)); do
		native_us=0
		for v in "${VARIANTS[@]}"; do
			printf 'round %d/%d  %-11s ' "$r" "$ROUNDS" "$v"
			build_once "$v" "r$r-$v"
			[[ $v == native ]] && native_us=$ELAPSED_US
			if ((native_us > 0)); then
				ratio=$(awk -v a="$ELAPSED_US" -v b="$native_us" 'BEGIN { printf "%.4f", a / b }')
			else
				ratio=NA
			fi
			printf '%s s\n' "$(fmt_s "$ELAPSED_US")"
			printf '%d\t%s\t%s\t%s\n' "$r" "$v" "$(fmt_s "$ELAPSED_US")" "$ratio" >>"$tsv"
		done
	done
	echo
	summarize "$tsv"
	if [[ " ${VARIANTS[*]} " == *" native "* ]]; then
		echo "ratio = median over rounds of (variant seconds / native seconds of the same round)"
	else
		echo "ratio: n/a because the native variant was not run"
	fi
	echo "raw per-round numbers: $tsv"
}

# ---------------------------------------------------------------- start-up

run_startup() {
	echo
	echo "== start-up latency (hyperfine, warmup 3, $STARTUP_ROUNDS rounds, min runs $STARTUP_RUNS per round)"
	if ! command -v hyperfine >/dev/null; then
		note "skipping start-up latency: hyperfine is not installed (apt-get install -y hyperfine)"
		return 0
	fi
	local dir=$RUNS_DIR/startup json names=() cmds=() hf=() i rc
	make_scratch "$dir"
	json=$WORK/startup-$(date +%Y%m%d-%H%M%S).json

	local -a c
	add() { # NAME COMMAND... : smoke-test, then queue for hyperfine
		local name=$1
		shift
		c=("${USER_PREFIX[@]}" "$@")
		rc=0
		(cd -- "$dir" && exec timeout -k 5 "$SMOKE_TIMEOUT" "${c[@]}") >"$dir.smoke.log" 2>&1 </dev/null || rc=$?
		if ((rc != 0)); then
			note "skipping '$name': $(exit_text "$rc" "$SMOKE_TIMEOUT"): $(tail -n 3 "$dir.smoke.log" | tr '\n' ' ')"
			return 0
		fi
		names+=("$name")
		cmds+=("$(printf '%q ' "${c[@]}")")
	}
	if [[ -n $CORDON_EXE ]]; then
		add "cordon run -- true" "$CORDON_EXE" run -- true
		# The view of bare bwrap (the system read-only, nothing else), to tell the cost of
		# cordon's machinery from the cost of the build profile's view.
		local bare=$WORK/bare-view.toml
		printf '%s\n' '# The view of `bwrap --ro-bind / /`: the system read-only, the real home.' \
			'home = "keep"' 'rules = [ { ro = "/" } ]' >"$bare"
		chmod 0644 "$bare"
		add "cordon run --policy bare-view.toml -- true" "$CORDON_EXE" run --policy "$bare" -- true
	else
		note "skipping 'cordon run -- true': $CORDON_NOTE"
	fi
	if command -v bwrap >/dev/null; then
		add "bwrap --ro-bind / / true" bwrap --ro-bind / / true
		add "bwrap --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --unshare-all true" \
			bwrap --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --unshare-all true
	else
		note "skipping the bwrap commands: bwrap is not installed"
	fi
	if command -v unshare >/dev/null; then
		add "unshare -Urm true" unshare -Urm true
	else
		note "skipping 'unshare -Urm true': unshare is not installed"
	fi
	add "true" true
	((${#names[@]} > 0)) || {
		note "nothing to measure"
		return 0
	}

	hf=(hyperfine --warmup 3 --min-runs "$STARTUP_RUNS")
	if hyperfine --help 2>&1 | grep -Eq '^[[:space:]]+-N([[:space:],]|$)'; then
		hf+=(-N)
	else
		note "this hyperfine has no -N; it runs commands through a shell and subtracts the shell's start-up"
	fi
	for i in "${!names[@]}"; do hf+=(-n "${names[$i]}" "${cmds[$i]}"); done
	# Rounds, each running every command in turn: a change in the machine's load then
	# shows in every command's numbers alike, not in one command's.
	local r jsons=()
	for ((r = 1; r <= STARTUP_ROUNDS; r++)); do
		jsons+=("${json%.json}-round$r.json")
		echo "round $r/$STARTUP_ROUNDS"
		(cd -- "$dir" && timeout -k 10 "$BUILD_TIMEOUT" "${hf[@]}" --export-json "${jsons[-1]}") \
			</dev/null >"$dir.round$r.log" 2>&1 || {
			tail -n 20 "$dir.round$r.log" >&2
			die "hyperfine failed in start-up round $r (log: $dir.round$r.log)"
		}
	done

	echo
	if ! command -v python3 >/dev/null; then
		note "python3 is not installed to summarize; see ${jsons[*]}"
		return 0
	fi
	python3 - "${jsons[@]}" <<'PY'
import json, statistics, sys
rounds = [json.load(open(f))["results"] for f in sys.argv[1:]]
names = [r["command"] for r in rounds[0]]
med = {n: statistics.median(r["median"] for rs in rounds for r in rs if r["command"] == n) * 1000 for n in names}
mean = {n: statistics.mean(t for rs in rounds for r in rs if r["command"] == n for t in r["times"]) * 1000 for n in names}
lo = {n: min(r["median"] for rs in rounds for r in rs if r["command"] == n) * 1000 for n in names}
hi = {n: max(r["median"] for rs in rounds for r in rs if r["command"] == n) * 1000 for n in names}
base = med.get("true")
print(f"start-up: median over {len(rounds)} rounds of each round's median (and the rounds' range); "
      "mean of every run")
print(f"{'command':<78} {'median_ms':>9} {'range_ms':>13} {'mean_ms':>8} {'+ms_vs_true':>11}")
for n in names:
    extra = f"{med[n] - base:11.3f}" if base else f"{'n/a':>11}"
    print(f"{n:<78} {med[n]:9.3f} {lo[n]:6.3f}-{hi[n]:<6.3f} {mean[n]:8.3f} {extra}")
b = "bwrap --ro-bind / / true"
for c in ("cordon run -- true", "cordon run --policy bare-view.toml -- true"):
    if c in med and b in med:
        # Also paired by round, as the build table is: drift between rounds cancels.
        ratios = [
            x["median"] / y["median"]
            for rs in rounds
            for x in rs if x["command"] == c
            for y in rs if y["command"] == b]
        print(f"{c} / {b}: {med[c] / med[b]:.2f} (medians), "
              f"{statistics.median(ratios):.2f} (median of the rounds' ratios, "
              f"{min(ratios):.2f}-{max(ratios):.2f})")
print("per-round exports:", " ".join(sys.argv[1:]))
PY
}

# ---------------------------------------------------------------- import

# How fast cordon imports a real strace log: the zlib build traced with strace -f -tt -y.
run_import() {
	local dir=$RUNS_DIR/import log=$RUNS_DIR/import.strace lines start end
	echo
	echo "== import: an strace -f -tt -y log of the zlib build"
	make_scratch "$dir"
	cp -a -- "$SRC/." "$dir/"
	(cd -- "$dir" && strace -f -tt -y -s 4096 -o "$log" sh -c "$BUILD_SH" >/dev/null 2>&1) ||
		die "the traced zlib build failed"
	lines=$(wc -l <"$log")
	start=$(date +%s%N)
	"$CORDON_EXE" import strace "$log" --cwd "$dir" -o "$RUNS_DIR/import.jsonl" 2>/dev/null ||
		die "cordon import failed on $log"
	end=$(date +%s%N)
	awk -v l="$lines" -v ns="$((end - start))" 'BEGIN {
		printf "%d lines in %.3f s: %.3f s per 100,000 lines\n", l, ns / 1e9, ns / 1e9 / l * 100000
	}'
}

# ---------------------------------------------------------------- learn

# cordon learn on the zlib build: how many rules, and whether the build, re-run under the
# learned policy alone in a fresh copy, behaved the same.
run_learn() {
	local dir=$RUNS_DIR/learn policy=$RUNS_DIR/learned.toml rc=0
	echo
	echo "== learn: the zlib build's policy"
	make_scratch "$dir"
	cp -a -- "$SRC/." "$dir/"
	"$CORDON_EXE" learn -C "$dir" -o "$policy" -- sh -c "{ $BUILD_SH; } >/dev/null 2>&1" || rc=$?
	echo "rules: $(grep -c '^  { ' "$policy" 2>/dev/null || echo 0) (exit $rc: 0 = verified the same)"
	grep '^# Verification' "$policy" || true
}

# ---------------------------------------------------------------- main

if ((DO_BUILDS)); then fetch_source; fi
if cordon_needed; then prepare_cordon; fi
if ((DO_BUILDS)); then check_variants; fi

header_line
if ((AS_USER)); then echo "every variant runs as uid/gid $NOBODY via setpriv"; fi
if ((DO_BUILDS)); then run_builds; fi
if ((DO_STARTUP)); then run_startup; fi
if ((DO_BUILDS)) && [[ -n $CORDON_EXE ]] && command -v strace >/dev/null; then run_import; fi
if ((DO_BUILDS)) && [[ -n $CORDON_EXE ]]; then run_learn; fi
