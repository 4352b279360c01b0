#!/bin/sh
# bubblewrap script exported by cordon from policy 'example.policy'.
# Policy: example policy for the export goldens
# Run: sh THIS COMMAND [ARGS...]
# Approximations:
# - a file that is emptied, or hidden or denied inside a visible directory, is an empty character device (/dev/null) in its place
# - the environment rules are applied by the script to its own environment (bwrap has no patterns such as GIT_CONFIG_*)
set -e
for cordon_name in $(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p'); do
    case $cordon_name in
    PATH) ;;
    GIT_CONFIG_*|PYTHONPATH) unset "$cordon_name" 2>/dev/null || : ;;
    esac
done
export LC_ALL=C
exec bwrap \
    --unshare-all \
    --die-with-parent \
    --dev /dev \
    --ro-bind /dev/null /etc/gitconfig \
    --ro-bind-try /dev/null /etc/pip.conf \
    --ro-bind-try /opt/deps/zlib /opt/deps/zlib \
    --proc /proc \
    --tmpfs /tmp \
    --ro-bind-try /usr /usr \
    --ro-bind /dev/null /usr/include/zlib.h \
    --bind-try /work/pkg /work/pkg \
    --ro-bind-try /work/pkg/vendor /work/pkg/vendor \
    --tmpfs "$HOME" \
    --remount-ro / \
    -- "$@"
