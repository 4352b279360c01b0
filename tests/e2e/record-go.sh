#!/bin/bash
# A Go program makes its system calls itself, past the libc the hook wraps,
# even when it is dynamically linked (Debian's `go` is, for cgo): the hook
# treats it as it treats a static program, so with --complete it runs under
# the seccomp filter and the files it reads are recorded. `go list` reads the
# sources of the package it lists.
# tiers: self nobody
set -euo pipefail
source "$(dirname "$0")/lib.sh"

GO=$(command -v go || true)
[[ -n $GO ]] || skip "go is not installed (apt-get install golang-go)"
GO=$(realpath "$GO")
readelf -lW "$GO" | grep -q INTERP || skip "'$GO' is static here: record-static.sh covers that"
export GOCACHE=$TEST_TMP/gocache GOPATH=$TEST_TMP/gopath GOPROXY=off GOFLAGS='' GO111MODULE=off
dir=$("$GO" list -f '{{.Dir}}' fmt)
[[ -f $dir/print.go ]] || skip "no source of package fmt in '$dir'"

assert_status 0 "$CORDON" record -q -o m.json -- "$GO" list -f '{{.Dir}}' fmt
grep -q '"kind": "seccomp-unavailable"' m.json && skip "this kernel has no seccomp user notification"
python3 - "$dir/print.go" <<'PY' || fail "'$dir/print.go' is not a read input of go list"
import json, sys
m = json.load(open("m.json"))
sys.exit(0 if any(i["path"] == sys.argv[1] and "read" in i.get("uses", []) for i in m["inputs"]) else 1)
PY
