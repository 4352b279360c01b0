/* A library with RUNPATH $ORIGIN/inner that dlopens a bare name found only
 * there: glibc searches the caller's RUNPATH, so the hook must not become
 * the caller. */
#include <dlfcn.h>

int outer_load(void);
int outer_load(void) {
    void *h = dlopen("libdlopen_inner.so", RTLD_NOW);
    if (!h)
        return -1;
    int (*f)(void) = (int (*)(void))dlsym(h, "inner_value");
    return f ? f() : -2;
}
