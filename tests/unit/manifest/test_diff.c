/* diff: matching by path and name, and the ranking of differences. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <cordon/error.h>
#include <cordon/manifest.h>
#include <cordon/verify.h>

static struct cordon_input *file(struct cordon_manifest *m, const char *path, unsigned uses,
                                 const char *content) {
    struct cordon_input *in = cordon_manifest_add_input(m, path);
    in->type = CORDON_FT_FILE;
    in->uses = uses;
    in->size = strlen(content);
    in->mode = 0644;
    in->has_hash = true;
    cordon_hash_buffer(content, strlen(content), &in->hash);
    return in;
}

static struct cordon_input *probe(struct cordon_manifest *m, const char *path) {
    struct cordon_input *in = cordon_manifest_add_input(m, path);
    in->type = CORDON_FT_MISSING;
    in->uses = CORDON_USE_PROBE;
    return in;
}

static struct cordon_manifest *base(const char *worktree) {
    struct cordon_manifest *m = cordon_manifest_new();
    char *argv[] = {"make", NULL};
    m->command.argv = cordon_strv_copy(argv);
    m->command.cwd = strdup(worktree);
    m->command.finished = true;
    m->worktree = strdup(worktree);
    return m;
}

static char *run_diff(const struct cordon_manifest *a, const struct cordon_manifest *b, int *n) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct cordon_error err;
    *n = cordon_diff(a, b, f, &err);
    fclose(f);
    return buf;
}

static const char *find(const char *text, const char *needle) {
    const char *p = strstr(text, needle);
    cr_assert(p != NULL, "'%s' not in:\n%s", needle, text);
    return p;
}

Test(manifest_diff, identical_manifests_have_no_differences) {
    struct cordon_manifest *a = base("/src/a"), *b = base("/src/b");
    file(a, "/usr/include/zlib.h", CORDON_USE_READ, "z");
    file(b, "/usr/include/zlib.h", CORDON_USE_READ, "z");
    /* the same work tree file, checked out in two places */
    file(a, "/src/a/zlib.c", CORDON_USE_READ, "c");
    file(b, "/src/b/zlib.c", CORDON_USE_READ, "c");
    cordon_manifest_sort(a);
    cordon_manifest_sort(b);
    free(b->command.cwd);
    b->command.cwd = strdup("/src/a");
    int n;
    char *text = run_diff(a, b, &n);
    cr_assert(eq(int, n, 0), "%s", text);
    find(text, "no differences");
    free(text);
    cordon_manifest_free(a);
    cordon_manifest_free(b);
}

Test(manifest_diff, likely_cause_comes_first) {
    struct cordon_manifest *a = base("/w"), *b = base("/w");
    /* noise: zoneinfo content, a cache, /proc */
    file(a, "/usr/share/zoneinfo/UTC", CORDON_USE_READ, "tz1");
    file(b, "/usr/share/zoneinfo/UTC", CORDON_USE_READ, "tz2");
    file(a, "/proc/cpuinfo", CORDON_USE_READ, "4 cpus");
    file(b, "/proc/cpuinfo", CORDON_USE_READ, "2 cpus");
    /* metadata only: mode of a stat'ed file */
    file(a, "/usr/lib/os-release", CORDON_USE_STAT, "x")->mode = 0644;
    file(b, "/usr/lib/os-release", CORDON_USE_STAT, "x")->mode = 0600;
    /* content of another read file */
    file(a, "/usr/share/misc/magic", CORDON_USE_READ, "m1");
    file(b, "/usr/share/misc/magic", CORDON_USE_READ, "m2");
    /* content of an executed file */
    file(a, "/usr/bin/gcc", CORDON_USE_EXEC, "gcc 12");
    file(b, "/usr/bin/gcc", CORDON_USE_EXEC, "gcc 13");
    /* presence of a header: probed and missing in A, found in B */
    probe(a, "/usr/local/include/foo.h");
    file(b, "/usr/local/include/foo.h", CORDON_USE_READ, "foo");
    /* the work tree's own generated file */
    file(a, "/w/config.h", CORDON_USE_READ, "gen1")->flags = CORDON_INPUT_CHANGED;
    file(b, "/w/config.h", CORDON_USE_READ, "gen2")->flags = CORDON_INPUT_CHANGED;
    /* a variable */
    cordon_manifest_add_env_read(a, "CC")->value = strdup("gcc");
    cordon_manifest_add_env_read(b, "CC")->value = strdup("clang");
    /* a redacted variable is never compared */
    struct cordon_env_read *e = cordon_manifest_add_env_read(a, "GH_TOKEN");
    e->value = strdup("<redacted>");
    e->redacted = true;
    e = cordon_manifest_add_env_read(b, "GH_TOKEN");
    e->value = strdup("<redacted>");
    e->redacted = true;
    b->command.status = 2 << 8;
    cordon_manifest_sort(a);
    cordon_manifest_sort(b);
    int n;
    char *text = run_diff(a, b, &n);
    cr_log_info("%s", text);
    const char *cmd = find(text, "command  exit status: 0 -> 2");
    const char *hdr = find(text, "appeared /usr/local/include/foo.h");
    const char *env = find(text, "env      CC: 'gcc' -> 'clang'");
    const char *exe = find(text, "content  /usr/bin/gcc");
    const char *other = find(text, "content  /usr/share/misc/magic");
    const char *mode = find(text, "mode     /usr/lib/os-release");
    const char *tz = find(text, "/usr/share/zoneinfo/UTC");
    const char *proc = find(text, "/proc/cpuinfo");
    const char *gen = find(text, "/w/config.h");
    cr_assert(cmd < hdr);
    cr_assert(hdr < env);
    cr_assert(env < exe);
    cr_assert(exe < other);
    cr_assert(other < mode);
    cr_assert(mode < tz && mode < proc && mode < gen);
    cr_assert(strstr(text, "GH_TOKEN") == NULL);
    cr_assert(eq(int, n, 9), "%s", text);
    free(text);
    cordon_manifest_free(a);
    cordon_manifest_free(b);
}

Test(manifest_diff, paths_seen_by_one_build_only) {
    struct cordon_manifest *a = base("/w"), *b = base("/w");
    file(a, "/usr/lib/x86_64-linux-gnu/libz.so.1", CORDON_USE_LOAD, "z");
    file(b, "/usr/local/lib/libz.so.1", CORDON_USE_LOAD, "z");
    cordon_manifest_sort(a);
    cordon_manifest_sort(b);
    int n;
    char *text = run_diff(a, b, &n);
    find(text, "only-a   /usr/lib/x86_64-linux-gnu/libz.so.1: library, loaded by A only");
    find(text, "only-b   /usr/local/lib/libz.so.1: library, loaded by B only");
    cr_assert(eq(int, n, 2));
    free(text);
    cordon_manifest_free(a);
    cordon_manifest_free(b);
}
