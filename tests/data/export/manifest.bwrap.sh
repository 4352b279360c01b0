#!/bin/sh
# bubblewrap script exported by cordon from manifest 'build.json'.
# The build sees exactly the manifest's inputs, read-only (10 files, 2 directories,
# 4 symlinks), the work tree and the outputs' directories read-write, a private
# /tmp, /dev and /proc, no network.
# Run: sh THIS [COMMAND [ARGS...]] (default: the recorded command, in the recorded
# directory). CORDON_WORKTREE=DIR shows DIR (a fresh copy of the work tree)
# at the recorded work tree's path.
# Approximations:
# - '/var/cache/hello' existed before the build, which wrote in it: a private tmpfs there (the inputs in it bound on top; what the build writes there is not kept)
# - the environment is the caller's: the recorded one is not replayed (its secrets were redacted)
# - directories are made by bubblewrap (mode 0755, empty but for what is bound in them); a listed directory shows only the inputs it holds
# - the outputs' directories outside the work tree are made on the host first and bound whole, read-write
set -e
worktree=/work/pkg
if [ -n "${CORDON_WORKTREE-}" ]; then worktree=$CORDON_WORKTREE; fi
mkdir -p -- /opt/prefix
if [ $# -eq 0 ]; then set -- make install PREFIX=/opt/prefix; fi
exec bwrap \
    --unshare-all \
    --die-with-parent \
    --dev /dev \
    --proc /proc \
    --symlink usr/bin /bin \
    --ro-bind /etc/ld.so.cache /etc/ld.so.cache \
    --symlink usr/lib /lib \
    --symlink /lib/ld.so /lib64/ld-linux-x86-64.so.2 \
    --bind /opt/prefix /opt/prefix \
    --ro-bind '/opt/with space/it'\''s.h' '/opt/with space/it'\''s.h' \
    --tmpfs /tmp \
    --symlink gcc /usr/bin/cc \
    --ro-bind /usr/bin/gcc /usr/bin/gcc \
    --ro-bind /usr/bin/make /usr/bin/make \
    --ro-bind /usr/bin/sh /usr/bin/sh \
    --ro-bind /usr/bin/strip /usr/bin/strip \
    --dir /usr/include \
    --ro-bind /usr/include/stdio.h /usr/include/stdio.h \
    --ro-bind /usr/lib/ld.so /usr/lib/ld.so \
    --ro-bind /usr/lib/libc.so.6 /usr/lib/libc.so.6 \
    --dir /usr/share/locale \
    --ro-bind /usr/share/locale/locale.alias /usr/share/locale/locale.alias \
    --tmpfs /var/cache/hello \
    --bind "$worktree" /work/pkg \
    --remount-ro / \
    --chdir /work/pkg \
    -- "$@"
