/* Pack: a manifest built here over files in a temporary directory, packed,
 * unpacked and looked at. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <cordon/classify.h>
#include <cordon/error.h>
#include <cordon/hash.h>
#include <cordon/manifest.h>
#include <cordon/pack.h>
#include <cordon/store.h>
#include <cordon/util.h>

static char T[256];

static bool is_dir(mode_t m) {
    return S_ISDIR(m);
}
static bool is_lnk(mode_t m) {
    return S_ISLNK(m);
}
static bool is_reg(mode_t m) {
    return S_ISREG(m);
}
static struct cordon_manifest *M;

#define MTIME 1700000000123456789LL

static void setup(void) {
    cr_assert(snprintf(T, sizeof T, "/tmp/cordon-pack-XXXXXX") < PATH_MAX);
    cr_assert(mkdtemp(T) != NULL);
}

static void teardown(void) {
    M = cordon_manifest_free(M);
    cordon_rm_rf(T);
}

TestSuite(replayer_pack, .init = setup, .fini = teardown);

static const char *tp(char *buf, const char *rel) {
    cr_assert(snprintf(buf, PATH_MAX, "%s/%s", T, rel) < PATH_MAX);
    return buf;
}

static void mkdirs(const char *rel) {
    char p[PATH_MAX];
    cr_assert(eq(int, cordon_mkdir_p(tp(p, rel), 0755), 0));
}

static void put_file(const char *rel, const char *content, unsigned mode) {
    char p[PATH_MAX];
    tp(p, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
    cr_assert(fd >= 0, "cannot create %s", p);
    cr_assert(eq(sz, (size_t)write(fd, content, strlen(content)), strlen(content)));
    fchmod(fd, mode);
    struct timespec ts[2] = {{.tv_sec = 1},
                             {.tv_sec = MTIME / 1000000000, .tv_nsec = MTIME % 1000000000}};
    futimens(fd, ts);
    close(fd);
}

static void put_link(const char *rel, const char *target) {
    char p[PATH_MAX];
    cr_assert(eq(int, symlink(target, tp(p, rel)), 0));
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        cordon_strbuf_addn(&sb, buf, n);
    fclose(f);
    if (len)
        *len = sb.len;
    return cordon_strbuf_detach(&sb);
}

/* An input for the host file at T/rel as it is now. */
static struct cordon_input *input(struct cordon_manifest *m, const char *rel, unsigned uses) {
    char p[PATH_MAX];
    tp(p, rel);
    struct cordon_input *in = cordon_manifest_add_input(m, p);
    cr_assert(in != NULL);
    in->uses = uses;
    struct stat st;
    if (lstat(p, &st) < 0) {
        in->type = CORDON_FT_MISSING;
        return in;
    }
    in->mode = st.st_mode & 07777;
    in->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    /* A link is a link only to readlink; opens and execs follow it, as the
     * recorder records them. */
    if (S_ISLNK(st.st_mode) && (uses & CORDON_USE_READLINK)) {
        in->type = CORDON_FT_SYMLINK;
        char t[PATH_MAX];
        ssize_t n = readlink(p, t, sizeof t - 1);
        t[n] = '\0';
        in->target = strdup(t);
        return in;
    }
    if (S_ISDIR(st.st_mode)) {
        in->type = CORDON_FT_DIR;
        return in;
    }
    /* Files are followed, as the recorder does for an open. */
    cr_assert(eq(int, stat(p, &st), 0));
    in->type = CORDON_FT_FILE;
    in->size = (uint64_t)st.st_size;
    in->mode = st.st_mode & 07777;
    in->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    int fd = open(p, O_RDONLY);
    cr_assert(eq(int, cordon_hash_fd(fd, &in->hash, NULL), 0));
    close(fd);
    in->has_hash = true;
    return in;
}

/* The usual small tree: a read file, a stat-only big file, a symlink chain
 * to a tool, a listed directory, a missing probe and a duplicate. */
static void make_tree(void) {
    mkdirs("host/data");
    mkdirs("host/bin");
    mkdirs("host/alt");
    mkdirs("host/dir/sub");
    mkdirs("home");
    put_file("host/data/read.txt", "hello\n", 0644);
    put_file("host/data/copy.txt", "hello\n", 0644);
    put_file("host/bin/real-tool", "#!/bin/sh\necho tool\n", 0755);
    put_link("host/bin/tool", "../alt/tool");
    char abs[PATH_MAX];
    put_link("host/alt/tool", tp(abs, "host/bin/real-tool"));
    char p[PATH_MAX];
    int fd = open(tp(p, "host/data/stat.bin"), O_WRONLY | O_CREAT, 0600);
    cr_assert(fd >= 0);
    cr_assert(eq(int, ftruncate(fd, 1 << 20), 0));
    cr_assert(eq(sz, (size_t)pwrite(fd, "x", 1, 4096), 1));
    close(fd);
}

static struct cordon_manifest *make_manifest(bool reversed) {
    struct cordon_manifest *m = cordon_manifest_new();
    cr_assert(m != NULL);
    static const struct {
        const char *rel;
        unsigned uses;
    } ins[] = {
        {"host/data/read.txt", CORDON_USE_READ}, {"host/data/copy.txt", CORDON_USE_READ},
        {"host/data/stat.bin", CORDON_USE_STAT}, {"host/bin/tool", CORDON_USE_EXEC},
        {"host/dir", CORDON_USE_LIST},           {"host/missing", CORDON_USE_PROBE},
    };
    size_t n = sizeof ins / sizeof ins[0];
    for (size_t i = 0; i < n; i++) {
        size_t k = reversed ? n - 1 - i : i;
        input(m, ins[k].rel, ins[k].uses);
    }
    char p[PATH_MAX];
    struct cordon_output *o = cordon_manifest_add_output(m, tp(p, "host/out/obj/a.o"));
    cr_assert(o != NULL);
    o->type = CORDON_FT_FILE;
    m->worktree = strdup(tp(p, "host"));
    m->command.cwd = strdup(tp(p, "host"));
    char *argv[] = {"make", NULL};
    m->command.argv = cordon_strv_copy(argv);
    char home[PATH_MAX + 8];
    cr_assert(snprintf(home, sizeof home, "HOME=%s/home", T) < PATH_MAX);
    char *env[] = {home, NULL};
    m->command.env = cordon_strv_copy(env);
    cordon_manifest_sort(m);
    return m;
}

struct warnings {
    char text[4096];
    int n;
};

static void collect(void *ctx, const char *text) {
    struct warnings *w = ctx;
    w->n++;
    strncat(w->text, text, sizeof w->text - strlen(w->text) - 2);
    strcat(w->text, "\n");
}

static int do_pack(const char *out, enum cordon_pack_format f, struct cordon_pack_stats *st,
                   struct warnings *w, struct cordon_error *err) {
    char store[PATH_MAX];
    struct cordon_pack_options o = {
        .manifest = M,
        .output = out,
        .format = f,
        .store = tp(store, "store"),
        .quiet = true,
    };
    return cordon_pack(&o, st, w ? collect : NULL, w, err);
}

static char *rootpath(char *buf, const char *rel) {
    /* The root mirrors the host: T/host/x is at ROOT/T/host/x. */
    cr_assert(snprintf(buf, PATH_MAX, "%s/root%s/%s", T, T, rel) < PATH_MAX);
    return buf;
}

Test(replayer_pack, round_trip_keeps_content_placeholders_links_and_dirs) {
    make_tree();
    M = make_manifest(false);
    char out[PATH_MAX], root[PATH_MAX], p[PATH_MAX];
    struct cordon_pack_stats st = {0};
    struct cordon_error err = {0};
    int r = do_pack(tp(out, "root.tar.zst"), CORDON_PACK_TAR_ZSTD, &st, NULL, &err);
    cr_assert(eq(int, r, 0), "%s", err.text);
    cr_assert(eq(u64, st.files, 3), "read.txt, copy.txt and real-tool");
    cr_assert(eq(u64, st.sparse, 1));
    cr_assert(eq(u64, st.symlinks, 2));
    cr_assert(eq(u64, st.bytes, 6 + 20), "the duplicate is stored once");

    struct cordon_unpack_options u = {.archive = out, .dest = tp(root, "root")};
    r = cordon_unpack(&u, &err);
    cr_assert(eq(int, r, 0), "%s: %s", err.path, err.text);

    char *s = slurp(rootpath(p, "host/data/read.txt"), NULL);
    cr_assert(eq(str, s ? s : "(none)", "hello\n"));
    free(s);
    struct stat a, b;
    cr_assert(eq(int, stat(p, &a), 0));
    cr_assert(eq(u32, a.st_mode & 07777, 0644));
    cr_assert(eq(i64, (int64_t)a.st_mtim.tv_sec * 1000000000LL + a.st_mtim.tv_nsec, MTIME));
    cr_assert(eq(int, stat(rootpath(p, "host/data/copy.txt"), &b), 0));
    cr_assert(eq(u64, a.st_ino, b.st_ino), "identical files are one inode");

    cr_assert(eq(int, stat(rootpath(p, "host/data/stat.bin"), &a), 0));
    cr_assert(eq(i64, a.st_size, 1 << 20));
    cr_assert(lt(i64, a.st_blocks, 16), "a placeholder takes no space (%ld blocks)",
              (long)a.st_blocks);
    s = slurp(p, NULL);
    cr_assert(s && s[4096] == '\0', "a placeholder holds no bytes");
    free(s);

    char t[PATH_MAX];
    ssize_t n = readlink(rootpath(p, "host/bin/tool"), t, sizeof t - 1);
    cr_assert(gt(sz, (size_t)(n + 1), 1));
    t[n] = '\0';
    cr_assert(eq(str, t, "../alt/tool"), "symlink text kept verbatim");
    n = readlink(rootpath(p, "host/alt/tool"), t, sizeof t - 1);
    cr_assert(gt(sz, (size_t)(n + 1), 1));
    t[n] = '\0';
    char want[PATH_MAX];
    cr_assert(eq(str, t, (char *)tp(want, "host/bin/real-tool")));
    s = slurp(rootpath(p, "host/bin/real-tool"), NULL);
    cr_assert(eq(str, s ? s : "(none)", "#!/bin/sh\necho tool\n"));
    free(s);
    cr_assert(eq(int, stat(p, &a), 0));
    cr_assert(eq(u32, a.st_mode & 0777, 0755));

    cr_assert(eq(int, lstat(rootpath(p, "host/dir"), &a), 0));
    cr_assert(is_dir(a.st_mode));
    cr_assert(ne(int, lstat(rootpath(p, "host/dir/sub"), &a), 0), "only what was used");
    cr_assert(ne(int, lstat(rootpath(p, "host/missing"), &a), 0));
    cr_assert(eq(int, lstat(rootpath(p, "host/out/obj"), &a), 0), "outputs' parents");
    cr_assert(is_dir(a.st_mode));

    cr_assert(snprintf(p, sizeof p, "%s/.cordon/manifest.json", root) < PATH_MAX);
    s = slurp(p, NULL);
    cr_assert(s && strstr(s, "read.txt"));
    free(s);
    cr_assert(snprintf(p, sizeof p, "%s/.cordon/contents", root) < PATH_MAX);
    s = slurp(p, NULL);
    cr_assert(s && strstr(s, "/host/data/copy.txt\n") && strstr(s, ".cordon/manifest.json\n"));
    cr_assert(strstr(s, "stat.bin") == NULL, "placeholders are not listed");
    free(s);
}

static bool same_file(const char *a, const char *b) {
    size_t na, nb;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    bool same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

Test(replayer_pack, same_manifest_gives_the_same_bytes) {
    make_tree();
    static const char *const names[] = {"a.tar.zst", "a.tar", "a.tar.gz"};
    for (int f = CORDON_PACK_TAR_ZSTD; f <= CORDON_PACK_TAR_GZ; f++) {
        char one[PATH_MAX], two[PATH_MAX], base[64];
        struct cordon_error err = {0};
        M = cordon_manifest_free(M);
        M = make_manifest(false);
        cr_assert(snprintf(base, sizeof base, "1-%s", names[f]) < PATH_MAX);
        cr_assert(eq(int, do_pack(tp(one, base), f, NULL, NULL, &err), 0), "%s", err.text);
        /* Another insertion order, and a later second (gzip keeps a time
         * unless told not to). */
        sleep(f == CORDON_PACK_TAR_GZ ? 1 : 0);
        M = cordon_manifest_free(M);
        M = make_manifest(true);
        cr_assert(snprintf(base, sizeof base, "2-%s", names[f]) < PATH_MAX);
        cr_assert(eq(int, do_pack(tp(two, base), f, NULL, NULL, &err), 0), "%s", err.text);
        cr_assert(same_file(one, two), "%s differs between two packs", names[f]);
    }
}

Test(replayer_pack, headers_hold_no_owner_names_and_sorted_paths) {
    make_tree();
    M = make_manifest(false);
    char out[PATH_MAX];
    struct cordon_error err = {0};
    cr_assert(eq(int, do_pack(tp(out, "x.tar"), CORDON_PACK_TAR, NULL, NULL, &err), 0), "%s",
              err.text);
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    cr_assert(eq(int, archive_read_open_filename(a, out, 10240), ARCHIVE_OK));
    struct archive_entry *e;
    char prev[PATH_MAX] = "";
    int n = 0;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        char clean[PATH_MAX];
        cr_assert(snprintf(clean, sizeof clean, "%s", name) < PATH_MAX);
        size_t l = strlen(clean);
        if (l > 1 && clean[l - 1] == '/')
            clean[l - 1] = '\0';
        if (n == 0)
            cr_assert(eq(str, clean, ".cordon"));
        if (n == 1)
            cr_assert(eq(str, clean, ".cordon/contents"), "the index before every file");
        bool dot = strncmp(clean, ".cordon", 7) == 0, pdot = strncmp(prev, ".cordon", 7) == 0;
        if (dot == pdot)
            cr_assert(lt(int, strcmp(prev, clean), 0), "'%s' after '%s'", clean, prev);
        cr_assert(eq(i64, archive_entry_uid(e), 0));
        cr_assert(eq(i64, archive_entry_gid(e), 0));
        cr_assert(archive_entry_uname(e) == NULL || !*archive_entry_uname(e));
        cr_assert(archive_entry_gname(e) == NULL || !*archive_entry_gname(e));
        cr_assert(not(archive_entry_atime_is_set(e)));
        cr_assert(not(archive_entry_ctime_is_set(e)));
        cr_assert(not(archive_entry_birthtime_is_set(e)));
        cr_assert(snprintf(prev, sizeof prev, "%s", clean) < PATH_MAX);
        n++;
    }
    archive_read_free(a);
    cr_assert(gt(int, n, 10));
}

Test(replayer_pack, a_file_changed_since_the_recording_is_an_error_naming_it) {
    make_tree();
    M = make_manifest(false);
    put_file("host/data/read.txt", "HELLO\n", 0644);
    char out[PATH_MAX], p[PATH_MAX];
    struct cordon_error err = {0};
    int r = do_pack(tp(out, "x.tar.zst"), CORDON_PACK_TAR_ZSTD, NULL, NULL, &err);
    cr_assert(eq(int, r, -EBADMSG));
    cr_assert(strstr(err.text, tp(p, "host/data/read.txt")) != NULL, "%s", err.text);
    cr_assert(strstr(err.text, "changed since it was recorded") != NULL, "%s", err.text);
    struct stat st;
    cr_assert(ne(int, stat(out, &st), 0), "no archive left behind");
}

Test(replayer_pack, changed_files_come_from_the_store) {
    make_tree();
    M = make_manifest(false);
    char store[PATH_MAX], p[PATH_MAX], out[PATH_MAX], root[PATH_MAX];
    struct cordon_hash h;
    struct cordon_error err = {0};
    cr_assert(eq(int,
                 cordon_store_add_file(tp(store, "store"), tp(p, "host/data/read.txt"), &h, &err),
                 0),
              "%s", err.text);
    put_file("host/data/read.txt", "HELLO\n", 0644);
    cr_assert(eq(int, do_pack(tp(out, "x.tar.zst"), CORDON_PACK_TAR_ZSTD, NULL, NULL, &err), 0),
              "%s", err.text);
    struct cordon_unpack_options u = {.archive = out, .dest = tp(root, "root")};
    cr_assert(eq(int, cordon_unpack(&u, &err), 0), "%s", err.text);
    char *s = slurp(rootpath(p, "host/data/read.txt"), NULL);
    cr_assert(eq(str, s ? s : "(none)", "hello\n"), "the content as recorded");
    free(s);
}

Test(replayer_pack, unhashed_content_is_an_error_unless_unneeded) {
    make_tree();
    M = make_manifest(false);
    char p[PATH_MAX], out[PATH_MAX];
    struct cordon_input *in =
        (struct cordon_input *)cordon_manifest_find_input(M, tp(p, "host/data/read.txt"));
    cr_assert(in != NULL);
    in->flags |= CORDON_INPUT_UNHASHED;
    in->has_hash = false;
    struct cordon_error err = {0};
    cr_assert(eq(int, do_pack(tp(out, "x.tar"), CORDON_PACK_TAR, NULL, NULL, &err), -ENODATA));
    cr_assert(strstr(err.text, p) != NULL, "%s", err.text);
    in->uses = CORDON_USE_STAT;
    cr_assert(eq(int, do_pack(out, CORDON_PACK_TAR, NULL, NULL, &err), 0), "%s", err.text);
}

static bool archive_has(const char *archive, const char *suffix) {
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    archive_read_support_filter_all(a);
    bool found = false;
    if (archive_read_open_filename(a, archive, 10240) == ARCHIVE_OK) {
        struct archive_entry *e;
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
            const char *n = archive_entry_pathname(e);
            size_t ln = strlen(n), ls = strlen(suffix);
            if (ln >= ls && strcmp(n + ln - ls, suffix) == 0)
                found = true;
        }
    }
    archive_read_free(a);
    return found;
}

Test(replayer_pack, credentials_are_left_out_with_a_warning_unless_included) {
    make_tree();
    put_file("home/.netrc", "machine x login y password z\n", 0600);
    M = make_manifest(false);
    input(M, "home/.netrc", CORDON_USE_READ);
    cordon_manifest_sort(M);
    char out[PATH_MAX];
    struct cordon_pack_stats st = {0};
    struct warnings w = {0};
    struct cordon_error err = {0};
    cr_assert(eq(int, do_pack(tp(out, "x.tar"), CORDON_PACK_TAR, &st, &w, &err), 0), "%s",
              err.text);
    cr_assert(strstr(w.text, "/home/.netrc") != NULL, "warnings: %s", w.text);
    cr_assert(eq(u64, st.dropped, 1));
    cr_assert(not(archive_has(out, "/.netrc")));

    char store[PATH_MAX];
    struct cordon_pack_options o = {.manifest = M,
                                    .output = out,
                                    .format = CORDON_PACK_TAR,
                                    .store = tp(store, "store"),
                                    .include_credentials = true,
                                    .quiet = true};
    cr_assert(eq(int, cordon_pack(&o, &st, NULL, NULL, &err), 0), "%s", err.text);
    cr_assert(archive_has(out, "/.netrc"));
}

Test(replayer_pack, drop_leaves_out_a_category) {
    make_tree();
    put_file("home/.gitconfig", "[user]\n", 0644);
    M = make_manifest(false);
    input(M, "home/.gitconfig", CORDON_USE_READ);
    cordon_manifest_sort(M);
    char out[PATH_MAX], store[PATH_MAX];
    struct cordon_pack_stats st = {0};
    struct cordon_error err = {0};
    cr_assert(eq(int, do_pack(tp(out, "x.tar"), CORDON_PACK_TAR, &st, NULL, &err), 0));
    cr_assert(archive_has(out, "/.gitconfig"), "kept by default");
    struct cordon_pack_options o = {.manifest = M,
                                    .output = out,
                                    .format = CORDON_PACK_TAR,
                                    .store = tp(store, "store"),
                                    .drop = 1u << CORDON_CAT_USER_CONFIG,
                                    .quiet = true};
    cr_assert(eq(int, cordon_pack(&o, &st, NULL, NULL, &err), 0), "%s", err.text);
    cr_assert(not(archive_has(out, "/.gitconfig")));
    cr_assert(eq(u64, st.dropped, 1));
}

Test(replayer_pack, dir_format_writes_a_tree_that_unpacks_too) {
    make_tree();
    M = make_manifest(false);
    char out[PATH_MAX], root[PATH_MAX], p[PATH_MAX];
    struct cordon_error err = {0};
    cr_assert(eq(int, do_pack(tp(out, "tree"), CORDON_PACK_DIR, NULL, NULL, &err), 0), "%s",
              err.text);
    struct stat a, b;
    cr_assert(snprintf(p, sizeof p, "%s%s/host/data/stat.bin", out, T) < PATH_MAX);
    cr_assert(eq(int, stat(p, &a), 0));
    cr_assert(eq(i64, a.st_size, 1 << 20));
    cr_assert(lt(i64, a.st_blocks, 16));
    cr_assert(eq(int, do_pack(out, CORDON_PACK_DIR, NULL, NULL, &err), -EEXIST));

    struct cordon_unpack_options u = {.archive = out, .dest = tp(root, "root")};
    cr_assert(eq(int, cordon_unpack(&u, &err), 0), "%s", err.text);
    cr_assert(eq(int, stat(rootpath(p, "host/data/read.txt"), &a), 0));
    cr_assert(eq(int, stat(rootpath(p, "host/data/copy.txt"), &b), 0));
    cr_assert(eq(u64, a.st_ino, b.st_ino));
    cr_assert(eq(int, stat(rootpath(p, "host/data/stat.bin"), &a), 0));
    cr_assert(eq(i64, a.st_size, 1 << 20));
    cr_assert(lt(i64, a.st_blocks, 16));
    char *s = slurp(rootpath(p, "host/bin/real-tool"), NULL);
    cr_assert(eq(str, s ? s : "(none)", "#!/bin/sh\necho tool\n"));
    free(s);

    /* A byte changed in the tree is caught by the copy. */
    cr_assert(snprintf(p, sizeof p, "%s%s/host/bin/real-tool", out, T) < PATH_MAX);
    cr_assert(eq(int, chmod(p, 0644), 0));
    FILE *f = fopen(p, "r+");
    cr_assert(f != NULL);
    fputc('X', f);
    fclose(f);
    u.dest = tp(root, "root2");
    cr_assert(eq(int, cordon_unpack(&u, &err), -EBADMSG));
    cr_assert(strstr(err.text, "host/bin/real-tool") != NULL, "%s", err.text);
    cr_assert(ne(int, lstat(root, &a), 0));
}

Test(replayer_pack, merged_usr_links_are_entries) {
    struct stat st;
    if (lstat("/lib", &st) < 0 || !S_ISLNK(st.st_mode) ||
        lstat("/lib/x86_64-linux-gnu/libc.so.6", &st) < 0)
        cr_skip_test("no merged /usr here");
    M = cordon_manifest_new();
    struct cordon_input *in = cordon_manifest_add_input(M, "/lib/x86_64-linux-gnu/libc.so.6");
    in->type = CORDON_FT_FILE;
    in->uses = CORDON_USE_LOAD;
    cr_assert(eq(int, stat(in->path, &st), 0));
    in->size = (uint64_t)st.st_size;
    in->mode = st.st_mode & 07777;
    in->has_hash = true;
    cr_assert(eq(int,
                 cordon_hash_file(AT_FDCWD, "/usr/lib/x86_64-linux-gnu/libc.so.6", &in->hash, NULL),
                 0));
    cordon_manifest_sort(M);
    char out[PATH_MAX], root[PATH_MAX], p[PATH_MAX];
    struct cordon_error err = {0};
    cr_assert(eq(int, do_pack(tp(out, "x.tar.zst"), CORDON_PACK_TAR_ZSTD, NULL, NULL, &err), 0),
              "%s", err.text);
    struct cordon_unpack_options u = {.archive = out, .dest = tp(root, "root")};
    cr_assert(eq(int, cordon_unpack(&u, &err), 0), "%s", err.text);
    cr_assert(snprintf(p, sizeof p, "%s/lib", root) < PATH_MAX);
    cr_assert(eq(int, lstat(p, &st), 0));
    cr_assert(is_lnk(st.st_mode));
    cr_assert(snprintf(p, sizeof p, "%s/usr/lib/x86_64-linux-gnu/libc.so.6", root) < PATH_MAX);
    cr_assert(eq(int, lstat(p, &st), 0));
    cr_assert(is_reg(st.st_mode));
}

Test(replayer_pack, format_names_round_trip) {
    for (int f = 0; f < CORDON_PACK_FORMAT_MAX; f++)
        cr_assert(eq(int, cordon_pack_format_from_name(cordon_pack_format_name(f)), f));
    cr_assert(eq(int, cordon_pack_format_from_name("zip"), CORDON_PACK_FORMAT_INVALID));
}

Test(replayer_pack, a_link_used_through_brings_its_whole_chain) {
    make_tree();
    M = cordon_manifest_new();
    /* As the recorder writes an exec of a link: the link itself and the
     * file at the end, not the links in between. */
    struct cordon_input *in = input(M, "host/bin/tool", CORDON_USE_EXEC | CORDON_USE_READLINK);
    cr_assert(eq(int, in->type, CORDON_FT_SYMLINK));
    in->uses = CORDON_USE_EXEC;
    input(M, "host/bin/real-tool", CORDON_USE_EXEC);
    cordon_manifest_sort(M);
    char out[PATH_MAX], root[PATH_MAX], p[PATH_MAX];
    struct cordon_error err = {0};
    cr_assert(eq(int, do_pack(tp(out, "x.tar"), CORDON_PACK_TAR, NULL, NULL, &err), 0), "%s",
              err.text);
    struct cordon_unpack_options u = {.archive = out, .dest = tp(root, "root")};
    cr_assert(eq(int, cordon_unpack(&u, &err), 0), "%s", err.text);
    struct stat st;
    cr_assert(eq(int, lstat(rootpath(p, "host/alt/tool"), &st), 0), "the link in between");
    cr_assert(is_lnk(st.st_mode));

    /* Only read as a link: nothing behind it. */
    M = cordon_manifest_free(M);
    M = cordon_manifest_new();
    input(M, "host/bin/tool", CORDON_USE_READLINK);
    cordon_manifest_sort(M);
    cr_assert(eq(int, do_pack(out, CORDON_PACK_TAR, NULL, NULL, &err), 0), "%s", err.text);
    cr_assert(not(archive_has(out, "host/alt/tool")));
    cr_assert(archive_has(out, "host/bin/tool"));
}

Test(replayer_pack, a_file_gone_since_the_recording_comes_from_the_store_or_is_named) {
    make_tree();
    M = make_manifest(false);
    char p[PATH_MAX], out[PATH_MAX], store[PATH_MAX];
    struct cordon_hash h;
    struct cordon_error err = {0};
    cr_assert(eq(int, unlink(tp(p, "host/data/copy.txt")), 0));
    cr_assert(eq(int, unlink(tp(p, "host/data/read.txt")), 0));
    int r = do_pack(tp(out, "x.tar"), CORDON_PACK_TAR, NULL, NULL, &err);
    cr_assert(eq(int, r, -ENOENT));
    cr_assert(strstr(err.text, "is gone since it was recorded") != NULL, "%s", err.text);
    put_file("host/data/read.txt", "hello\n", 0644);
    cr_assert(eq(int, cordon_store_add_file(tp(store, "store"), p, &h, &err), 0), "%s", err.text);
    cr_assert(eq(int, unlink(p), 0));
    cr_assert(eq(int, do_pack(out, CORDON_PACK_TAR, NULL, NULL, &err), 0), "%s", err.text);
    cr_assert(archive_has(out, "host/data/read.txt"));
    cr_assert(archive_has(out, "host/data/copy.txt"));
}
