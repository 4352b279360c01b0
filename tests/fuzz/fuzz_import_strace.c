/* libFuzzer: the strace importer. The first byte's low bits choose whether
 * a form feed splits the input into two -ff files and whether a working
 * directory is given; the bytes themselves are all the log. */
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    unsigned flags = size ? data[0] : 0;
    fuzz_import(CORDON_IMPORT_STRACE, data, size, flags & 1, (flags & 2) ? "/w" : NULL);
    return 0;
}
