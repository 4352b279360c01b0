/* libFuzzer: the fs_usage and dtruss importers (macOS). The first byte
 * chooses: 'D' dtruss, anything else fs_usage; the rest is the log. */
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!size)
        return 0;
    enum cordon_import_format f = data[0] == 'D' ? CORDON_IMPORT_DTRUSS : CORDON_IMPORT_FS_USAGE;
    fuzz_import(f, data + 1, size - 1, false, (data[0] & 2) ? "/w" : NULL);
    return 0;
}
