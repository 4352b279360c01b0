/* cordon: the content-addressed store and work-tree snapshots.
 *
 * The store is a directory of files named by their XXH3-128 (STORE/ab/cdef...,
 * the first two hex digits as a fan-out directory), holding the bytes of
 * inputs that may not survive on the host, such as the work tree as it was
 * when the recording started. Entries are written to a temporary name and
 * renamed, so a present entry is always whole; they are read-only (0444).
 *
 * A snapshot maps each regular file below a directory to its hash and
 * identity at the time it was taken; the recorder takes one of the work tree
 * before the build runs, so a file the build reads and then rewrites is
 * recorded (and packed) with its content as first read.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cordon/hash.h>

struct cordon_error;
struct cordon_progress;

/* The default store: $XDG_CACHE_HOME/cordon/store, else $HOME/.cache/cordon/store.
 * 0, -ENAMETOOLONG, or -ENOENT when neither variable is set. */
int cordon_store_default(char *out, size_t size);

/* The path of an entry, whether or not it exists. 0 or -ENAMETOOLONG. */
int cordon_store_path(const char *store, const struct cordon_hash *h, char *out, size_t size);

/* True if the store has an entry for `h`. */
bool cordon_store_has(const char *store, const struct cordon_hash *h);

/* Copy the regular file `path` into the store (copy_file_range: reflinks
 * where the file system has them), hashing it on the way; the store
 * directory is created if needed. An entry already present is not rewritten.
 * *ret_hash gets the hash. 0 or -errno with `err` filled. */
int cordon_store_add_file(const char *store, const char *path, struct cordon_hash *ret_hash,
                          struct cordon_error *err);

struct cordon_snapshot_entry {
    const char *path; /* absolute */
    struct cordon_hash hash;
    uint64_t size;
    uint64_t ino;
    int64_t mtime_ns;
    uint32_t mode;
};

struct cordon_snapshot;

/* Snapshot every regular file below `dir` (symlinks not followed, other file
 * systems not entered) into `store`. Past `limit_bytes` (0: no limit) it
 * stops adding and returns -EFBIG with *ret still set to what was taken.
 * *ret is new. */
int cordon_snapshot_take(const char *store, const char *dir, unsigned long long limit_bytes,
                         struct cordon_progress *progress, struct cordon_snapshot **ret,
                         struct cordon_error *err);

/* The entry for an absolute path, borrowed, or NULL. */
const struct cordon_snapshot_entry *cordon_snapshot_find(const struct cordon_snapshot *s,
                                                         const char *path);
size_t cordon_snapshot_count(const struct cordon_snapshot *s);

/* Persist / load a snapshot as a text index (one "HASH SIZE INO MTIME MODE
 * PATH" line per entry), so a log can be collected after the recorder died. */
int cordon_snapshot_save(const struct cordon_snapshot *s, const char *path,
                         struct cordon_error *err);
int cordon_snapshot_load(const char *path, struct cordon_snapshot **ret, struct cordon_error *err);

struct cordon_snapshot *cordon_snapshot_free(struct cordon_snapshot *s);
