/* What the hook does itself under `record --complete=always` (the fast
 * lane, recorder/hook/direct.c) must answer exactly as libc does: results,
 * errno, the resolved names (printed relative to the cwd) and the file
 * contents. Then one open made with a raw system call, which only the
 * seccomp supervisor can see. Scratch dir: in.txt, link -> in.txt, sub/. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "probe.h"

static char cwd[PATH_MAX];

/* A resolved name without the scratch dir, which differs between runs. */
static void show_path(const char *label, const char *p) {
    int e = errno;
    size_t n = strlen(cwd);
    if (!p)
        printf("%s = NULL errno=%d\n", label, e);
    else if (!strncmp(p, cwd, n))
        printf("%s = .%s\n", label, p + n);
    else
        printf("%s = %s\n", label, p);
    fflush(stdout);
}

static void show_file(const char *label, const char *path) {
    char buf[64] = "";
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = 0;
    if (f)
        fclose(f);
    printf("%s: [%s]\n", label, buf);
    fflush(stdout);
}

int main(void) {
    if (!getcwd(cwd, sizeof cwd))
        return 1;
    char buf[PATH_MAX];
    struct stat sb;

    /* realpath: a caller's buffer, malloc'd, failures, a pipe's name */
    errno = 0;
    show_path("realpath link", realpath("link", buf));
    char *m = realpath("sub/../in.txt", NULL);
    show_path("realpath malloc", m);
    free(m);
    m = canonicalize_file_name("./sub/");
    show_path("canonicalize", m);
    free(m);
    errno = 0;
    show_path("realpath missing", realpath("sub/none", buf));
    errno = 0;
    show_path("realpath through file", realpath("in.txt/x", buf));
    errno = 0;
    show_path("realpath empty", realpath("", buf));
    int pfd[2];
    if (pipe(pfd) == 0) {
        char fdpath[64];
        snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", pfd[0]);
        errno = 0;
        show_path("realpath pipe", realpath(fdpath, buf));
        close(pfd[0]);
        close(pfd[1]);
    }

    /* fopen's modes */
    FILE *f = fopen("made.txt", "w");
    SHOWP("fopen w", f);
    if (f) {
        fputs("one\n", f);
        fclose(f);
    }
    f = fopen("made.txt", "a+");
    SHOWP("fopen a+", f);
    if (f) {
        fputs("two\n", f);
        rewind(f);
        printf("a+ reads: %d\n", fgetc(f));
        fclose(f);
    }
    show_file("made.txt", "made.txt");
    SHOWP("fopen wx existing", fopen("made.txt", "wx"));
    f = fopen("made.txt", "r+e");
    SHOWP("fopen r+e", f);
    if (f) {
        printf("cloexec: %d\n", (fcntl(fileno(f), F_GETFD) & FD_CLOEXEC) != 0);
        fclose(f);
    }
    SHOWP("fopen bad mode", fopen("made.txt", "z"));
    SHOWP("fopen missing", fopen("sub/none", "r"));
    SHOWP("fopen dir for writing", fopen("sub", "w"));

    /* opendir */
    DIR *d = opendir("sub");
    SHOWP("opendir", d);
    if (d) {
        printf("cloexec: %d\n", (fcntl(dirfd(d), F_GETFD) & FD_CLOEXEC) != 0);
        closedir(d);
    }
    SHOWP("opendir file", opendir("in.txt"));

    /* one-call functions and their flags */
    SHOW("faccessat AT_EACCESS", faccessat(AT_FDCWD, "in.txt", R_OK, AT_EACCESS));
    SHOW("faccessat AT_SYMLINK_NOFOLLOW", faccessat(AT_FDCWD, "link", F_OK, AT_SYMLINK_NOFOLLOW));
    SHOW("eaccess missing", eaccess("none", F_OK));
    SHOW("creat", creat("c.txt", 0600));
    SHOW("stat c.txt", stat("c.txt", &sb));
    printf("mode: %o\n", (unsigned)(sb.st_mode & 07777 & ~022));
    SHOW("chmod", chmod("c.txt", 0640));
    SHOW("fchmodat nofollow", fchmodat(AT_FDCWD, "link", 0644, AT_SYMLINK_NOFOLLOW));
    SHOW("truncate", truncate("made.txt", 3));
    show_file("truncated", "made.txt");
    SHOW("rename", rename("c.txt", "d.txt"));
    SHOW("renameat2 noreplace", renameat2(AT_FDCWD, "d.txt", AT_FDCWD, "in.txt", RENAME_NOREPLACE));
    SHOW("link", link("d.txt", "e.txt"));
    SHOW("symlink", symlink("d.txt", "f.txt"));
    SHOW("readlink", readlink("f.txt", buf, sizeof buf));
    SHOW("mkdir", mkdir("newdir", 0755));
    SHOW("mkdir again", mkdir("newdir", 0755));
    SHOW("rmdir", rmdir("newdir"));
    SHOW("unlink", unlink("e.txt"));
    SHOW("unlink missing", unlink("e.txt"));
    const char *volatile nopath = NULL; /* glibc refuses it; the kernel would not */
    SHOW("utimensat NULL path", utimensat(AT_FDCWD, nopath, NULL, 0));
    SHOW("utimensat", utimensat(AT_FDCWD, "d.txt", NULL, 0));
    SHOW("chdir", chdir("sub"));
    show_path("cwd after chdir", getcwd(buf, sizeof buf));
    SHOW("chdir back", chdir(".."));

    /* Past libc: only the supervisor sees it. */
    long fd = syscall(SYS_openat, AT_FDCWD, "raw.txt", O_RDONLY | O_CLOEXEC);
    SHOW("raw openat", fd);
    if (fd >= 0)
        close((int)fd);
    return 0;
}
