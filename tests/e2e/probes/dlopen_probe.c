/* dlopen of a library by soname and of a missing path. */
#include <dlfcn.h>

#include "probe.h"

int main(void) {
    void *h = dlopen("libm.so.6", RTLD_NOW);
    SHOWP("dlopen libm", h);
    SHOWP("dlopen missing", dlopen("/no/such/lib.so", RTLD_NOW));
    return 0;
}
