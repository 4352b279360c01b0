/* placeholder: being written. Until then the command says so. */
#include <stdio.h>

#include <cordon/cli.h>

int cordon_cmd_import(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fputs("cordon import: not implemented yet\n", stderr);
    return CORDON_EXIT_FAILURE;
}
