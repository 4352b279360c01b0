/* placeholder: being written. Until then the command says so. */
#include <stdio.h>

#include <cordon/cli.h>

int cordon_cmd_run(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fputs("cordon run: not implemented yet\n", stderr);
    return CORDON_EXIT_FAILURE;
}
