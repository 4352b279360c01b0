/* What the import fuzzers share: parse the bytes as one log (or two -ff
 * files), and when anything was understood build the manifest, which must
 * dump and load again. Any failure must say why; nothing may crash, hang
 * or leak. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cordon/error.h>
#include <cordon/import.h>
#include <cordon/manifest.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_import(enum cordon_import_format format, const uint8_t *data, size_t size,
                               bool split, const char *cwd) {
    /* Exactly `size` bytes, no NUL after them: an over-read is caught. */
    char *text = malloc(size ? size : 1);
    if (!text)
        return;
    memcpy(text, data, size);
    struct cordon_import_source srcs[2] = {{"fuzz.100", text, size}, {"fuzz.101", NULL, 0}};
    size_t n = 1;
    const char *ff = split ? memchr(text, '\f', size) : NULL;
    if (ff) {
        srcs[0].len = (size_t)(ff - text);
        srcs[1].text = (char *)ff + 1;
        srcs[1].len = size - srcs[0].len - 1;
        n = 2;
    }
    struct cordon_import *imp = cordon_import_new(format);
    if (!imp)
        abort();
    if (cwd && cordon_import_set_cwd(imp, cwd) < 0)
        abort();
    struct cordon_error err;
    cordon_error_clear(&err);
    int r = cordon_import_parse(imp, srcs, n, &err);
    if (r < 0) {
        if (!err.text[0] || r != -EINVAL) {
            fprintf(stderr, "parse failed without a reason: %d\n", r);
            abort();
        }
    } else {
        struct cordon_import_build_options o = {.no_hash = true, .quiet = true, .no_owners = true};
        struct cordon_manifest *m = NULL;
        if (cordon_import_build(imp, &o, &m, &err) < 0) {
            fprintf(stderr, "build failed: %s\n", err.text);
            abort();
        }
        char *json = cordon_manifest_dumps(m);
        struct cordon_manifest *back = NULL;
        if (!json || cordon_manifest_loadb(json, strlen(json), "import", &back, &err) < 0) {
            fprintf(stderr, "the imported manifest does not load: %s\n%s\n", err.text,
                    json ? json : "(null)");
            abort();
        }
        free(json);
        cordon_manifest_free(back);
        cordon_manifest_free(m);
    }
    cordon_import_free(imp);
    free(text);
}
