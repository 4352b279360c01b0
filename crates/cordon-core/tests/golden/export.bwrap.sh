#!/bin/sh
# bubblewrap arguments exported by cordon from example policy.
# Approximations:
# - the environment is the one resolved when this was exported (bwrap has no patterns such as PIP_*)
exec bwrap \
    --dev /dev \
    --dir /proc \
    --proc /proc \
    --dir /tmp \
    --perms 1777 --tmpfs /tmp \
    --dir /usr \
    --ro-bind /usr /usr \
    --remount-ro / \
    --unshare-user --unshare-pid --unshare-ipc --unshare-uts --unshare-net \
    --die-with-parent --cap-drop ALL \
    --clearenv \
    --setenv PATH /usr/bin:/bin \
    --chdir /usr \
    -- "$@"
