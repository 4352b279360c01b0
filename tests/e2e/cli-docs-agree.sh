#!/bin/bash
# cordon --help, the man pages and README.md agree: every option a command's
# --help lists is in its man page's SYNOPSIS and in README.md's synopsis
# line, and every option those synopses list is in --help. The generated
# roff pages match their Markdown sources.
# tiers: self
set -euo pipefail
source "$(dirname "$0")/lib.sh"

man=$CORDON_SOURCE/docs/man
readme=$CORDON_SOURCE/README.md
options() { grep -oE -- '(^|[^a-z-])--[a-z][a-z-]*' | grep -oE -- '--[a-z-]+' | sort -u; }

for cmd in record show verify diff pack replay; do
    page=$man/cordon-$cmd.1.md
    assert_file_exists "$page"
    assert_file_exists "${page%.md}"
    assert_status 0 "$CORDON" "$cmd" --help
    options <"$TEST_TMP/out" | grep -vx -- '--help' >"$TEST_TMP/help.opts" || true
    section() { sed -n "/^# $1/,/^# /p" "$page" | sed 's/\\-/-/g' | options | grep -vx -- '--help'; }
    section SYNOPSIS >"$TEST_TMP/synopsis.opts" || true
    section OPTIONS >"$TEST_TMP/options.opts" || true
    grep -qE "^cordon $cmd( |$)" "$readme" || fail "README.md has no synopsis line for '$cmd'"
    grep -E "^cordon $cmd( |$)" "$readme" | options >"$TEST_TMP/readme.opts" || true
    # --help and the page's OPTIONS list the same options (long forms);
    # the page's SYNOPSIS and README.md's give the same ones, each of
    # which --help knows (aliases such as --output for -o may be left out).
    same() {
        if ! diff -u "$TEST_TMP/$1.opts" "$TEST_TMP/$2.opts" >"$TEST_TMP/diff"; then
            cat "$TEST_TMP/diff" >&2
            fail "cordon $cmd: the options of $1 (-) and $2 (+) differ"
        fi
    }
    same help options
    same synopsis readme
    comm -13 "$TEST_TMP/help.opts" "$TEST_TMP/synopsis.opts" >"$TEST_TMP/extra"
    [[ ! -s $TEST_TMP/extra ]] ||
        fail "cordon $cmd: the synopsis names options --help does not: $(cat "$TEST_TMP/extra")"
    # Each page is listed in cordon(1)'s SEE ALSO, and named in --help.
    assert_file_has_content "$man/cordon.1.md" "\\*\\*cordon-$cmd\\*\\*\\(1\\)"
    assert_file_has_content "$TEST_TMP/out" "cordon-$cmd\\(1\\)"
done

# The committed roff pages are what docs/man/gen.sh makes of the Markdown
# (checked where pandoc is installed; CI installs it).
if command -v pandoc >/dev/null; then
    for md in "$man"/*.1.md; do
        pandoc -s -f markdown -t man "$md" -o "$TEST_TMP/page.1"
        cmp -s "$TEST_TMP/page.1" "${md%.md}" ||
            fail "'${md%.md}' is stale: run docs/man/gen.sh"
    done
else
    log "pandoc not installed: not checking that the .1 pages are up to date"
fi
