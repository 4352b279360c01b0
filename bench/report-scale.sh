#!/usr/bin/env bash
# bench/report-scale.sh: cordon report on a synthetic manifest of a million
# inputs (issue 18's target: under 10 s and 1 GiB).
#
#   bench/report-scale.sh              1,000,000 inputs
#   bench/report-scale.sh --inputs N   N inputs
#   BUILD=path/to/build bench/report-scale.sh
#
# The manifest is written directly as JSON (no build is run): 80% work-tree
# files, 12% system files under /usr (owners looked up in this host's dpkg
# database), 5% files of the user's home (the knowledge base: caches,
# configuration), 2% missing probes, 1% under /opt (undeclared reads), with
# 2,000 processes in chains of four. Each format's wall time and the peak
# resident set of the cordon process alone (bench/peakrss.c) are printed.
# A tool for people: no test runs it and nothing asserts a time. Everything
# goes to bench/work/report-N/.
set -euo pipefail

here=$(cd -- "$(dirname -- "$0")" && pwd)
root=$(dirname -- "$here")
n=1000000
while (($#)); do
	case $1 in
	--inputs) n=$2 && shift ;;
	-h | --help) sed -n '2,15p' "$0" && exit 0 ;;
	*) echo "report-scale.sh: unknown option '$1'" >&2 && exit 2 ;;
	esac
	shift
done
build=${BUILD:-}
if [[ -z $build ]]; then
	for b in "$root/build-scale" "$root/build"; do [[ -x $b/bin/cordon ]] && build=$b && break; done
fi
[[ -n $build && -x $build/bin/cordon ]] || { echo "report-scale.sh: no cordon build (set BUILD)" >&2 && exit 2; }
cordon=$build/bin/cordon
command -v python3 >/dev/null || { echo "report-scale.sh: needs python3" >&2 && exit 2; }
work=$here/work/report-$n
mkdir -p "$work"
cc -O2 -o "$work/peakrss" "$here/peakrss.c"

manifest=$work/manifest.json
if [[ ! -s $manifest ]]; then
	echo "== writing a manifest of $n inputs"
	python3 - "$n" "$manifest" <<'PY'
import json, sys
n, out = int(sys.argv[1]), sys.argv[2]
h = "0123456789abcdef0123456789abcdef"
def f(path, pid, uses="read"):
    return {"path": path, "type": "file", "uses": [uses], "first_pid": pid, "size": 1000,
            "mode": 420, "mtime_ns": 1700000000000000000, "ino": 1, "xxh3": h}
inputs = []
for i in range(n):
    k = i % 100
    pid = 1000 + 4 * (i % 500) + 3
    if k < 80:
        inputs.append(f("/src/big/d%04d/f%07d.c" % (i % 1000, i), pid))
    elif k < 92:
        inputs.append(f("/usr/include/synth%04d/h%07d.h" % (i % 300, i), pid))
    elif k < 97:
        sub = ("/home/u/.cache/ccache/%02x/o%07d.o", "/home/u/.config/tool%03d/c%07d.ini")[i % 2]
        inputs.append(f(sub % (i % 200, i), pid))
    elif k < 99:
        inputs.append({"path": "/usr/local/include/p%07d.h" % i, "type": "missing",
                       "uses": ["probe"], "first_pid": pid})
    else:
        inputs.append(f("/opt/vendor/share/d%07d.dat" % i, pid))
inputs.sort(key=lambda d: d["path"])
procs = []
for c in range(500):
    base = 1000 + 4 * c
    for d, (exe, argv0) in enumerate([("/usr/bin/make", "make"), ("/bin/dash", "sh"),
                                      ("/usr/bin/gcc", "gcc"),
                                      ("/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "cc1")]):
        procs.append({"pid": base + d, "ppid": base + d - 1 if d else 999, "exe": exe,
                      "argv": [argv0, "x.c"], "cwd": "/src/big", "status": 0})
m = {"cordon_manifest": 1, "tool": "cordon 0.1.0", "worktree": "/src/big",
     "host": {"os": "Linux", "arch": "x86_64", "kernel": "6.1", "distro": "Debian", "libc": "glibc 2.36"},
     "command": {"argv": ["make", "-j2"], "cwd": "/src/big",
                 "env": ["CC=gcc", "HOME=/home/u", "PATH=/usr/bin:/bin"], "exit_code": 0,
                 "finished": True, "start_ns": 1, "end_ns": 2, "status": 0},
     "coverage": {"gaps": []},
     "env_reads": [{"name": "CC", "value": "gcc", "first_pid": 1000},
                   {"name": "CFLAGS", "value": "-O2", "first_pid": 1000}],
     "inputs": inputs, "outputs": [], "processes": procs}
with open(out, "w") as fh:
    json.dump(m, fh, indent=1, sort_keys=True)
PY
fi
ls -l "$manifest"
echo "cordon: $("$cordon" --version) from $build"
for fmt in text markdown json html; do
	start=$(date +%s.%N)
	status=0
	"$work/peakrss" -o "$work/rss-$fmt" "$cordon" report --format "$fmt" -o "$work/report.$fmt" "$manifest" || status=$?
	end=$(date +%s.%N)
	[[ $status == 0 || $status == 1 ]] || { echo "report-scale.sh: cordon report exited $status" >&2 && exit 1; }
	printf '%-9s %6.2f s  peak RSS %s kB  output %s bytes\n' "$fmt" "$(echo "$end - $start" | bc)" \
		"$(awk '{print $2}' "$work/rss-$fmt")" "$(stat -c %s "$work/report.$fmt")"
done
