/* Built with -D_FORTIFY_SOURCE=2 -O2: open with flags the compiler cannot
 * see becomes __open_2 / __openat_2. */
#include <fcntl.h>
#include <unistd.h>

#include "probe.h"

int main(int argc, char **argv) {
    (void)argv;
    int flags = argc > 5 ? O_WRONLY : O_RDONLY;
    SHOW("open_2 in.txt", open("in.txt", flags));
    SHOW("open_2 missing", open("fortify-missing", flags));
    SHOW("openat_2 in.txt", openat(AT_FDCWD, "in.txt", flags));
    return 0;
}
