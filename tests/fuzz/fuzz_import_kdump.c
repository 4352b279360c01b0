/* libFuzzer: the kdump importer (OpenBSD, FreeBSD). A form feed splits the
 * input into two logs when the first byte is odd. */
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    unsigned flags = size ? data[0] : 0;
    fuzz_import(CORDON_IMPORT_KDUMP, data, size, flags & 1, (flags & 2) ? "/w" : NULL);
    return 0;
}
