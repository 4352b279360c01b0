/* Writes: mkdir, rename, link, symlink, truncate, chmod, utimes, unlink,
 * rmdir, success and failure. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "probe.h"

int main(void) {
    SHOW("mkdir", mkdir("newdir", 0755));
    SHOW("mkdir exists", mkdir("newdir", 0755));
    int fd = open("newdir/f", O_WRONLY | O_CREAT, 0644);
    if (fd >= 0)
        close(fd);
    SHOW("rename", rename("newdir/f", "newdir/g"));
    SHOW("rename missing", rename("newdir/f", "newdir/h"));
    SHOW("link", link("newdir/g", "newdir/hard"));
    SHOW("symlink", symlink("g", "newdir/soft"));
    SHOW("truncate", truncate("newdir/g", 10));
    SHOW("chmod", chmod("newdir/g", 0600));
    SHOW("utimes", utimes("newdir/g", NULL));
    SHOW("unlink", unlink("newdir/g"));
    SHOW("unlink missing", unlink("newdir/g"));
    SHOW("unlinkat", unlinkat(AT_FDCWD, "newdir/hard", 0));
    SHOW("unlink soft", unlink("newdir/soft"));
    SHOW("rmdir", rmdir("newdir"));
    return 0;
}
