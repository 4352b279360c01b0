/* Shared by the import unit tests: fixtures, running an import, finding
 * events, processes and inputs. */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <cordon/error.h>
#include <cordon/import.h>
#include <cordon/manifest.h>
#include <cordon/util.h>

/* The undeclared reads of the poisoned build that the strace and kdump
 * fixtures record (the same build on Linux, OpenBSD and FreeBSD), with the
 * pid that made each. */
static const struct {
    const char *path;
    int pid;
} poisoned_reads[] = {
    {"/home/u/.gitconfig", 101},
    {"/home/u/.leakrc", 102},
    {"/home/u/.cmake/packages/Poison/0123abcd", 103},
    {"/home/u/.local/lib/python3.11/site-packages/leak.pth", 104},
    {"/usr/include/zlib.h", 108},
    {"/usr/include/stdio.h", 108},
};

static inline char *fixture(const char *name, size_t *ret_len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/import/%s", CORDON_TEST_DATA, name);
    FILE *f = fopen(path, "re");
    cr_assert(f != NULL, "cannot open fixture %s", path);
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        cordon_strbuf_addn(&sb, buf, n);
    fclose(f);
    *ret_len = sb.len;
    return cordon_strbuf_detach(&sb);
}

/* Parse sources; the import on success, NULL (with err) on failure. */
static inline struct cordon_import *try_import_n(enum cordon_import_format f,
                                                 const struct cordon_import_source *srcs, size_t n,
                                                 const char *cwd, struct cordon_error *err) {
    struct cordon_import *imp = cordon_import_new(f);
    cr_assert(imp != NULL);
    if (cwd)
        cr_assert(eq(int, cordon_import_set_cwd(imp, cwd), 0));
    cordon_error_clear(err);
    if (cordon_import_parse(imp, srcs, n, err) < 0)
        return cordon_import_free(imp);
    return imp;
}

static inline struct cordon_import *try_import(enum cordon_import_format f, const char *name,
                                               const char *text, const char *cwd,
                                               struct cordon_error *err) {
    struct cordon_import_source src = {(char *)name, (char *)text, strlen(text)};
    return try_import_n(f, &src, 1, cwd, err);
}

static inline struct cordon_import *import_text(enum cordon_import_format f, const char *name,
                                                const char *text) {
    struct cordon_error err;
    struct cordon_import *imp = try_import(f, name, text, NULL, &err);
    cr_assert(imp != NULL, "import of %s failed: %s:%d: %s", name, err.path, err.line, err.text);
    return imp;
}

static inline struct cordon_import *import_fixture(enum cordon_import_format f, const char *name) {
    size_t len;
    char *text = fixture(name, &len);
    struct cordon_import_source src = {(char *)name, text, len};
    struct cordon_error err;
    struct cordon_import *imp = try_import_n(f, &src, 1, NULL, &err);
    cr_assert(imp != NULL, "import of %s failed: %s:%d: %s", name, err.path, err.line, err.text);
    free(text);
    return imp;
}

static inline void assert_no_warnings(const struct cordon_import *imp) {
    for (size_t i = 0; i < cordon_import_n_warnings(imp); i++)
        cr_log_error("warning: %s", cordon_import_warning(imp, i));
    cr_assert(eq(sz, cordon_import_n_warnings(imp), 0));
}

static inline bool warned_at(const struct cordon_import *imp, const char *file, int line) {
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s:%d: ", file, line);
    for (size_t i = 0; i < cordon_import_n_warnings(imp); i++)
        if (!strncmp(cordon_import_warning(imp, i), prefix, strlen(prefix)))
            return true;
    return false;
}

/* The number of events at `path` (by `syscall` when not NULL, with `op`
 * when >= 0); the last one in *ret. */
static inline size_t count_events(const struct cordon_import *imp, const char *path,
                                  const char *syscall, int op,
                                  const struct cordon_import_event **ret) {
    size_t n, k = 0;
    const struct cordon_import_event *ev = cordon_import_events(imp, &n);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ev[i].path, path) || (syscall && strcmp(ev[i].syscall, syscall)) ||
            (op >= 0 && (int)ev[i].op != op))
            continue;
        k++;
        if (ret)
            *ret = &ev[i];
    }
    return k;
}

/* The one event at `path` by `syscall` (or with `op`). */
static inline const struct cordon_import_event *one(const struct cordon_import *imp,
                                                    const char *path, const char *syscall, int op) {
    const struct cordon_import_event *e = NULL;
    size_t k = count_events(imp, path, syscall, op, &e);
    cr_assert(eq(sz, k, 1), "%s %s: %zu events", syscall ? syscall : "", path, k);
    return e;
}

static inline struct cordon_manifest *build(struct cordon_import *imp) {
    struct cordon_import_build_options o = {.no_hash = true, .quiet = true};
    struct cordon_manifest *m = NULL;
    struct cordon_error err;
    cordon_error_clear(&err);
    cr_assert(eq(int, cordon_import_build(imp, &o, &m, &err), 0), "%s", err.text);
    return m;
}

static inline const struct cordon_process *proc_of(const struct cordon_manifest *m, int pid) {
    for (size_t i = 0; i < m->n_processes; i++)
        if (m->processes[i].pid == pid)
            return &m->processes[i];
    cr_assert(false, "no process %d", pid);
    return NULL;
}

static inline const char *argv_at(const struct cordon_process *p, size_t i) {
    if (!p->argv)
        return NULL;
    for (size_t k = 0; k <= i; k++)
        if (!p->argv[k])
            return NULL;
    return p->argv[i];
}

static inline bool has_gap(const struct cordon_manifest *m, const char *kind) {
    for (size_t i = 0; i < m->n_gaps; i++)
        if (!strcmp(m->gaps[i].kind, kind))
            return true;
    return false;
}
