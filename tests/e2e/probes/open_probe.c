/* The open family, success and failure, relative paths and dirfds. Run in
 * a scratch directory holding a file `in.txt` and a directory `sub`. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "probe.h"

int main(void) {
    int dfd = open("sub", O_RDONLY | O_DIRECTORY);
    SHOW("open dir", dfd);
    SHOW("open in.txt", open("in.txt", O_RDONLY));
    SHOW("open missing", open("missing.txt", O_RDONLY));
    SHOW("open64 in.txt", open64("./in.txt", O_RDONLY));
    SHOW("openat sub/../in.txt", openat(dfd, "../in.txt", O_RDONLY));
    SHOW("openat missing", openat(dfd, "nope", O_RDONLY));
    SHOW("openat create", openat(dfd, "made.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644));
    SHOW("creat", creat("created.txt", 0600));
    SHOWP("fopen r", fopen("in.txt", "r"));
    SHOWP("fopen missing", fopen("missing2.txt", "r"));
    SHOWP("fopen w", fopen("written.txt", "w"));
    SHOWP("fopen64 a+", fopen64("appended.txt", "a+"));
    SHOWP("freopen", freopen("in.txt", "r", stdin));
    char tmpl[] = "tmpXXXXXX";
    SHOW("mkstemp", mkstemp(tmpl));
    return 0;
}
