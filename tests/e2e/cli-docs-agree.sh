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

for cmd in record show verify diff pack replay run doctor report learn bisect import export; do
    page=$man/cordon-$cmd.1.md
    assert_file_exists "$page"
    assert_file_exists "${page%.md}"
    assert_status 0 "$CORDON" "$cmd" --help
    options <"$TEST_TMP/out" | grep -vx -- '--help' >"$TEST_TMP/help.opts" || true
    section() { sed -n "/^# $1/,/^# /p" "$page" | sed 's/\\-/-/g' | grep -E -- "$2"; }
    section SYNOPSIS . | options >"$TEST_TMP/synopsis.opts" || true
    # The page's OPTIONS entries (not options named in prose); a long form
    # given beside a short one (-o, --output) may be left out of --help.
    section OPTIONS '^[*][*]-' | options | grep -vx -- '--help' >"$TEST_TMP/options.opts" || true
    section OPTIONS '^[*][*]--' | options | grep -vx -- '--help' >"$TEST_TMP/long.opts" || true
    grep -qE "^cordon $cmd( |$)" "$readme" || fail "README.md has no synopsis line for '$cmd'"
    grep -E "^cordon $cmd( |$)" "$readme" | options >"$TEST_TMP/readme.opts" || true
    # A in B, else fail naming what is missing.
    subset() {
        comm -23 "$TEST_TMP/$1.opts" "$TEST_TMP/$2.opts" >"$TEST_TMP/extra"
        [[ ! -s $TEST_TMP/extra ]] ||
            fail "cordon $cmd: $3: $(tr '\n' ' ' <"$TEST_TMP/extra")"
    }
    subset help options "--help shows options its man page's OPTIONS lacks"
    subset long help "the man page documents options --help does not show"
    subset synopsis help "the man page's SYNOPSIS names options --help does not show"
    subset synopsis readme "README.md's synopsis lacks options of the man page's"
    subset readme synopsis "README.md's synopsis names options the man page's lacks"
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
