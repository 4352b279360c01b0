#include "config.h"
#include "hello.h"

#include <stdio.h>
#ifdef HAVE_STRING_H
#include <string.h>
#endif

const char *hello_greeting(const char *name) {
    static char buf[256];
    snprintf(buf, sizeof buf, "hello, %s", name && *name ? name : "world");
    return buf;
}

const char *hello_version(void) {
    return HELLO_VERSION;
}
