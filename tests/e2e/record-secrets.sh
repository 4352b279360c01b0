#!/bin/bash
# A build that reads ~/.ssh/id_rsa, ~/.netrc and ~/.aws/credentials with
# GITHUB_TOKEN in its environment: none of those bytes or values appear in
# the manifest or in the archive; pack says what it left out.
# tiers: self nobody nouserns
set -euo pipefail
source "$(dirname "$0")/lib.sh"

mkdir -p "$HOME/.ssh" "$HOME/.aws" src
echo 'SECRET-SSH-KEY-8c1f' >"$HOME/.ssh/id_rsa"
echo 'machine example.org login u password SECRET-NETRC-77ab' >"$HOME/.netrc"
printf '[default]\naws_secret_access_key = SECRET-AWS-3d9e\n' >"$HOME/.aws/credentials"
echo 'int main(void) { return 0; }' >src/main.c
cd src
export GITHUB_TOKEN=SECRET-TOKEN-51c2 AWS_SECRET_ACCESS_KEY=SECRET-AWSENV-0a0a
assert_status 0 "$CORDON" record -q -o ../m.json -- sh -c \
    'cat ~/.ssh/id_rsa ~/.netrc ~/.aws/credentials >/dev/null; test -n "$GITHUB_TOKEN"; cc -o main main.c'
cd ..
# The reads are recorded (by path), the secrets are not.
assert_file_has_content m.json "$HOME/.ssh/id_rsa"
assert_file_has_content m.json "$HOME/.netrc"
assert_file_has_content m.json '"credentials"'
assert_not_file_has_content m.json 'SECRET-'

assert_status 0 "$CORDON" pack -q m.json -o root.tar.zst
assert_file_has_content "$TEST_TMP/err" 'credentials'
mkdir x
tar --zstd -xf root.tar.zst -C x
if grep -rqa 'SECRET-' x; then
    grep -rla 'SECRET-' x >&2
    fail "a secret reached the archive"
fi
assert_not_file_exists "x$HOME/.ssh/id_rsa"
# The build's own files are there.
assert_file_exists "x$TEST_TMP/src/main.c"

# --include credentials is the explicit way to carry them.
assert_status 0 "$CORDON" pack -q m.json -o with.tar.zst --include credentials
tar --zstd -tf with.tar.zst >with.list
assert_file_has_content with.list '\.ssh/id_rsa$'
# Variables are redacted even then: the manifest never had them.
