/* Shared by the probes: print a call's result and errno, the line the
 * test compares with and without the hook. */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define SHOW(label, expr)                                                                          \
    do {                                                                                           \
        errno = 0;                                                                                 \
        long r_ = (long)(expr);                                                                    \
        int e_ = errno;                                                                            \
        printf("%s = %ld errno=%d\n", label, r_<0 ? -1L : r_> 0 ? 1L : 0L, r_ < 0 ? e_ : 0);       \
        fflush(stdout);                                                                            \
    } while (0)

#define SHOWP(label, expr)                                                                         \
    do {                                                                                           \
        errno = 0;                                                                                 \
        const void *p_ = (const void *)(expr);                                                     \
        int e_ = errno;                                                                            \
        printf("%s = %s errno=%d\n", label, p_ ? "ok" : "NULL", p_ ? 0 : e_);                      \
        fflush(stdout);                                                                            \
    } while (0)
