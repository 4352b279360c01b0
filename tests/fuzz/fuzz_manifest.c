/* libFuzzer: any bytes given to the manifest reader must give a manifest or
 * an error, never a crash; a manifest that loads must dump, and the dump
 * must load again and dump to the same bytes (the canonical form is a
 * fixed point). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cordon/error.h>
#include <cordon/manifest.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct cordon_error err;
    struct cordon_manifest *m = NULL;
    if (cordon_manifest_loadb((const char *)data, size, "fuzz", &m, &err) < 0) {
        if (!err.text[0])
            abort(); /* every failure must say why */
        return 0;
    }
    char *a = cordon_manifest_dumps(m);
    if (!a)
        abort();
    struct cordon_manifest *back = NULL;
    if (cordon_manifest_loadb(a, strlen(a), "dump", &back, &err) < 0) {
        fprintf(stderr, "the dump does not load: %s\n%s\n", err.text, a);
        abort();
    }
    char *b = cordon_manifest_dumps(back);
    if (!b || strcmp(a, b) != 0) {
        fprintf(stderr, "the dump is not a fixed point:\n%s\n---\n%s\n", a, b ? b : "(null)");
        abort();
    }
    free(a);
    free(b);
    cordon_manifest_free(m);
    cordon_manifest_free(back);
    return 0;
}
