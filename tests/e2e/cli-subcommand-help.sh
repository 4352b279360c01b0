#!/bin/bash
# Each command's --help (and -h) exits 0 with its synopsis on stdout: the
# command line and every option of the synopsis README.md and the man pages
# give (the contract between the three).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

declare -A options=(
    [record]='-o --worktree --store --no-audit --keep-log --quiet'
    [show]=''
    [verify]='--rehash --root --quiet'
    [diff]=''
    [pack]='-o --format --drop --include --store --quiet'
    [replay]='--backend --into --record --quiet'
)
for cmd in record show verify diff pack replay; do
    for opt in --help -h; do
        assert_status 0 "$CORDON" "$cmd" "$opt"
        assert_file_has_content "$TEST_TMP/out" "cordon $cmd"
        for o in ${options[$cmd]}; do
            grep -qe "$o\\b" "$TEST_TMP/out" ||
                fail "'cordon $cmd $opt' does not mention '$o'"
        done
        [[ ! -s $TEST_TMP/err ]] || fail "'cordon $cmd $opt' wrote to stderr"
    done
done
