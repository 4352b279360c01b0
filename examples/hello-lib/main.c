#include "hello.h"

#include <stdio.h>

int main(int argc, char **argv) {
    printf("%s (libhello %s)\n", hello_greeting(argc > 1 ? argv[1] : NULL), hello_version());
    return 0;
}
