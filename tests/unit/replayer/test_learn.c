/* learn's pure parts: collapsing needed paths into rules (on invented
 * trees, with a fake host listing), the policy learned from a manifest,
 * the interpreters the kernel opens, copying a tree. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cordon/error.h>
#include <cordon/learn.h>
#include <cordon/manifest.h>
#include <cordon/util.h>

/* A fake host: directory -> number of entries; unknown ones have 1000. */
struct fake_dir {
    const char *dir;
    long entries;
};

static long fake_entries(void *ctx, const char *dir) {
    for (const struct fake_dir *d = ctx; d && d->dir; d++)
        if (!strcmp(d->dir, dir))
            return d->entries;
    return 1000;
}

static struct cordon_collapsed *collapse(const char *const *paths, size_t n, size_t max,
                                         const struct fake_dir *host, const char *const *stop,
                                         size_t *ret_n) {
    struct cordon_collapse_path *in = calloc(n, sizeof *in);
    cr_assert(in != NULL);
    for (size_t i = 0; i < n; i++) {
        const char *p = paths[i];
        in[i].path = p[0] == 'L' ? p + 1 : p[0] == 'D' ? p + 1 : p;
        in[i].listed = p[0] == 'L';
        in[i].dir_only = p[0] == 'D';
    }
    struct cordon_collapse_options o = {
        .max_rules = max, .entries = fake_entries, .entries_ctx = (void *)host, .stop = stop};
    struct cordon_collapsed *out = NULL;
    cr_assert(eq(int, cordon_collapse(in, n, &o, &out, ret_n), 0));
    free(in);
    return out;
}

static void expect(struct cordon_collapsed *c, size_t n, const char *const *want, size_t nwant) {
    for (size_t i = 0; i < n && i < nwant; i++)
        cr_assert(eq(str, c[i].path, (char *)want[i]), "rule %zu", i);
    cr_assert(eq(sz, n, nwant));
}

Test(replayer_learn, each_lone_path_is_its_own_rule) {
    const char *p[] = {"/etc/ld.so.cache", "/usr/bin/make", "/etc/locale.alias"};
    size_t n;
    struct cordon_collapsed *c = collapse(p, 3, 0, NULL, NULL, &n);
    const char *want[] = {"/etc/ld.so.cache", "/etc/locale.alias", "/usr/bin/make"};
    expect(c, n, want, 3);
    cordon_collapsed_free(c, n);
}

Test(replayer_learn, a_directory_where_three_entries_are_read_collapses_and_so_upwards) {
    /* /usr/include: three headers; /usr: bin, include, lib used -> /usr */
    const char *p[] = {"/usr/include/stdio.h",
                       "/usr/include/stdlib.h",
                       "/usr/include/string.h",
                       "/usr/bin/cc",
                       "/usr/lib/x86_64-linux-gnu/libc.so.6",
                       "/etc/ld.so.cache"};
    size_t n;
    struct cordon_collapsed *c = collapse(p, 6, 0, NULL, NULL, &n);
    const char *want[] = {"/etc/ld.so.cache", "/usr"};
    expect(c, n, want, 2);
    cr_assert(eq(sz, c[1].covered, 5), "the reason counts what it covers");
    cordon_collapsed_free(c, n);
}

Test(replayer_learn, a_directory_where_half_the_entries_are_read_collapses) {
    /* /opt/tool has 4 entries on this host, the build read below 2 */
    const struct fake_dir host[] = {{"/opt/tool", 4}, {NULL, 0}};
    const char *p[] = {"/opt/tool/bin/x", "/opt/tool/lib/libx.so"};
    size_t n;
    struct cordon_collapsed *c = collapse(p, 2, 0, host, NULL, &n);
    const char *want[] = {"/opt/tool"};
    expect(c, n, want, 1);
    cordon_collapsed_free(c, n);
}

Test(replayer_learn, a_listed_directory_is_shown_whole) {
    const char *p[] = {"L/usr/share/zoneinfo", "/usr/share/zoneinfo/UTC"};
    size_t n;
    struct cordon_collapsed *c = collapse(p, 2, 0, NULL, NULL, &n);
    const char *want[] = {"/usr/share/zoneinfo"};
    expect(c, n, want, 1);
    cordon_collapsed_free(c, n);
}

Test(replayer_learn, a_directory_only_stated_needs_no_rule_when_it_holds_others) {
    const char *p[] = {"D/usr/lib/gcc", "/usr/lib/gcc/x86_64-linux-gnu/12/cc1",
                       "D/usr/local/include"};
    size_t n;
    struct cordon_collapsed *c = collapse(p, 3, 0, NULL, NULL, &n);
    /* /usr/lib/gcc and its single-entry chain stay as deep as the file;
     * /usr/local/include holds nothing else: it needs its own rule */
    const char *want[] = {"/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "/usr/local/include"};
    expect(c, n, want, 2);
    cordon_collapsed_free(c, n);
}

Test(replayer_learn, never_above_a_unit_nor_at_or_above_home) {
    /* /etc and /home are wide: their entries stay apart; HOME is a stop */
    const char *p[] = {"/etc/a",          "/etc/b",        "/etc/c",       "/etc/d",
                       "/home/u/tools/x", "/home/u/sdk/y", "/home/u/lib/z"};
    const char *stop[] = {"/home/u", NULL};
    size_t n;
    struct cordon_collapsed *c = collapse(p, 7, 0, NULL, stop, &n);
    const char *want[] = {"/etc/a",        "/etc/b",        "/etc/c",         "/etc/d",
                          "/home/u/lib/z", "/home/u/sdk/y", "/home/u/tools/x"};
    expect(c, n, want, 7);
    cordon_collapsed_free(c, n);
    /* even under a budget of one */
    c = collapse(p, 7, 1, NULL, stop, &n);
    expect(c, n, want, 7);
    cordon_collapsed_free(c, n);
}

Test(replayer_learn, the_budget_merges_the_directory_with_most_rules_first) {
    const char *p[] = {"/usr/a/x", "/usr/b/y", "/opt/p/one/1", "/opt/p/two/2", "/srv/s/f"};
    size_t n;
    struct cordon_collapsed *c = collapse(p, 5, 0, NULL, NULL, &n);
    cr_assert(eq(sz, n, 5));
    cordon_collapsed_free(c, n);
    /* 4 rules allowed: /opt/p (2 rules, deeper than /usr) goes first */
    c = collapse(p, 5, 4, NULL, NULL, &n);
    const char *want4[] = {"/opt/p", "/srv/s/f", "/usr/a/x", "/usr/b/y"};
    expect(c, n, want4, 4);
    cordon_collapsed_free(c, n);
    c = collapse(p, 5, 3, NULL, NULL, &n);
    const char *want3[] = {"/opt/p", "/srv/s/f", "/usr"};
    expect(c, n, want3, 3);
    cordon_collapsed_free(c, n);
}

Test(replayer_learn, the_collapse_is_deterministic_whatever_the_order) {
    const char *a[] = {"/usr/include/z.h", "/usr/bin/cc", "/usr/lib/libz.so", "/etc/x",
                       "/usr/include/a.h"};
    const char *b[] = {"/etc/x",      "/usr/include/a.h", "/usr/lib/libz.so",
                       "/usr/bin/cc", "/usr/include/z.h", "/usr/bin/cc"};
    size_t na, nb;
    struct cordon_collapsed *ca = collapse(a, 5, 0, NULL, NULL, &na);
    struct cordon_collapsed *cb = collapse(b, 6, 0, NULL, NULL, &nb);
    cr_assert(eq(sz, na, nb));
    for (size_t i = 0; i < na; i++)
        cr_assert(eq(str, ca[i].path, cb[i].path));
    cordon_collapsed_free(ca, na);
    cordon_collapsed_free(cb, nb);
}

Test(replayer_learn, a_relative_path_is_refused) {
    struct cordon_collapse_path in = {.path = "usr/bin"};
    struct cordon_collapsed *out = NULL;
    size_t n = 0;
    cr_assert(eq(int, cordon_collapse(&in, 1, NULL, &out, &n), -EINVAL));
}

/* ---- learn from a manifest -------------------------------------------------- */

static struct cordon_input *input(struct cordon_manifest *m, const char *path, enum cordon_ftype t,
                                  unsigned uses) {
    struct cordon_input *in = cordon_manifest_add_input(m, path);
    cr_assert(in != NULL);
    in->type = t;
    in->uses = uses;
    return in;
}

static struct cordon_manifest *build_manifest(void) {
    struct cordon_manifest *m = cordon_manifest_new();
    cr_assert(m != NULL);
    m->worktree = strdup("/src/w");
    m->command.cwd = strdup("/src/w");
    char *argv[] = {"make", "-s", NULL};
    char *env[] = {"CFLAGS=-O2", "HOME=/home/u", "PATH=/usr/bin", NULL};
    m->command.argv = cordon_strv_copy(argv);
    m->command.env = cordon_strv_copy(env);
    const char *headers[] = {"/usr/include/stdio.h", "/usr/include/stdlib.h",
                             "/usr/include/string.h", "/usr/include/zlib.h"};
    for (size_t i = 0; i < 4; i++)
        input(m, headers[i], CORDON_FT_FILE, CORDON_USE_READ);
    input(m, "/usr/bin/cc", CORDON_FT_FILE, CORDON_USE_EXEC);
    input(m, "/usr/lib/x86_64-linux-gnu/libc.so.6", CORDON_FT_FILE, CORDON_USE_LOAD);
    input(m, "/etc/ld.so.cache", CORDON_FT_FILE, CORDON_USE_READ);
    input(m, "/etc/gitconfig", CORDON_FT_FILE, CORDON_USE_READ);      /* site-config */
    input(m, "/home/u/.gitconfig", CORDON_FT_FILE, CORDON_USE_READ);  /* user-config */
    input(m, "/home/u/.cache/x", CORDON_FT_FILE, CORDON_USE_READ);    /* cache */
    input(m, "/home/u/.ssh/id_rsa", CORDON_FT_FILE, CORDON_USE_READ); /* credentials */
    input(m, "/home/u/.pip/pip.conf", CORDON_FT_MISSING, CORDON_USE_PROBE);
    input(m, "/src/w/Makefile", CORDON_FT_FILE, CORDON_USE_READ);
    input(m, "/src", CORDON_FT_DIR, CORDON_USE_STAT);
    input(m, "/proc/self/maps", CORDON_FT_FILE, CORDON_USE_READ);
    input(m, "/dev/null", CORDON_FT_OTHER, CORDON_USE_READ);
    struct cordon_output *o = cordon_manifest_add_output(m, "/src/w/hello");
    o->type = CORDON_FT_FILE;
    o = cordon_manifest_add_output(m, "/opt/prefix/lib/libz.a");
    o->type = CORDON_FT_FILE;
    o = cordon_manifest_add_output(m, "/tmp/cc123.s");
    o->type = CORDON_FT_FILE;
    struct cordon_env_read *e = cordon_manifest_add_env_read(m, "CFLAGS");
    e->value = strdup("-O2");
    e = cordon_manifest_add_env_read(m, "COLLECT_GCC"); /* set by gcc, not at the start */
    e->value = strdup("cc");
    cordon_manifest_sort(m);
    return m;
}

static char *write_to_string(const struct cordon_learned *l, const char *verdict) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert(f != NULL);
    cr_assert(eq(int, cordon_learned_write(l, verdict, f), 0));
    fclose(f);
    return buf;
}

Test(replayer_learn, learns_the_rules_a_build_needs_and_leaves_breaches_out) {
    struct cordon_manifest *m = build_manifest();
    struct cordon_learn_options o = {.manifest = m, .entries = fake_entries};
    struct cordon_learned *l = NULL;
    struct cordon_error err = {0};
    cr_assert(eq(int, cordon_learn(&o, &l, &err), 0), "%s", err.text);
    char *text = write_to_string(l, "passed");
    /* the system paths, collapsed: /usr holds include (4), bin, lib */
    cr_assert(strstr(text, "\nro /usr ") != NULL, "%s", text);
    cr_assert(strstr(text, "# the build read 6 paths below it") != NULL, "%s", text);
    cr_assert(strstr(text, "\nro /etc/ld.so.cache ") != NULL, "%s", text);
    cr_assert(strstr(text, "\nrw ${CWD} ") != NULL, "%s", text);
    cr_assert(strstr(text, "# the work tree") != NULL, "%s", text);
    cr_assert(strstr(text, "\nrw /opt/prefix/lib ") != NULL, "the write outside: %s", text);
    cr_assert(strstr(text, "\ntmpfs /tmp ") != NULL, "%s", text);
    cr_assert(strstr(text, "\ndev /dev ") != NULL, "%s", text);
    cr_assert(strstr(text, "\nproc /proc ") != NULL, "%s", text);
    cr_assert(strstr(text, "\nhome fresh ") != NULL, "%s", text);
    cr_assert(strstr(text, "# Verification: passed") != NULL, "%s", text);
    /* no rule for a breach, no blanket /, none for the work tree's parents */
    cr_assert(strstr(text, "\nro /etc/gitconfig") == NULL, "%s", text);
    cr_assert(strstr(text, "\nro /home") == NULL, "%s", text);
    cr_assert(strstr(text, "\nro / ") == NULL, "%s", text);
    cr_assert(strstr(text, "\nro /src") == NULL, "%s", text);
    /* the breaches are listed with their categories */
    cr_assert(strstr(text, "#   /etc/gitconfig  (site-config)") != NULL, "%s", text);
    cr_assert(strstr(text, "#   /home/u/.gitconfig  (user-config)") != NULL, "%s", text);
    cr_assert(strstr(text, "#   /home/u/.cache/x  (cache)") != NULL, "%s", text);
    cr_assert(strstr(text, "#   /home/u/.ssh/id_rsa  (credentials)") != NULL, "%s", text);
    /* the variables it started with and consulted, not those gcc set */
    cr_assert(strstr(text, "#   CFLAGS=-O2") != NULL, "%s", text);
    cr_assert(strstr(text, "COLLECT_GCC") == NULL, "%s", text);
    /* hide /, ro /usr, ro /etc/ld.so.cache, rw /opt/prefix/lib, rw CWD,
     * tmpfs, dev, proc, home */
    cr_assert(strstr(text, "\nhide /  #") != NULL, "%s", text);
    cr_assert(eq(sz, cordon_learned_rule_count(l), 9), "%s", text);
    free(text);
    cordon_learned_free(l);
    cordon_manifest_free(m);
}

Test(replayer_learn, needed_files_below_home_keep_it_and_config_stays_hidden) {
    struct cordon_manifest *m = build_manifest();
    input(m, "/home/u/sdk/bin/tool", CORDON_FT_FILE, CORDON_USE_EXEC);
    cordon_manifest_sort(m);
    struct cordon_learn_options o = {.manifest = m, .entries = fake_entries};
    struct cordon_learned *l = NULL;
    struct cordon_error err = {0};
    cr_assert(eq(int, cordon_learn(&o, &l, &err), 0), "%s", err.text);
    char *text = write_to_string(l, NULL);
    cr_assert(strstr(text, "\nro /home/u/sdk/bin/tool ") != NULL, "%s", text);
    cr_assert(strstr(text, "\nhome keep ") != NULL, "%s", text);
    cr_assert(strstr(text, "\nro /home/u ") == NULL, "%s", text);
    free(text);
    cordon_learned_free(l);
    cordon_manifest_free(m);
}

Test(replayer_learn, a_breach_below_a_collapsed_directory_is_hidden) {
    struct cordon_manifest *m = build_manifest();
    /* ~/.local's bin, share and lib are read: ~/.local collapses, and the
     * user site-packages below it stays hidden */
    input(m, "/home/u/.local/bin/tool", CORDON_FT_FILE, CORDON_USE_EXEC);
    input(m, "/home/u/.local/share/tool/data", CORDON_FT_FILE, CORDON_USE_READ);
    input(m, "/home/u/.local/lib/libtool.so", CORDON_FT_FILE, CORDON_USE_LOAD);
    input(m, "/home/u/.local/lib/python3.11/site-packages/evil.pth", CORDON_FT_FILE,
          CORDON_USE_READ);
    cordon_manifest_sort(m);
    struct cordon_learn_options o = {.manifest = m, .entries = fake_entries};
    struct cordon_learned *l = NULL;
    struct cordon_error err = {0};
    cr_assert(eq(int, cordon_learn(&o, &l, &err), 0), "%s", err.text);
    char *text = write_to_string(l, NULL);
    cr_assert(strstr(text, "\nro /home/u/.local ") != NULL, "%s", text);
    cr_assert(strstr(text, "\nhide /home/u/.local/lib/python3.11/site-packages/evil.pth ") != NULL,
              "%s", text);
    cr_assert(strstr(text, "# user-site-packages: stays hidden under /home/u/.local") != NULL, "%s",
              text);
    cr_assert(strstr(text, "\nhome keep ") != NULL, "%s", text);
    free(text);
    cordon_learned_free(l);
    cordon_manifest_free(m);
}

Test(replayer_learn, directories_the_build_made_are_made_again_in_the_one_that_was_there) {
    struct cordon_manifest *m = build_manifest();
    /* make install into /srv/p: it made /srv/p/share and /srv/p/share/man */
    input(m, "/srv/p", CORDON_FT_DIR, CORDON_USE_STAT);
    input(m, "/srv/p/share", CORDON_FT_MISSING, CORDON_USE_PROBE);
    struct cordon_output *o = cordon_manifest_add_output(m, "/srv/p/share");
    o->type = CORDON_FT_DIR;
    o = cordon_manifest_add_output(m, "/srv/p/share/man");
    o->type = CORDON_FT_DIR;
    o = cordon_manifest_add_output(m, "/srv/p/share/man/z.3");
    o->type = CORDON_FT_FILE;
    /* a file that was there before is granted alone */
    input(m, "/srv/q/state", CORDON_FT_FILE, CORDON_USE_READ);
    o = cordon_manifest_add_output(m, "/srv/q/state");
    o->type = CORDON_FT_FILE;
    /* a directory made directly in /tmp is scratch */
    o = cordon_manifest_add_output(m, "/tmp/build-xyz");
    o->type = CORDON_FT_DIR;
    o = cordon_manifest_add_output(m, "/tmp/build-xyz/t");
    o->type = CORDON_FT_FILE;
    cordon_manifest_sort(m);
    struct cordon_learn_options lo = {.manifest = m, .entries = fake_entries};
    struct cordon_learned *l = NULL;
    struct cordon_error err = {0};
    cr_assert(eq(int, cordon_learn(&lo, &l, &err), 0), "%s", err.text);
    char *text = write_to_string(l, NULL);
    cr_assert(strstr(text, "\nrw /srv/p ") != NULL, "%s", text);
    cr_assert(strstr(text, "# the build wrote 1 file here") != NULL, "%s", text);
    cr_assert(strstr(text, "\nro /srv/p") == NULL, "read-write covers it: %s", text);
    cr_assert(strstr(text, "\nrw /srv/q/state ") != NULL, "%s", text);
    cr_assert(strstr(text, "\nro /srv/q/state") == NULL, "%s", text);
    cr_assert(strstr(text, "\nrw /tmp") == NULL, "%s", text);
    free(text);
    cordon_learned_free(l);
    cordon_manifest_free(m);
}

Test(replayer_learn, a_cwd_below_the_work_tree_climbs_to_it) {
    struct cordon_manifest *m = build_manifest();
    free(m->command.cwd);
    m->command.cwd = strdup("/src/w/build/x");
    struct cordon_learn_options o = {.manifest = m, .entries = fake_entries};
    struct cordon_learned *l = NULL;
    struct cordon_error err = {0};
    cr_assert(eq(int, cordon_learn(&o, &l, &err), 0), "%s", err.text);
    char *text = write_to_string(l, NULL);
    cr_assert(strstr(text, "\nrw ${CWD}/../.. ") != NULL, "%s", text);
    free(text);
    cordon_learned_free(l);
    cordon_manifest_free(m);
}

Test(replayer_learn, the_budget_holds_for_many_scattered_reads) {
    struct cordon_manifest *m = build_manifest();
    char p[64];
    for (int i = 0; i < 60; i++) {
        snprintf(p, sizeof p, "/opt/pkg%02d/lib/libx.so", i);
        input(m, p, CORDON_FT_FILE, CORDON_USE_LOAD);
        snprintf(p, sizeof p, "/var/lib/v%02d", i);
        input(m, p, CORDON_FT_FILE, CORDON_USE_READ);
    }
    for (int i = 0; i < 40; i++) {
        snprintf(p, sizeof p, "/srv/data/d%02d/f", i);
        input(m, p, CORDON_FT_FILE, CORDON_USE_READ);
    }
    cordon_manifest_sort(m);
    struct cordon_learn_options o = {.manifest = m, .entries = fake_entries, .max_rules = 30};
    struct cordon_learned *l = NULL;
    struct cordon_error err = {0};
    cr_assert(eq(int, cordon_learn(&o, &l, &err), 0), "%s", err.text);
    char *text = write_to_string(l, NULL);
    /* /var/lib and /srv/data merge; the sixty /opt units cannot: the
     * budget is exceeded only where units forbid merging */
    cr_assert(strstr(text, "\nro /var/lib ") != NULL, "%s", text);
    cr_assert(strstr(text, "\nro /srv/data ") != NULL, "%s", text);
    free(text);
    cordon_learned_free(l);
    cordon_manifest_free(m);
}

Test(replayer_learn, a_manifest_without_work_tree_is_an_error) {
    struct cordon_manifest *m = cordon_manifest_new();
    struct cordon_learn_options o = {.manifest = m};
    struct cordon_learned *l = NULL;
    struct cordon_error err = {0};
    cr_assert(eq(int, cordon_learn(&o, &l, &err), -EINVAL));
    cr_assert(strstr(err.text, "work tree") != NULL, "%s", err.text);
    cordon_manifest_free(m);
}

/* ---- interpreters, copying ---------------------------------------------------- */

static char tmp[64];

static void make_tmp(void) {
    snprintf(tmp, sizeof tmp, "/tmp/cordon-test-learn.XXXXXX");
    cr_assert(mkdtemp(tmp) != NULL);
}

static void remove_tmp(void) {
    cordon_rm_rf(tmp);
}

static void write_file(const char *rel, const char *text, mode_t mode) {
    char p[128];
    snprintf(p, sizeof p, "%s/%s", tmp, rel);
    FILE *f = fopen(p, "w");
    cr_assert(f != NULL, "%s", p);
    fputs(text, f);
    fclose(f);
    chmod(p, mode);
}

Test(replayer_learn, interpreters_of_scripts_and_programs, .init = make_tmp, .fini = remove_tmp) {
    char *out[4];
    size_t n = cordon_interpreters("/bin/sh", out, 4);
    if (n) {
        cr_assert(strstr(out[0], "ld-linux") || strstr(out[0], "ld-musl"), "%s", out[0]);
        free(out[0]);
    }
    write_file("s", "#!/bin/sh -e\necho hi\n", 0755);
    char p[128];
    snprintf(p, sizeof p, "%s/s", tmp);
    n = cordon_interpreters(p, out, 4);
    cr_assert(n >= 1);
    cr_assert(eq(str, out[0], "/bin/sh"));
    for (size_t i = 0; i < n; i++)
        free(out[i]);
    write_file("t", "plain text", 0644);
    snprintf(p, sizeof p, "%s/t", tmp);
    cr_assert(eq(sz, cordon_interpreters(p, out, 4), 0));
    cr_assert(eq(sz, cordon_interpreters("/no/such/file", out, 4), 0));
}

static bool link_all(void *ctx, const char *src) {
    (void)ctx;
    return strstr(src, "/linked") != NULL;
}

Test(replayer_learn, copy_tree_keeps_modes_links_and_hard_links_what_it_is_told, .init = make_tmp,
     .fini = remove_tmp) {
    char src[128], dst[128], p[160];
    snprintf(src, sizeof src, "%s/src", tmp);
    snprintf(dst, sizeof dst, "%s/dst", tmp);
    mkdir(src, 0755);
    snprintf(p, sizeof p, "%s/sub", src);
    mkdir(p, 0750);
    write_file("src/sub/x", "x\n", 0640);
    write_file("src/linked", "l\n", 0644);
    snprintf(p, sizeof p, "%s/ln", src);
    cr_assert(eq(int, symlink("sub/x", p), 0));
    struct cordon_error err = {0};
    cr_assert(eq(int, cordon_copy_tree(src, dst, link_all, NULL, &err), 0), "%s", err.text);
    struct stat a, b;
    snprintf(p, sizeof p, "%s/sub/x", dst);
    cr_assert(eq(int, stat(p, &b), 0));
    cr_assert(eq(int, (int)(b.st_mode & 07777), 0640));
    snprintf(p, sizeof p, "%s/sub", dst);
    cr_assert(eq(int, stat(p, &b), 0));
    cr_assert(eq(int, (int)(b.st_mode & 07777), 0750));
    snprintf(p, sizeof p, "%s/ln", dst);
    char t[64] = {0};
    cr_assert(eq(int, (int)readlink(p, t, sizeof t - 1), 5));
    cr_assert(eq(str, t, "sub/x"));
    snprintf(p, sizeof p, "%s/linked", src);
    stat(p, &a);
    snprintf(p, sizeof p, "%s/linked", dst);
    stat(p, &b);
    cr_assert(eq(u64, (uint64_t)a.st_ino, (uint64_t)b.st_ino), "hard-linked");
    snprintf(p, sizeof p, "%s/sub/x", src);
    stat(p, &a);
    snprintf(p, sizeof p, "%s/sub/x", dst);
    stat(p, &b);
    cr_assert(a.st_ino != b.st_ino, "copied");
    /* the destination must not exist */
    cr_assert(eq(int, cordon_copy_tree(src, dst, NULL, NULL, &err), -EEXIST));
}
