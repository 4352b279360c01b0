/* cordon: what a manifest says about this host, or about another manifest.
 *
 *   cordon_show()   a summary for a human;
 *   cordon_verify() this host against a manifest: every input changed,
 *                   missing, or newly present where the recording found
 *                   nothing; every recorded variable whose value differs;
 *   cordon_diff()   two manifests, differences ranked so that the likely
 *                   cause of a different build comes first.
 *
 * Each writes its text to `out` and returns the number of differences found
 * (0: identical), or -errno with `err` filled.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

struct cordon_manifest;
struct cordon_error;

int cordon_show(const struct cordon_manifest *m, FILE *out, struct cordon_error *err);

struct cordon_verify_options {
    bool rehash;      /* hash every file, even where size, mtime and inode match */
    bool quiet;       /* no progress line */
    const char *root; /* check paths under this directory instead of "/" (NULL: "/") */
};

/* What verify and diff report, one entry per path or variable. */
enum cordon_change {
    CORDON_CHANGE_CONTENT,  /* a file's bytes differ */
    CORDON_CHANGE_TYPE,     /* file became dir, symlink, ... */
    CORDON_CHANGE_MISSING,  /* recorded present, absent now (or in B) */
    CORDON_CHANGE_APPEARED, /* recorded missing (a probe), present now */
    CORDON_CHANGE_TARGET,   /* a symlink points elsewhere */
    CORDON_CHANGE_LISTING,  /* a listed directory has other entries */
    CORDON_CHANGE_MODE,     /* permission bits only */
    CORDON_CHANGE_ENV,      /* a consulted variable has another value */
    CORDON_CHANGE_MAX,
};

/* "content", "type", "missing", "appeared", "target", "listing", "mode",
 * "env"; NULL for anything else. */
const char *cordon_change_name(enum cordon_change c);

int cordon_verify(const struct cordon_manifest *m, const struct cordon_verify_options *opts,
                  FILE *out, struct cordon_error *err);

int cordon_diff(const struct cordon_manifest *a, const struct cordon_manifest *b, FILE *out,
                struct cordon_error *err);
