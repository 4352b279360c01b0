#!/bin/sh
# check-exports.sh LIB MAP DEF: the library exports exactly the names of
# its version script, and the script names exactly hooks.def's wrappers
# plus the la_* audit entry points.
set -eu
lib=$1 map=$2 def=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '{print $NF}' | sed 's/@.*//' | sort -u >"$tmp/exported"
sed -n '/global:/,/local:/p' "$map" | tr ' ;' '\n\n' | grep -E '^[A-Za-z_][A-Za-z0-9_]*$' |
    grep -vx -e global -e local | sort -u >"$tmp/map"
{ perl -0pe 's{/\*.*?\*/}{}gs' "$def" | grep -o 'HOOK([A-Za-z0-9_]*)' | sed 's/HOOK(\(.*\))/\1/'
  printf '%s\n' la_version la_objsearch la_objopen; } | sort -u >"$tmp/def"
status=0
if ! diff -u "$tmp/map" "$tmp/exported"; then
    echo "check-exports: $lib does not export what hook.map says" >&2
    status=1
fi
if ! diff -u "$tmp/def" "$tmp/map"; then
    echo "check-exports: hook.map and hooks.def disagree" >&2
    status=1
fi
exit $status
