/* The stat family, access, readlink and realpath. Scratch dir: in.txt,
 * link -> in.txt. */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probe.h"

int main(void) {
    struct stat sb;
    struct statx sx;
    char buf[PATH_MAX];
    SHOW("stat in.txt", stat("in.txt", &sb));
    SHOW("stat missing", stat("st-missing", &sb));
    SHOW("lstat link", lstat("link", &sb));
    SHOW("fstatat", fstatat(AT_FDCWD, "in.txt", &sb, AT_SYMLINK_NOFOLLOW));
    SHOW("statx", statx(AT_FDCWD, "in.txt", 0, STATX_BASIC_STATS, &sx));
    SHOW("statx missing", statx(AT_FDCWD, "sx-missing", 0, STATX_BASIC_STATS, &sx));
    SHOW("access", access("in.txt", R_OK));
    SHOW("access missing", access("ac-missing", R_OK));
    SHOW("faccessat", faccessat(AT_FDCWD, "in.txt", R_OK, 0));
    SHOW("euidaccess", euidaccess("in.txt", R_OK));
    SHOW("readlink", readlink("link", buf, sizeof buf));
    SHOW("readlink missing", readlink("rl-missing", buf, sizeof buf));
    SHOWP("realpath link", realpath("link", buf));
    SHOWP("realpath missing", realpath("rp-missing", buf));
    return 0;
}
