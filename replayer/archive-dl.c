/* libarchive loaded on first use: archive-dl.h says why. */
#define CORDON_ARCHIVE_DL_IMPL
#include "archive-dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <cordon/error.h>

/* CMake passes the SONAME of the libarchive it found; 13 is libarchive 3's
 * (Debian 12's package is libarchive13). */
#ifndef CORDON_LIBARCHIVE_SONAME
#define CORDON_LIBARCHIVE_SONAME "libarchive.so.13"
#endif

struct cordon_archive_fns cordon_archive_fn;

/* Written once under pthread_once, read-only afterwards. */
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_code;        /* 0, or a positive errno for cordon_error_set */
static char load_text[1024]; /* the message for a failure */

static void load(void) {
    /* RTLD_NOW: a library whose own dependencies are missing fails here,
     * with dlerror's message, rather than at some later call. Never
     * dlclosed: the table points into it for the rest of the process. */
    void *h = dlopen(CORDON_LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(load_text, sizeof load_text, "cannot load '%s': %s (install libarchive13)",
                 CORDON_LIBARCHIVE_SONAME, why ? why : "unknown error");
        /* cordon_error appends the code's strerror unless the text has it:
         * dlerror names ENOENT itself; anything else is a bad library. */
        load_code = why && strstr(why, strerror(ENOENT)) ? ENOENT : ELIBBAD;
        return;
    }
    struct cordon_archive_fns fns;
    /* dlsym returns void *: converting it to a function pointer is what
     * POSIX requires to work; memcpy keeps -Wpedantic quiet about it. */
#define X(name)                                                                                    \
    {                                                                                              \
        void *sym = dlsym(h, #name);                                                               \
        if (!sym) {                                                                                \
            snprintf(load_text, sizeof load_text, "'%s' has no function '%s'",                     \
                     CORDON_LIBARCHIVE_SONAME, #name);                                             \
            load_code = EBADMSG;                                                                   \
            return;                                                                                \
        }                                                                                          \
        _Static_assert(sizeof fns.name == sizeof sym, "function and data pointers differ");        \
        memcpy(&fns.name, &sym, sizeof sym);                                                       \
    }
    CORDON_ARCHIVE_FUNCTIONS(X)
#undef X
    cordon_archive_fn = fns;
}

int cordon_archive_load(struct cordon_error *err) {
    int r = pthread_once(&load_once, load);
    if (r != 0)
        return cordon_error_set(err, r, NULL, 0, 0, "cannot load '%s'", CORDON_LIBARCHIVE_SONAME);
    if (load_code)
        return cordon_error_set(err, load_code, NULL, 0, 0, "%s", load_text);
    return 0;
}
