/* Linked -static: no hook runs in it; the exec of it must be flagged. */
#include <stdio.h>

int main(int argc, char **argv) {
    printf("static argc=%d %s\n", argc, argc > 1 ? argv[1] : "");
    return 0;
}
