/* Listings: opendir, fdopendir, scandir, nftw with FTW_CHDIR (whose
 * callback opens a relative name after nftw moved the cwd), fts_open. */
#include <dirent.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <stdlib.h>
#include <unistd.h>

#include "probe.h"

static int visit(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
    (void)path;
    (void)sb;
    (void)ftw;
    if (type == FTW_F) {
        int fd = open(path + ftw->base, O_RDONLY); /* relative to the moved cwd */
        if (fd >= 0)
            close(fd);
    }
    return 0;
}

int main(void) {
    DIR *d = opendir("sub");
    SHOWP("opendir", d);
    if (d)
        closedir(d);
    SHOWP("opendir missing", opendir("no-dir"));
    int fd = open("sub", O_RDONLY | O_DIRECTORY);
    d = fdopendir(fd);
    SHOWP("fdopendir", d);
    if (d)
        closedir(d);
    struct dirent **list;
    int n = scandir(".", &list, NULL, alphasort);
    SHOW("scandir", n > 0 ? 1 : n);
    SHOW("nftw", nftw("sub", visit, 4, FTW_CHDIR | FTW_PHYS));
    char *roots[] = {"sub", NULL};
    FTS *f = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
    SHOWP("fts_open", f);
    if (f)
        fts_close(f);
    return 0;
}
