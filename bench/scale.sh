#!/usr/bin/env bash
# bench/scale.sh: cordon on a build that reads many small files (issue 16).
#
#   bench/scale.sh                 200 dirs x 1000 files = 200,000 inputs
#   bench/scale.sh --dirs 20       20,000 inputs
#   bench/scale.sh --replay        also pack's archive replayed (minutes at 200k)
#   BUILD=path/to/build bench/scale.sh   cordon from that build directory
#
# The build is `sh -c 'find tree -type f | xargs cat >/dev/null'`. Each step
# prints its wall time and peak RSS (/usr/bin/time): native, record with an
# empty work tree (collection, hashing and the manifest only), the manifest
# read and written again (a helper linked with libcordon_manifest), verify,
# record with the 200k-file tree as the work tree (store cold, then warm: the
# snapshot), pack, and with --replay a replay. A tool for people: no test
# runs it and nothing asserts a time. Everything goes to bench/work/scale-N/.
set -euo pipefail

here=$(cd -- "$(dirname -- "$0")" && pwd)
root=$(dirname -- "$here")
dirs=200
per=1000
replay=0
while (($#)); do
	case $1 in
	--dirs) dirs=$2 && shift ;;
	--replay) replay=1 ;;
	-h | --help) sed -n '2,16p' "$0" && exit 0 ;;
	*) echo "scale.sh: unknown option '$1'" >&2 && exit 2 ;;
	esac
	shift
done
n=$((dirs * per))
build=${BUILD:-}
if [[ -z $build ]]; then
	for b in "$root/build-scale" "$root/build"; do [[ -x $b/bin/cordon ]] && build=$b && break; done
fi
[[ -n $build && -x $build/bin/cordon ]] || { echo "scale.sh: no cordon build (set BUILD)" >&2 && exit 2; }
cordon=$build/bin/cordon
[[ -x /usr/bin/time ]] || { echo "scale.sh: needs /usr/bin/time (Debian package 'time')" >&2 && exit 2; }

work=$here/work/scale-$n
mkdir -p -- "$work"
cd -- "$work"

if [[ ! -f tree.done ]]; then
	echo "generating $n files in $work/tree"
	rm -rf -- tree
	python3 - "$dirs" "$per" <<'EOF'
import os, sys
dirs, per = int(sys.argv[1]), int(sys.argv[2])
for d in range(dirs):
    os.makedirs(f"tree/d{d:04d}", exist_ok=True)
    for f in range(per):
        i = d * per + f
        with open(f"tree/d{d:04d}/f{i:07d}.c", "w") as out:
            out.write(f"/* generated source {i} */\nint f{i:07d}(int x) {{ return x * {i % 97 + 1} + {i}; }}\n")
EOF
	touch tree.done
fi

# The manifest read and written again, without a build: what verify, pack
# and diff pay to load, and what record pays to write.
if [[ ! -x rw || $build/manifest/libcordon_manifest.a -nt rw ]]; then
	cat >rw.c <<'EOF'
#include <stdio.h>
#include <cordon/error.h>
#include <cordon/manifest.h>
int main(int argc, char **argv) {
    struct cordon_manifest *m;
    struct cordon_error err;
    if (argc != 3 || cordon_manifest_read(argv[1], &m, &err) < 0 ||
        cordon_manifest_write(m, argv[2], &err) < 0) {
        fprintf(stderr, "rw: %s\n", argc == 3 ? err.text : "usage: rw IN OUT");
        return 1;
    }
    cordon_manifest_free(m);
    return 0;
}
EOF
	cc -O2 -I"$root/include" rw.c "$build/manifest/libcordon_manifest.a" \
		$(pkg-config --libs jansson libxxhash) -lpthread -o rw
fi

build_cmd=(sh -c 'find tree -type f | xargs cat >/dev/null')
logs=$work/logs
rm -rf -- "$logs" empty store-cold m.json m-wt.json root.tar.zst
mkdir -p -- "$logs" empty

printf '%-40s %9s %10s  %s\n' step seconds peak_rss note
# step NAME CMD...: run and print a row.
step() {
	local name=$1 log=$logs/${1//[^a-z0-9]/_}.log
	shift
	local rc=0
	/usr/bin/time -o "$log.time" -f '%e %M' "$@" >"$log" 2>&1 || rc=$?
	read -r sec kb <"$log.time" || true
	# time writes "Command exited with non-zero status" first on failure
	[[ $sec =~ ^[0-9.]+$ ]] || read -r sec kb < <(tail -n 1 "$log.time")
	local status=ok
	# verify's status is 1 when it finds a difference
	((rc == 0)) || status="exit $rc: $(tail -n 1 "$log")"
	printf '%-40s %9s %7.1f MB  %s\n' "$name" "$sec" "$(echo "$kb / 1024" | bc -l)" "$status"
}
count_inputs() { python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["inputs"]))' "$1"; }

sync
step "native build" "${build_cmd[@]}"
step "record (empty work tree)" "$cordon" record -q --worktree empty --store store-cold -o m.json -- "${build_cmd[@]}"
echo "  manifest: $(du -h m.json | cut -f1), $(count_inputs m.json) inputs"
step "manifest read + write" ./rw m.json m2.json
cmp -s m.json m2.json || echo "  (the manifest written again differs from the recorded one)"
rm -f m2.json
step "verify (unchanged)" "$cordon" verify -q m.json
rm -rf -- store-wt
step "record (work tree, cold store)" "$cordon" record -q --worktree tree --store store-wt -o m-wt.json -- "${build_cmd[@]}"
step "record (work tree, warm store)" "$cordon" record -q --worktree tree --store store-wt -o m-wt.json -- "${build_cmd[@]}"
step "pack" "$cordon" pack -q -o root.tar.zst m.json
if ((replay)); then
	step "replay (first: unpack + run)" "$cordon" replay -q root.tar.zst
fi
echo "logs: $logs"
