/* Hostile archives: each breaks one rule of cordon_unpack. Every case but
 * the one about it carries a valid .cordon/contents first, so that the
 * rule under test is the one that fires. Built into test_replayer, and as
 * the program `mkhostile DIR` to seed a fuzzing corpus. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <xxhash.h>

#include "mkhostile.h"

const struct mkhostile_case mkhostile_cases[] = {
    {"dotdot", EINVAL, "'..' in the name"},
    {"absolute", EINVAL, "absolute name"},
    {"symlink-escape", EINVAL, "climbs out of the root"},
    {"through-symlink", EINVAL, "written through the symlink 'a'"},
    {"device", EINVAL, "a device node"},
    {"fifo", EINVAL, "a fifo"},
    {"setuid", EINVAL, "setuid or setgid"},
    {"hardlink-out", EINVAL, "outside the root"},
    {"hardlink-later", EINVAL, "not an earlier file"},
    {"truncated", EINVAL, "truncated or corrupt"},
    {"bad-hash", EBADMSG, "'f' does not match its hash"},
    {"not-listed", EBADMSG, "'f' has content but is not listed"},
    {"no-contents", EBADMSG, "'f' comes before .cordon/contents"},
    {"listed-missing", EBADMSG, "'g' is listed in .cordon/contents but missing"},
    {"bad-contents", EINVAL, ".cordon/contents line 1"},
    {"duplicate", EINVAL, "duplicate entry"},
};
const size_t mkhostile_n_cases = sizeof mkhostile_cases / sizeof mkhostile_cases[0];

static void hex_of(const char *data, size_t n, char out[33]) {
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(data, n));
    for (int i = 0; i < 16; i++)
        sprintf(out + 2 * i, "%02x", c.digest[i]);
}

struct w {
    struct archive *a;
    struct archive_entry *e;
};

static int put(struct w *w, const char *name, mode_t type, unsigned perm, const char *data,
               size_t n, const char *link, const char *hardlink) {
    archive_entry_clear(w->e);
    archive_entry_set_pathname(w->e, name);
    if (!hardlink)
        archive_entry_set_filetype(w->e, type);
    else
        archive_entry_set_filetype(w->e, AE_IFREG);
    archive_entry_set_perm(w->e, perm);
    archive_entry_set_size(w->e, (la_int64_t)n);
    if (link)
        archive_entry_set_symlink(w->e, link);
    if (hardlink)
        archive_entry_set_hardlink(w->e, hardlink);
    if (type == AE_IFCHR)
        archive_entry_set_rdev(w->e, makedev(1, 3));
    if (archive_write_header(w->a, w->e) < ARCHIVE_WARN)
        return -1;
    if (n && archive_write_data(w->a, data, n) < 0)
        return -1;
    return 0;
}

static int file(struct w *w, const char *name, const char *data) {
    return put(w, name, AE_IFREG, 0644, data, strlen(data), NULL, NULL);
}

/* An index listing `name` with the hash of `data` (none when name is NULL). */
static int contents(struct w *w, const char *name, const char *data) {
    char line[512] = "";
    if (name) {
        char hex[33];
        hex_of(data, strlen(data), hex);
        snprintf(line, sizeof line, "%s %s\n", hex, name);
    }
    if (put(w, ".cordon", AE_IFDIR, 0755, NULL, 0, NULL, NULL) < 0)
        return -1;
    return file(w, ".cordon/contents", line);
}

int mkhostile_write(const char *name, const char *path) {
    struct w w = {archive_write_new(), archive_entry_new()};
    int r = -1;
    if (!w.a || !w.e)
        goto out;
    archive_write_set_format_pax_restricted(w.a);
    if (archive_write_open_filename(w.a, path) != ARCHIVE_OK)
        goto out;
    static char big[200000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i * 7 % 26);
    big[sizeof big - 1] = '\0';

    if (strcmp(name, "dotdot") == 0)
        r = contents(&w, NULL, NULL) < 0 || file(&w, "../evil", "") < 0 ? -1 : 0;
    else if (strcmp(name, "absolute") == 0)
        r = contents(&w, NULL, NULL) < 0 || file(&w, MKHOSTILE_ABSOLUTE, "") < 0 ? -1 : 0;
    else if (strcmp(name, "symlink-escape") == 0)
        r = contents(&w, NULL, NULL) < 0 ||
                    put(&w, "d/link", AE_IFLNK, 0777, NULL, 0, "../../etc", NULL) < 0
                ? -1
                : 0;
    else if (strcmp(name, "through-symlink") == 0)
        r = contents(&w, NULL, NULL) < 0 ||
                    put(&w, "a", AE_IFLNK, 0777, NULL, 0, MKHOSTILE_CANARY, NULL) < 0 ||
                    file(&w, "a/passwd", "") < 0
                ? -1
                : 0;
    else if (strcmp(name, "device") == 0)
        r = contents(&w, NULL, NULL) < 0 || put(&w, "null", AE_IFCHR, 0666, NULL, 0, NULL, NULL)
                ? -1
                : 0;
    else if (strcmp(name, "fifo") == 0)
        r = contents(&w, NULL, NULL) < 0 || put(&w, "p", AE_IFIFO, 0644, NULL, 0, NULL, NULL) ? -1
                                                                                              : 0;
    else if (strcmp(name, "setuid") == 0)
        r = contents(&w, "su", "#!") < 0 || put(&w, "su", AE_IFREG, 04755, "#!", 2, NULL, NULL) ? -1
                                                                                                : 0;
    else if (strcmp(name, "hardlink-out") == 0)
        r = contents(&w, NULL, NULL) < 0 ||
                    put(&w, "h", AE_IFREG, 0644, NULL, 0, NULL, "../../etc/passwd") < 0
                ? -1
                : 0;
    else if (strcmp(name, "hardlink-later") == 0)
        r = contents(&w, "x", "x") < 0 || put(&w, "h", AE_IFREG, 0644, NULL, 0, NULL, "x") < 0 ||
                    file(&w, "x", "x") < 0
                ? -1
                : 0;
    else if (strcmp(name, "truncated") == 0)
        r = contents(&w, "big", big) < 0 || file(&w, "big", big) < 0 ? -1 : 0;
    else if (strcmp(name, "bad-hash") == 0)
        r = contents(&w, "f", "hello") < 0 || file(&w, "f", "HELLO") < 0 ? -1 : 0;
    else if (strcmp(name, "not-listed") == 0)
        r = contents(&w, NULL, NULL) < 0 || file(&w, "f", "data") < 0 ? -1 : 0;
    else if (strcmp(name, "no-contents") == 0)
        r = file(&w, "f", "data");
    else if (strcmp(name, "listed-missing") == 0)
        r = contents(&w, "g", "data");
    else if (strcmp(name, "bad-contents") == 0)
        r = put(&w, ".cordon/contents", AE_IFREG, 0644, "nothex f\n", 9, NULL, NULL) < 0 ||
                    file(&w, "f", "")
                ? -1
                : 0;
    else if (strcmp(name, "duplicate") == 0)
        r = contents(&w, NULL, NULL) < 0 || put(&w, "d", AE_IFDIR, 0755, NULL, 0, NULL, NULL) ||
                    put(&w, "d", AE_IFLNK, 0777, NULL, 0, "/etc", NULL)
                ? -1
                : 0;
    else if (strcmp(name, "good") == 0) {
        /* Not hostile, only unusual: a file before its directory's entry,
         * an absolute symlink, a placeholder that stores zeros, a hard link. */
        static const char zeros[64];
        char hex[33], index[128];
        hex_of("data", 4, hex);
        snprintf(index, sizeof index, "%s d/f\n%s d/g\n", hex, hex);
        r = put(&w, ".cordon", AE_IFDIR, 0755, NULL, 0, NULL, NULL) < 0 ||
                    file(&w, ".cordon/contents", index) < 0 || file(&w, "d/f", "data") < 0 ||
                    put(&w, "d", AE_IFDIR, 01777, NULL, 0, NULL, NULL) < 0 ||
                    put(&w, "abs", AE_IFLNK, 0777, NULL, 0, "/etc/passwd", NULL) < 0 ||
                    put(&w, "zeros", AE_IFREG, 0600, zeros, sizeof zeros, NULL, NULL) < 0 ||
                    put(&w, "d/g", AE_IFREG, 0644, NULL, 0, NULL, "d/f") < 0
                ? -1
                : 0;
    } else
        errno = ENOENT;
    if (archive_write_close(w.a) != ARCHIVE_OK)
        r = -1;
    if (r == 0 && strcmp(name, "truncated") == 0) {
        struct stat st;
        if (stat(path, &st) < 0 || truncate(path, st.st_size / 2) < 0)
            r = -1;
    }
out:
    archive_write_free(w.a);
    archive_entry_free(w.e);
    return r;
}

#ifdef MKHOSTILE_MAIN
int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: mkhostile DIR\n");
        return 2;
    }
    for (size_t i = 0; i < mkhostile_n_cases; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.tar", argv[1], mkhostile_cases[i].name);
        if (mkhostile_write(mkhostile_cases[i].name, path) < 0) {
            fprintf(stderr, "mkhostile: cannot write '%s': %s\n", path, strerror(errno));
            return 1;
        }
    }
    return 0;
}
#endif
