/* cordon: content hashes (XXH3-128 through libxxhash's streaming API).
 *
 * A hash is kept as the 16 bytes of XXH128's canonical (big-endian) form and
 * printed as 32 lowercase hex digits, never as a JSON integer. Hashing never
 * runs on the hook's path: the recorder hashes after (or before) the run.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cordon_progress;

struct cordon_hash {
    unsigned char bytes[16];
};

#define CORDON_HASH_HEX_LEN 32

/* Large reads keep the hash I/O-bound rather than syscall-bound, but the
 * buffer must stay in the CPU's cache between the kernel's copy into it
 * and the hash reading it: on 215 MB of page-cache-hot toolchain files
 * (zlib's inputs) 64 KiB took 73 ms, 128 KiB 70 ms, 256 KiB 200 ms and
 * 1 MiB 200 ms. */
#define CORDON_HASH_BUFSIZE (128 * 1024)

/* Hash a memory buffer. */
void cordon_hash_buffer(const void *data, size_t len, struct cordon_hash *ret);

/* Hash everything readable from `fd` (from its current offset to EOF).
 * On success sets *ret and *ret_size (NULL-tolerant) and returns 0; -errno
 * on a read error. */
int cordon_hash_fd(int fd, struct cordon_hash *ret, uint64_t *ret_size);

/* The same with the caller's buffer (CORDON_HASH_BUFSIZE is the size to
 * use), polling `*stop` (read atomically; NULL: never) before each read:
 * -ECANCELED once it is non-zero. For work that must give way. */
int cordon_hash_fd_until(int fd, void *buf, size_t bufsize, struct cordon_hash *ret,
                         uint64_t *ret_size, const int *stop);

/* Open `path` (O_RDONLY|O_NOFOLLOW|O_CLOEXEC, relative to `dirfd` when it is
 * not absolute) and hash it. -ELOOP for a symlink, -EISDIR for a directory. */
int cordon_hash_file(int dirfd, const char *path, struct cordon_hash *ret, uint64_t *ret_size);

/* `out` gets 32 hex digits and a NUL. Returns out. */
char *cordon_hash_to_hex(const struct cordon_hash *h, char out[CORDON_HASH_HEX_LEN + 1]);

/* Parse exactly 32 hex digits (either case). 0, or -EINVAL. */
int cordon_hash_from_hex(const char *hex, struct cordon_hash *ret);

bool cordon_hash_equal(const struct cordon_hash *a, const struct cordon_hash *b);

/* One file for cordon_hash_many. `path` is borrowed. The result fields are
 * written by the worker: `error` is 0 or -errno, and on success `hash`,
 * `size` and the identity `dev`, `ino`, `mtime_ns` (from fstat of the fd that
 * was hashed, so they describe exactly the bytes hashed). */
struct cordon_hash_job {
    const char *path;
    struct cordon_hash hash;
    uint64_t size;
    uint64_t dev;
    uint64_t ino;
    int64_t mtime_ns;
    int error;
};

/* Hash `n` files on `threads` threads (0: one per online CPU). Each job's
 * own failure goes into its `error`; the call itself fails only when it
 * cannot start threads (-errno). `progress` (NULL-tolerant) is stepped by
 * bytes hashed and must have been initialised with the total. */
int cordon_hash_many(struct cordon_hash_job *jobs, size_t n, unsigned threads,
                     struct cordon_progress *progress);
