#!/bin/bash
# The fs_usage, dtruss, OpenBSD kdump and FreeBSD kdump fixtures (the same
# poisoned build traced on macOS and the BSDs) import, and the planted
# ~/.gitconfig read is in each manifest and named by `cordon report` as user
# configuration (HOME is inferred from the paths: these logs carry no
# environment). Garbage fixtures import with warnings naming lines; logs
# with nothing recognisable fail naming the file.
# tiers: self nobody
set -euo pipefail
source "$(dirname "$0")/lib.sh"

D=${CORDON_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/data/import
[[ -d $D ]] || skip "no fixtures at $D"
have_report=0
"$CORDON" report --help >/dev/null 2>&1 && have_report=1

check() { # FORMAT FIXTURE GITCONFIG
    local format=$1 fixture=$2 gitconfig=$3
    log_step "$format: $fixture"
    assert_status 0 "$CORDON" import --from "$format" -o "$fixture.json" "$D/$fixture"
    assert_not_file_has_content err "not understood"
    assert_file_has_content "$fixture.json" "\"path\": \"$gitconfig\""
    assert_file_has_content "$fixture.json" "\"kind\": \"imported\""
    assert_file_has_content "$fixture.json" "\"path\": \"$format\""
    assert_status 0 "$CORDON" show "$fixture.json"
    if [[ $have_report == 1 ]]; then
        # Breaches found: exit 1.
        assert_status 1 "$CORDON" report "$fixture.json"
        assert_file_has_content out "^user-config +$gitconfig "
    fi
}

check fs_usage fs_usage-poisoned.log /Users/u/.gitconfig
check dtruss dtruss-poisoned.log /Users/u/.gitconfig
check kdump kdump-openbsd.log /home/u/.gitconfig
check kdump kdump-freebsd.log /home/u/.gitconfig
check strace strace-poisoned.log /home/u/.gitconfig

log_step "garbage: warnings with line numbers, the good lines kept"
assert_status 0 "$CORDON" import --from fs_usage -o g1.json "$D/fs_usage-garbage.log"
assert_file_has_content err "fs_usage-garbage.log:2: "
assert_file_has_content err "10 lines of .* not understood"
assert_file_has_content g1.json "\"path\": \"/Users/u/.gitconfig\""
assert_status 0 "$CORDON" import --from dtruss -o g2.json "$D/dtruss-garbage.log"
assert_file_has_content err "dtruss-garbage.log:4: "
assert_status 0 "$CORDON" import --from kdump -o g3.json "$D/kdump-garbage.log"
assert_file_has_content err "kdump-garbage.log:4: "
assert_file_has_content g3.json '"kind": "unparsed-lines"'

log_step "nothing recognisable: an error naming the file"
assert_status 125 "$CORDON" import --from dtruss -o x.json "$D/kdump-openbsd.log"
assert_file_has_content err "kdump-openbsd.log.*not a dtruss log"
assert_status 125 "$CORDON" import --from kdump -o x.json "$D/fs_usage-poisoned.log"
assert_file_has_content err "not a kdump log"
assert_not_file_exists x.json
