/* cordon: reports. The breaches a manifest shows, grouped by category, each
 * with its owner, the program and its ancestry, an explanation and a fix;
 * the variables that steered the build; the packages it used; what the
 * recording could not see. As text, Markdown (for an issue), JSON (a
 * versioned schema, docs/report-schema.md) or one self-contained HTML file.
 *
 * Outline:
 *   1. cordon_report_build() classifies every input (classify.h) and
 *      collects the rest;
 *   2. cordon_report_write_{text,markdown,json,html}();
 *   3. cordon_report_free().
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cordon/classify.h>

struct cordon_error;
struct cordon_manifest;

#define CORDON_REPORT_SCHEMA 1

struct cordon_report_breach {
    const char *path; /* borrowed from the manifest */
    enum cordon_category category;
    const char *tool; /* "git", "cc", "ld.so", "build" */
    char *explanation;
    char *fix;       /* policy lines for `cordon run`, "; "-separated */
    const char *use; /* "read", "exec", "load", "write", ... */
    int pid;         /* the first process that used it, 0 if unknown */
    bool has_owner;
    struct cordon_owner owner; /* strings borrowed from the owners database */
    const char *pattern;       /* the knowledge-base pattern, or NULL */
    /* Breaches with the same category and group are shown together: the
     * fix for most, the owning package for system headers and libraries. */
    const char *group;
};

struct cordon_report_package {
    const char *manager, *name, *version;
    size_t files;
};

struct cordon_report {
    const struct cordon_manifest *m; /* borrowed */
    const char *source;              /* the manifest's file name */
    /* Sorted by category, fix, path. */
    struct cordon_report_breach *breaches;
    size_t n_breaches, cap_breaches;
    /* Sorted by manager, name. */
    struct cordon_report_package *packages;
    size_t n_packages;
    size_t by_category[CORDON_CAT_MAX]; /* breaches per category */
    /* Existing inputs by how they were classified. */
    size_t n_declared, n_system, n_virtual, n_missing;
    size_t n_metadata; /* outside the declared view, but only their metadata was used */
    size_t *env;       /* indices into m->env_reads that steer the build */
    size_t n_env;
};

/* Build the report. `kb` is bound here to the manifest's environment;
 * `owners` may be NULL (no package lookups); `declared` is a NULL-terminated
 * list of prefixes the build declares besides its work tree (may be NULL).
 * All borrowed and must outlive the report. 0 or -errno with err filled. */
int cordon_report_build(const struct cordon_manifest *m, const char *source, struct cordon_kb *kb,
                        struct cordon_owners *owners, char *const *declared,
                        struct cordon_report **ret, struct cordon_error *err);
struct cordon_report *cordon_report_free(struct cordon_report *r);

/* "make > sh > gcc > cc1" for a process, into `out`. */
const char *cordon_report_ancestry(const struct cordon_report *r, int pid, char *out, size_t size);
/* True if the variable steers a build (search paths, compilers, flags, tool config). */
bool cordon_report_env_steers(const char *name);

/* Each returns 0 or -errno (a write error). */
int cordon_report_write_text(const struct cordon_report *r, FILE *out);
int cordon_report_write_markdown(const struct cordon_report *r, FILE *out);
int cordon_report_write_json(const struct cordon_report *r, FILE *out);
int cordon_report_write_html(const struct cordon_report *r, FILE *out);
