#!/bin/bash
# cordon report --format html opens in a real browser (headless chromium)
# without console errors and without fetching anything, and every breach's
# path is in the rendered page. Needs chromium (apt-get install chromium);
# skips without it.
# tiers: self
# skip-ok: self
set -euo pipefail
source "$(dirname "$0")/lib.sh"
browser=$(command -v chromium || command -v chromium-browser || true)
[[ -n $browser ]] || skip "no chromium (apt-get install -y chromium)"

# A recording with breaches of several kinds; its paths hold characters
# HTML must escape.
h=$TEST_TMP/home
mkdir -p "$h/.config/pip" "$h/.cmake/packages/A&B" src
printf '[user]\n\tname = x\n' >"$h/.gitconfig"
printf '[global]\n' >"$h/.config/pip/pip.conf"
printf '/x\n' >"$h/.cmake/packages/A&B/<id>"
cd src
"$CORDON" record -q -o ../m.json -- sh -c 'cat "$HOME/.gitconfig" "$HOME/.config/pip/pip.conf" "$HOME/.cmake/packages/A&B/<id>" >/dev/null'
cd ..
assert_status 1 "$CORDON" report --format html -o report.html m.json
assert_status 1 "$CORDON" report --format json -o report.json m.json

log_step "open it in headless chromium"
status=0
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$TEST_TMP/chromium" --enable-logging=stderr --v=0 \
    --dump-dom "file://$TEST_TMP/report.html" >dom.html 2>browser.err || status=$?
if [[ $status != 0 || ! -s dom.html ]]; then
    head -c 3000 browser.err >&2 || true
    skip "chromium cannot run here (exit $status)"
fi
# Console messages are logged as CONSOLE(...) or "Console" lines; a page
# that fetched something failing would log net errors for its URL.
if grep -E 'CONSOLE|Uncaught|ERR_FILE_NOT_FOUND|ERR_NAME_NOT_RESOLVED|Refused to' browser.err; then
    fail "chromium logged console or load errors for the report"
fi
assert_file_has_content dom.html '<h1>cordon report: <code>sh -c'

log_step "every breach path is in the rendered page"
python3 - <<'PY' || fail "a breach is missing from the rendered page"
import html, json
r = json.load(open("report.json"))
dom = open("dom.html").read()
assert r["breaches"], "no breaches to look for"
for b in r["breaches"]:
    assert html.escape(b["path"], quote=False) in dom or b["path"] in dom, b["path"]
PY
assert_file_has_content dom.html 'A&amp;B/&lt;id&gt;'
assert_not_file_has_content report.html '<script|<link|https?://'
