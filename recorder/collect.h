/* Internal to the recorder: the collector's entry point with its options. */
#pragma once

#include <stddef.h>

struct cordon_collect_options;
struct cordon_manifest;
struct cordon_error;
struct ahead;

struct collector_config {
    /* Paths that are the recorder's own files (the log, the manifest being
     * written): never inputs or outputs. */
    const char *const *ignore;
    size_t n_ignore;
    /* Hashes taken while the build ran (NULL: none), reused where the file
     * is the same. */
    const struct ahead *ahead;
};

int collect_build(const struct cordon_collect_options *opts, const struct collector_config *cfg,
                  struct cordon_manifest **ret, struct cordon_error *err);
