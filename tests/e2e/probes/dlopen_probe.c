/* dlopen of a library by soname, of a missing path, and (argv[1]) of a
 * library that dlopens through its own RUNPATH. */
#include <dlfcn.h>

#include "probe.h"

int main(int argc, char **argv) {
    void *h = dlopen("libm.so.6", RTLD_NOW);
    SHOWP("dlopen libm", h);
    SHOWP("dlopen missing", dlopen("/no/such/lib.so", RTLD_NOW));
    if (argc > 1) {
        /* argv[1]: libdlopen_outer.so, whose RUNPATH finds the inner one */
        void *outer = dlopen(argv[1], RTLD_NOW);
        SHOWP("dlopen outer", outer);
        int (*load)(void) = outer ? (int (*)(void))dlsym(outer, "outer_load") : NULL;
        printf("outer_load = %d\n", load ? load() : -3);
    }
    return 0;
}
