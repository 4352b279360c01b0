/* Shared by the manifest unit tests: a fresh temporary directory per test,
 * and small file helpers. */
#pragma once

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <cordon/util.h>

static char tmpdir[PATH_MAX];

static inline void tmpdir_setup(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cordon-test-XXXXXX");
    cr_assert(mkdtemp(tmpdir) != NULL);
}

static inline void tmpdir_teardown(void) {
    cordon_rm_rf(tmpdir);
}

/* tmpdir/rel into `out` (PATH_MAX). */
static inline char *tpath(char *out, const char *rel) {
    cr_assert(strlen(tmpdir) + strlen(rel) + 2 <= PATH_MAX);
    strcpy(out, tmpdir);
    strcat(out, "/");
    strcat(out, rel);
    return out;
}

static inline void write_file(const char *path, const char *content) {
    FILE *f = fopen(path, "we");
    cr_assert(f != NULL, "cannot create %s", path);
    fputs(content, f);
    fclose(f);
}

static inline char *read_text(const char *path) {
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        cordon_strbuf_addn(&sb, buf, n);
    fclose(f);
    return cordon_strbuf_detach(&sb);
}
