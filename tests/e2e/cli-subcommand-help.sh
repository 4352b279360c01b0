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
    [run]='--policy --profile --ro --rw --hide --deny --empty --tmpfs --redirect --unset --set --home --network --backend --require --quiet'
    [doctor]='--json'
    [report]='--format --declare --no-owners -o'
    [learn]='-o --verify --no-verify --max-rules --keep --quiet'
    [bisect]='--candidates --runs-max --backend --keep --quiet'
    [import]='--from -o --cwd --home --no-hash --quiet'
    [export]='--to -o --collapse --network --host-root'
)
for cmd in record show verify diff pack replay run doctor report learn bisect import export; do
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
