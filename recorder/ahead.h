/* Internal to the recorder: work done while the build runs.
 *
 * The recorder waits for the whole build and then hashes its inputs and
 * reads the package databases, on the build's clock. A thread at idle
 * priority does that work during the build instead, on CPU the build leaves
 * unused: it follows the event log as the hook writes it, hashes each file
 * a process opened for reading, executed or loaded, and loads dpkg's and
 * rpm's file lists. Whatever it has not done when the build ends is done
 * after, as before; nothing it does can change a manifest, only how soon it
 * is written.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct cordon_hash;
struct cordon_owners;
struct ahead;

/* A file whose ctime is less than this much older than the moment its
 * hashing started is not kept: file times tick coarsely (a jiffy), so a
 * write within the same tick would leave the identity unchanged. */
#define AHEAD_SETTLE_NS (2 * 1000000000LL)

/* The strings are borrowed: they must outlive the ahead (ahead_free). */
struct ahead_options {
    const char *log;           /* the event log, followed from its start */
    const char *worktree;      /* skipped: the snapshot has it (may be NULL) */
    const char *const *ignore; /* the recorder's own files */
    size_t n_ignore;
    const char *owners_index; /* cordon_owners_set_index_dir (may be NULL) */
    int64_t settle_ns;        /* AHEAD_SETTLE_NS; tests pass less */
    bool no_owners;           /* do not load the package databases */
    bool no_idle;             /* keep normal priority (tests) */
};

/* Start the thread. NULL when it cannot start (the recording goes on and
 * does everything after the build, as without it). */
struct ahead *ahead_start(const struct ahead_options *opts);
/* Tell the thread to stop and wait for it (it gives up within one read of
 * a file or one package list). NULL-tolerant; idempotent. */
void ahead_stop(struct ahead *a);
/* After ahead_stop: the hash of `path` when it was hashed ahead and `st`
 * (an lstat of it now) has the identity it had then (device, inode, size,
 * mtime and ctime). */
bool ahead_lookup(const struct ahead *a, const char *path, const struct stat *st,
                  struct cordon_hash *ret);
/* After ahead_stop: the package databases loaded whole, for the caller to
 * keep and free; NULL if the load did not finish. */
struct cordon_owners *ahead_take_owners(struct ahead *a);
/* What was done so far (may be called while it runs): paths dealt with,
 * files whose hash is kept. */
struct ahead_stats {
    uint64_t considered;
    uint64_t hashed_files;
};
void ahead_stats(const struct ahead *a, struct ahead_stats *ret);
/* Stops it if needed. NULL-tolerant. */
void ahead_free(struct ahead *a);
