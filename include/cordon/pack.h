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
    const char *manifest_path; /* the file it was read from, packed verbatim if set */
    const char *output;
    enum cordon_pack_format format;
    unsigned drop;     /* bit (1 << enum cordon_category) per category left out */
    bool include_credentials;
    const char *store; /* NULL: cordon_store_default() */
    const char *hook;  /* libcordon-hook.so to carry, NULL: none */
    const char *fakechroot; /* libfakechroot.so to carry, NULL: look in the usual places */
    bool quiet;
};

struct cordon_pack_stats {
    uint64_t files;   /* regular files with content */
    uint64_t sparse;  /* stat-only files packed as sparse placeholders */
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

struct cordon_unpack_options {
    const char *archive; /* an archive, or a directory made by --format dir */
    const char *dest;    /* the root to create; must not exist yet */
    bool quiet;
};

/* Unpack safely (see above). 0 or -errno with `err` naming the entry:
 * -EINVAL for a refused entry or a truncated archive, -EBADMSG for a hash
 * mismatch, -EEXIST if dest exists. */
int cordon_unpack(const struct cordon_unpack_options *opts, struct cordon_error *err);
