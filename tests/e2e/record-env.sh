#!/bin/bash
# The variables a build consulted are in its manifest, present or absent,
# secrets redacted; verify under another value names the variable.
# tiers: self nobody
set -euo pipefail
source "$(dirname "$0")/lib.sh"

mkdir src
cat >src/knob.c <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
    const char *k = getenv("CORDON_TEST_KNOB");
    const char *absent = getenv("CORDON_TEST_ABSENT");
    const char *t = getenv("CORDON_TEST_TOKEN");
    FILE *f = fopen("out.txt", "w");
    if (!f)
        return 1;
    fprintf(f, "%s %s %zu\n", k && !strcmp(k, "fast") ? "fast path" : "slow path",
            absent ? "absent is set" : "absent is absent", t ? strlen(t) : 0);
    return fclose(f) != 0;
}
C
cc -o src/knob src/knob.c
cd src
export CORDON_TEST_KNOB=fast CORDON_TEST_TOKEN=s3cr3t-value-1234
unset CORDON_TEST_ABSENT
assert_status 0 "$CORDON" record -q -o ../m.json -- ./knob
cd ..
assert_file_has_content src/out.txt '^fast path'
python3 - m.json <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
reads = {e["name"]: e for e in m["env_reads"]}
assert reads["CORDON_TEST_KNOB"]["value"] == "fast", reads["CORDON_TEST_KNOB"]
assert "value" not in reads["CORDON_TEST_ABSENT"], reads["CORDON_TEST_ABSENT"]
assert reads["CORDON_TEST_TOKEN"].get("redacted") is True, reads["CORDON_TEST_TOKEN"]
PY
assert_not_file_has_content m.json 's3cr3t-value'

log_step "verify here, same environment: no difference"
assert_status 0 "$CORDON" verify -q m.json

log_step "verify under another value names the variable"
CORDON_TEST_KNOB=slow assert_status 1 "$CORDON" verify -q m.json
assert_file_has_content "$TEST_TMP/out" 'CORDON_TEST_KNOB'
CORDON_TEST_ABSENT=now-set assert_status 1 "$CORDON" verify -q m.json
assert_file_has_content "$TEST_TMP/out" 'CORDON_TEST_ABSENT'
