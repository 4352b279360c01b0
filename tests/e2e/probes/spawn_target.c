/* Linked -static by tests/e2e/record-static-spawn.sh: prints its argv[0]
 * and the first line of FILE, whether it leads its process group, and exits
 * with STATUS, so that the test sees that a spawned static program kept its
 * argv, its exit status and its spawn attributes, and that its read was
 * recorded.
 *
 *   spawn_target FILE STATUS */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3)
        return 2;
    printf("target argv0=%s\n", argv[0]);
    printf("target pgrp-leader=%d\n", getpgrp() == getpid());
    FILE *f = fopen(argv[1], "r");
    if (!f)
        return perror(argv[1]), 3;
    char line[256];
    if (fgets(line, sizeof line, f))
        printf("target read: %s", line);
    fclose(f);
    fflush(stdout);
    return atoi(argv[2]);
}
