/* placeholder: being written */
#include <errno.h>
#include <cordon/error.h>
#include <cordon/import.h>
int cordon_import_dtruss(struct cordon_import *imp, const struct cordon_import_source *srcs,
                         size_t n, struct cordon_error *err) {
    (void)imp;
    (void)srcs;
    (void)n;
    return cordon_error_set(err, ENOSYS, NULL, 0, 0, "not written yet");
}
