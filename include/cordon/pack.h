/* cordon: a minimal root from a manifest, as a deterministic archive, and
 * its safe unpacking.
 *
 * Pack outline:
 *   1. every input of the manifest (less the dropped categories and, unless
 *      asked, credentials), its parent directories and every symlink on its
 *      path (merged /usr: /lib -> usr/lib) become entries; inputs whose bytes
 *      the build never needed (stat'ed only) become sparse files of the right
 *      size, mode and mtime; the parent directories of outputs are included
 *      so the build can write there;
 *   2. each file's bytes come from the host, or from the store when the host
 *      copy changed since the recording, and are checked against the
 *      manifest's hash as they are written: a mismatch is an error naming it;
 *   3. the manifest itself goes in as .cordon/manifest.json, and the runners'
 *      libraries (the hook, fakechroot) under .cordon/lib/;
 *   4. entries are sorted by path, owners are 0/0 with no names, times come
 *      from the manifest: the same manifest and content give the same bytes.
 *
 * Choices worth knowing:
 *   - the root mirrors the host: input /usr/lib/x is entry "usr/lib/x";
 *     symlinks keep their text (absolute targets are read relative to the
 *     root by the runners), except a relative one with more ".." than it
 *     is deep, which is stored as the absolute path it means on the host;
 *   - .cordon/contents ("XXH3HEX NAME\n" per file with bytes, NAME as in
 *     the archive, sorted bytewise) is the first regular file of the
 *     archive, so unpack checks every byte as it writes it;
 *   - a placeholder is a pax sparse file whose only data is one zero byte
 *     at its end (libarchive 3.6.2 cannot read back a map with no region);
 *     unpack writes no zero bytes, so it stays a hole;
 *   - two paths share one inode (a hard link entry) only when content,
 *     mode and mtime all agree, since a link cannot give them two;
 *   - tar.zst uses zstd's multi-threaded mode, whose output is the same
 *     for any number of workers from one up.
 *
 * Unpack refuses entries that would land outside the root (absolute or ".."
 * names, symlinks whose target escapes, hard links out, writing through a
 * symlink), device nodes, fifos, setuid/setgid bits, and files whose bytes do
 * not match the packed manifest's hash. It unpacks into a temporary sibling
 * directory and renames it into place only when everything checked, so a
 * half-unpacked root is never used.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct cordon_error;
struct cordon_manifest;

enum cordon_pack_format {
    CORDON_PACK_TAR_ZSTD, /* pax + zstd (default) */
    CORDON_PACK_TAR,      /* pax, uncompressed */
    CORDON_PACK_TAR_GZ,   /* pax + gzip */
    CORDON_PACK_DIR,      /* a plain directory */
    CORDON_PACK_FORMAT_MAX,
    CORDON_PACK_FORMAT_INVALID = -1,
};
/* "tar.zst", "tar", "tar.gz", "dir". */
const char *cordon_pack_format_name(enum cordon_pack_format f);
enum cordon_pack_format cordon_pack_format_from_name(const char *s);

struct cordon_pack_options {
    const struct cordon_manifest *manifest; /* borrowed; sorted */
    const char *manifest_path;              /* the file it was read from, packed verbatim if set */
    const char *output;
    enum cordon_pack_format format;
    unsigned drop; /* bit (1 << enum cordon_category) per category left out */
    bool include_credentials;
    const char *store;      /* NULL: cordon_store_default() */
    const char *hook;       /* libcordon-hook.so to carry, NULL: none */
    const char *fakechroot; /* libfakechroot.so to carry, NULL: look in the usual places */
    bool quiet;
};

struct cordon_pack_stats {
    uint64_t files;  /* regular files with content */
    uint64_t sparse; /* stat-only files packed as sparse placeholders */
    uint64_t dirs;
    uint64_t symlinks;
    uint64_t bytes;   /* content bytes written */
    uint64_t dropped; /* inputs left out by category */
};

/* A warning for a human (a dropped credential, say); the front end prints it. */
typedef void (*cordon_warn_fn)(void *ctx, const char *text);

/* Pack. 0 or -errno with `err` naming the entry. `warn` may be NULL. */
int cordon_pack(const struct cordon_pack_options *opts, struct cordon_pack_stats *ret_stats,
                cordon_warn_fn warn, void *warn_ctx, struct cordon_error *err);

/* A directory made by --format dir is copied through the same checks, not
 * used in place: what replay runs in is always what was verified. */
struct cordon_unpack_options {
    const char *archive; /* an archive, or a directory made by --format dir */
    const char *dest;    /* the root to create; must not exist yet */
    bool quiet;
};

/* Unpack safely (see above). 0 or -errno with `err` naming the entry:
 * -EINVAL for a refused entry or a truncated archive, -EBADMSG for a hash
 * mismatch, -EEXIST if dest exists. */
int cordon_unpack(const struct cordon_unpack_options *opts, struct cordon_error *err);

/* ---- for the replayer's own files ----------------------------------------
 * The safe tree writer under both cordon_unpack and `pack --format dir`.
 *
 *   1. cordon_tree_new() makes DEST.tmp-XXXXXX beside `dest` (which must not
 *      exist: -EEXIST);
 *   2. cordon_tree_add_*() create entries by relative, normalised name,
 *      every one with *at() calls below the root, never through a symlink;
 *      a refused name or target is -EINVAL with `err` naming the entry;
 *   3. cordon_tree_commit() applies directory modes and times and renames
 *      the tree to `dest`; cordon_tree_free() of an uncommitted tree removes
 *      it.
 * `label` (borrowed, may be NULL) is the `path` of every error: the archive.
 */
struct cordon_tree;
struct cordon_hash;

int cordon_tree_new(const char *dest, const char *label, struct cordon_tree **ret,
                    struct cordon_error *err);
struct cordon_tree *cordon_tree_free(struct cordon_tree *t);
int cordon_tree_add_dir(struct cordon_tree *t, const char *name, unsigned mode, int64_t mtime_ns,
                        struct cordon_error *err);
/* Relative targets may not climb above the root from where the link is. */
int cordon_tree_add_symlink(struct cordon_tree *t, const char *name, const char *target,
                            int64_t mtime_ns, struct cordon_error *err);
/* `target` must be an earlier regular file of this tree; `hash` (NULL: the
 * link has no listed content) must be what the target was created with. */
int cordon_tree_add_hardlink(struct cordon_tree *t, const char *name, const char *target,
                             const struct cordon_hash *hash, struct cordon_error *err);
/* Create a regular file (O_EXCL, 0600 while written). Returns a new fd open
 * for writing, or -errno. */
int cordon_tree_create_file(struct cordon_tree *t, const char *name, struct cordon_error *err);
/* Give the file `fd` (closed here in every case) its size (ftruncate: a
 * placeholder stays a hole), mode and mtime, and remember `hash` (NULL: no
 * listed content) for hard links to it. */
int cordon_tree_finish_file(struct cordon_tree *t, int fd, const char *name, uint64_t size,
                            unsigned mode, int64_t mtime_ns, const struct cordon_hash *hash,
                            struct cordon_error *err);
int cordon_tree_commit(struct cordon_tree *t, struct cordon_error *err);

/* Whether `name` is a relative, normalised entry name: no leading '/', no
 * empty, "." or ".." component, no trailing '/'. */
bool cordon_pack_name_ok(const char *name);
/* Whether a symlink at `name` with the relative or absolute `target` stays
 * inside the root when read from where it is (absolute targets do: the
 * runners read them relative to the root). */
bool cordon_pack_symlink_ok(const char *name, const char *target);

/* The name of the content index in a root, and its line format:
 * "XXH3HEX NAME\n", NAME relative with '\\' and '\n' escaped as "\\\\" and
 * "\\n", sorted by name. */
#define CORDON_PACK_CONTENTS ".cordon/contents"
#define CORDON_PACK_MANIFEST ".cordon/manifest.json"
