/* Export: the fixture manifest (tests/data/export/build.json) and policy
 * (example.policy) in each format, against golden files, over a fixture
 * host tree made here (host_root), so the goldens do not depend on this
 * machine. CORDON_BLESS=1 rewrites the goldens after a deliberate change
 * (review the diff). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <cordon/error.h>
#include <cordon/export.h>
#include <cordon/manifest.h>
#include <cordon/policy.h>
#include <cordon/util.h>

#define DATA CORDON_TEST_DATA "/export"

static char T[256];    /* the test's directory */
static char ROOT[300]; /* the fixture host */

static void put(const char *rel, const char *text) {
    char p[PATH_MAX], dir[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", ROOT, rel);
    snprintf(dir, sizeof dir, "%s", p);
    *strrchr(dir, '/') = '\0';
    cr_assert(eq(int, cordon_mkdir_p(dir, 0755), 0));
    FILE *f = fopen(p, "w");
    cr_assert(f != NULL, "cannot create %s", p);
    fputs(text, f);
    fclose(f);
}

static void link_(const char *target, const char *rel) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", ROOT, rel);
    cr_assert(eq(int, symlink(target, p), 0), "symlink %s: %s", p, strerror(errno));
}

static void mkdir_(const char *rel) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", ROOT, rel);
    cr_assert(eq(int, cordon_mkdir_p(p, 0755), 0));
}

/* A merged-/usr host with what build.json names, plus what it does not:
 * /usr/include/zlib.h, /home/u/.gitconfig. */
static void setup(void) {
    snprintf(T, sizeof T, "/tmp/cordon-export-XXXXXX");
    cr_assert(mkdtemp(T) != NULL);
    snprintf(ROOT, sizeof ROOT, "%s/root", T);
    put("usr/bin/sh", "sh");
    put("usr/bin/gcc", "gcc");
    put("usr/bin/make", "make");
    put("usr/bin/strip", "strip");
    link_("gcc", "usr/bin/cc");
    put("usr/lib/ld.so", "ld");
    put("usr/lib/libc.so.6", "libc");
    link_("usr/lib", "lib");
    link_("usr/bin", "bin");
    mkdir_("lib64");
    link_("/lib/ld.so", "lib64/ld-linux-x86-64.so.2");
    put("usr/include/stdio.h", "stdio");
    put("usr/include/zlib.h", "not an input");
    put("usr/share/locale/locale.alias", "alias");
    put("etc/ld.so.cache", "cache");
    put("opt/with space/it's.h", "quoted");
    put("home/u/.gitconfig", "[user]\n\tname = planted\n");
    put("work/pkg/Makefile", "all:\n");
    put("work/pkg/hello.c", "int main(void){return 0;}\n");
}

static void teardown(void) {
    cordon_rm_rf(T);
}

TestSuite(replayer_export, .init = setup, .fini = teardown);

static char *read_text(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        cordon_strbuf_addn(&sb, buf, n);
    fclose(f);
    return cordon_strbuf_detach(&sb);
}

/* `got` equals the golden file NAME (rewritten under CORDON_BLESS=1). */
static void check_golden(const char *name, const char *got) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", DATA, name);
    const char *bless = getenv("CORDON_BLESS");
    if (bless && *bless && strcmp(bless, "0") != 0) {
        FILE *f = fopen(path, "w");
        cr_assert(f != NULL, "cannot write %s", path);
        fputs(got, f);
        fclose(f);
    }
    char *want = read_text(path);
    cr_assert(want != NULL, "no golden file %s (CORDON_BLESS=1 writes it)", path);
    cr_expect(eq(str, (char *)got, want), "%s differs from its golden file", name);
    free(want);
}

static struct cordon_manifest *fixture_manifest(void) {
    struct cordon_manifest *m = NULL;
    struct cordon_error err;
    int r = cordon_manifest_read(DATA "/build.json", &m, &err);
    char msg[PATH_MAX + 1024];
    cr_assert(eq(int, r, 0), "%s", cordon_error_format(&err, msg, sizeof msg));
    return m;
}

static char *export_manifest(enum cordon_export_format f, bool collapse, char *const *argv) {
    struct cordon_manifest *m = fixture_manifest();
    struct cordon_export_options o = {
        .format = f,
        .source = "manifest 'build.json'",
        .host_root = ROOT,
        .collapse = collapse,
        .argv = argv,
        .network = -1,
    };
    char *out = NULL;
    struct cordon_error err;
    int r = cordon_export_manifest(m, &o, &out, &err);
    char msg[PATH_MAX + 1024];
    cr_assert(eq(int, r, 0), "%s", cordon_error_format(&err, msg, sizeof msg));
    cordon_manifest_free(m);
    return out;
}

static bool has(const char *s, const char *needle) {
    return strstr(s, needle) != NULL;
}

static bool lacks(const char *s, const char *needle) {
    return !has(s, needle);
}

Test(replayer_export, bwrap_binds_exactly_the_inputs_and_recreates_the_symlinks_on_their_way) {
    char *s = export_manifest(CORDON_EXPORT_BWRAP, false, NULL);
    /* merged /usr: the links the inputs went through, the bytes where they land */
    cr_expect(has(s, "    --symlink usr/lib /lib \\\n"), "%s", s);
    cr_expect(has(s, "    --symlink /lib/ld.so /lib64/ld-linux-x86-64.so.2 \\\n"));
    cr_expect(has(s, "    --ro-bind /usr/lib/libc.so.6 /usr/lib/libc.so.6 \\\n"));
    cr_expect(has(s, "    --symlink gcc /usr/bin/cc \\\n"));
    cr_expect(has(s, "    --ro-bind /usr/bin/gcc /usr/bin/gcc \\\n"));
    cr_expect(has(s, "    --dir /usr/include \\\n"));
    /* what the manifest does not list, and its missing probe, stay absent */
    cr_expect(lacks(s, "zlib.h") && lacks(s, "gitconfig") && lacks(s, "foo.h"));
    /* the work tree read-write (inputs in it are not bound one by one) */
    cr_expect(has(s, "    --bind \"$worktree\" /work/pkg \\\n"));
    cr_expect(lacks(s, "/work/pkg/hello.c"));
    /* outputs outside it: the topmost directory the build made, made first */
    cr_expect(has(s, "mkdir -p -- /opt/prefix\n"));
    /* a directory that was there before: private, not the host's whole */
    cr_expect(has(s, "    --tmpfs /var/cache/hello \\\n"));
    cr_expect(lacks(s, "--bind /var/cache/hello"));
    cr_expect(has(s, "    --bind /opt/prefix /opt/prefix \\\n"));
    /* a path with a space and a quote survives the shell */
    cr_expect(has(s, "--ro-bind '/opt/with space/it'\\''s.h' '/opt/with space/it'\\''s.h'"));
    cr_expect(has(s, "if [ $# -eq 0 ]; then set -- make install PREFIX=/opt/prefix; fi\n"));
    cr_expect(has(s, "    --chdir /work/pkg \\\n    -- \"$@\"\n"));
    cr_expect(lacks(s, "--share-net"), "no network by default");
    /* the mounts come parents first: /tmp's tmpfs before anything in it */
    cr_expect(lt(ptr, strstr(s, "--symlink usr/lib /lib"), strstr(s, "--ro-bind /usr/lib/libc")));
    check_golden("manifest.bwrap.sh", s);
    free(s);
}

Test(replayer_export, collapse_binds_a_directory_whole_only_where_that_shows_the_same) {
    char *s = export_manifest(CORDON_EXPORT_BWRAP, true, NULL);
    /* /usr/share/locale holds only its one input */
    cr_expect(has(s, "    --ro-bind /usr/share/locale /usr/share/locale \\\n"), "%s", s);
    cr_expect(lacks(s, "locale.alias"));
    /* /usr/include also holds zlib.h, which the manifest does not list */
    cr_expect(has(s, "    --dir /usr/include \\\n"));
    cr_expect(has(s, "--ro-bind /usr/include/stdio.h"));
    cr_expect(lacks(s, "zlib.h"));
    check_golden("manifest-collapse.bwrap.sh", s);
    free(s);
}

Test(replayer_export, the_command_line_names_the_command) {
    char *const argv[] = {"make", "-j2", "it's a b", NULL};
    char *s = export_manifest(CORDON_EXPORT_BWRAP, false, argv);
    cr_expect(has(s, "set -- make -j2 'it'\\''s a b'; fi"), "%s", s);
    free(s);
    s = export_manifest(CORDON_EXPORT_LANDLOCK, false, argv);
    cr_expect(has(s, "default_argv[] = {\"make\", \"-j2\", \"it's a b\", NULL};"), "%s", s);
    free(s);
}

Test(replayer_export, sandbox_exec_allows_reading_exactly_the_inputs) {
    char *s = export_manifest(CORDON_EXPORT_SANDBOX_EXEC, false, NULL);
    cr_expect(has(s, "(version 1)\n(deny default)\n"), "%s", s);
    cr_expect(has(s, "(allow file-read* process-exec (literal \"/usr/bin/gcc\"))\n"));
    cr_expect(has(s, "(allow file-read* (literal \"/usr/include/stdio.h\"))\n"));
    cr_expect(has(s, "(allow file-read* file-write* process-exec (subpath \"/work/pkg\"))\n"));
    cr_expect(lacks(s, "zlib.h") && lacks(s, "(allow network*)"));
    check_golden("manifest.sb", s);
    free(s);
}

Test(replayer_export, unveil_unveils_the_inputs_and_keeps_them_across_exec) {
    char *s = export_manifest(CORDON_EXPORT_UNVEIL, false, NULL);
    cr_expect(has(s, "if (unveil(\"/usr/bin/gcc\", \"rx\") == -1 && errno != ENOENT)"), "%s", s);
    cr_expect(has(s, "if (unveil(\"/usr/include/stdio.h\", \"r\") == -1"));
    cr_expect(has(s, "if (unveil(worktree, \"rwxc\") == -1"));
    cr_expect(has(s, "if (unveil(\"/opt/prefix\", \"rwxc\") == -1"));
    cr_expect(has(s, "unveil(NULL, NULL)"));
    cr_expect(has(s, "pledge(NULL, EXECPROMISES)"));
    cr_expect(lacks(s, "zlib.h") && lacks(s, "foo.h") && lacks(s, " inet"));
    check_golden("manifest.unveil.c", s);
    free(s);
}

Test(replayer_export, landlock_grants_file_rights_per_input_and_the_work_tree) {
    char *s = export_manifest(CORDON_EXPORT_LANDLOCK, false, NULL);
    cr_expect(has(s, "    {\"/usr/bin/gcc\", X_FILE},\n"), "%s", s);
    cr_expect(has(s, "    {\"/usr/include/stdio.h\", R_FILE},\n"));
    cr_expect(has(s, "    {\"/usr/include\", R_DIR},\n"));
    cr_expect(has(s, "    {\"/usr/lib/ld.so\", X_FILE},\n"));
    /* stat'ed only: nothing to grant, Landlock does not confine stat */
    cr_expect(lacks(s, "/usr/bin/strip"));
    cr_expect(has(s, "    allow(worktree, ALL);\n"));
    cr_expect(has(s, "    make_dirs(\"/opt/prefix\");\n"));
    cr_expect(has(s, "    {\"/var/cache/hello/stamp\", RW_FILE},\n"));
    cr_expect(lacks(s, "{\"/var/cache/hello\","));
    cr_expect(has(s, "LANDLOCK_CREATE_RULESET_VERSION"));
    cr_expect(lacks(s, "zlib.h"));
    check_golden("manifest.landlock.c", s);
    free(s);
}

static struct cordon_policy *fixture_policy(void) {
    struct cordon_policy *p = cordon_policy_new();
    cr_assert(p != NULL);
    char *text = read_text(DATA "/example.policy");
    cr_assert(text != NULL);
    struct cordon_policy_vars vars = {.home = "/home/u", .cwd = "/work/pkg", .uid = "1000"};
    struct cordon_error err;
    int r = cordon_policy_load_string(p, text, "example.policy", DATA, &vars, &err);
    char msg[PATH_MAX + 1024];
    cr_assert(eq(int, r, 0), "%s", cordon_error_format(&err, msg, sizeof msg));
    free(text);
    return p;
}

static char *export_policy(enum cordon_export_format f) {
    struct cordon_policy *p = fixture_policy();
    struct cordon_export_options o = {
        .format = f, .source = "policy 'example.policy'", .host_root = ROOT, .network = -1};
    char *out = NULL;
    struct cordon_error err;
    int r = cordon_export_policy(p, &o, &out, &err);
    char msg[PATH_MAX + 1024];
    cr_assert(eq(int, r, 0), "%s", cordon_error_format(&err, msg, sizeof msg));
    cordon_policy_free(p);
    return out;
}

Test(replayer_export, policy_as_bwrap_script) {
    char *s = export_policy(CORDON_EXPORT_BWRAP);
    cr_expect(has(s, "    --ro-bind-try /usr /usr \\\n"), "%s", s);
    cr_expect(has(s, "    --bind-try /work/pkg /work/pkg \\\n"));
    cr_expect(has(s, "    --ro-bind-try /work/pkg/vendor /work/pkg/vendor \\\n"));
    /* a file hidden inside a visible directory cannot be removed: emptied */
    cr_expect(has(s, "    --ro-bind /dev/null /usr/include/zlib.h \\\n"));
    cr_expect(has(s, "    --ro-bind-try /dev/null /etc/pip.conf \\\n"));
    /* outside every visible rule: nothing to do, it is absent already */
    cr_expect(lacks(s, ".netrc"));
    cr_expect(has(s, "    GIT_CONFIG_*|PYTHONPATH) unset \"$cordon_name\" 2>/dev/null || : ;;\n"));
    cr_expect(has(s, "    PATH) ;;\n"));
    cr_expect(has(s, "export LC_ALL=C\n"));
    cr_expect(has(s, "    --tmpfs \"$HOME\" \\\n"));
    cr_expect(lacks(s, "--share-net"));
    cr_expect(has(s, "# Policy: example policy for the export goldens\n"));
    cr_expect(lt(ptr, strstr(s, "--bind-try /work/pkg "), strstr(s, "/work/pkg/vendor")));
    check_golden("policy.bwrap.sh", s);
    free(s);
}

Test(replayer_export, policy_as_sandbox_exec_profile) {
    char *s = export_policy(CORDON_EXPORT_SANDBOX_EXEC);
    cr_expect(
        has(s, "(deny file-read* file-write* process-exec (subpath \"/usr/include/zlib.h\"))"),
        "%s", s);
    /* read-only inside read-write needs a denial: SBPL allows add up */
    cr_expect(has(s, "(deny file-write* (subpath \"/work/pkg/vendor\"))"));
    cr_expect(has(s, "empty /etc/gitconfig: no SBPL equivalent"));
    cr_expect(lacks(s, "(allow network*)"));
    check_golden("policy.sb", s);
    free(s);
}

Test(replayer_export, policy_as_unveil_program) {
    char *s = export_policy(CORDON_EXPORT_UNVEIL);
    cr_expect(has(s, "unveil(\"/usr/include/zlib.h\", \"\")"), "%s", s);
    cr_expect(has(s, "unveil(\"/work/pkg\", \"rwxc\")"));
    cr_expect(has(s, "empty /etc/gitconfig: no unveil equivalent"));
    check_golden("policy.unveil.c", s);
    free(s);
}

Test(replayer_export, policy_as_landlock_program) {
    char *s = export_policy(CORDON_EXPORT_LANDLOCK);
    cr_expect(has(s, "    {\"/work/pkg\", ALL},\n"), "%s", s);
    cr_expect(lacks(s, "{\"/usr/include/zlib.h\""), "a hidden path is not granted");
    cr_expect(has(s, "hide /usr/include/zlib.h: stays reachable"));
    cr_expect(has(s, "ro /work/pkg/vendor: stays writable"));
    check_golden("policy.landlock.c", s);
    free(s);
}

Test(replayer_export, shell_quoting) {
    static const char *const cases[][2] = {
        {"/usr/lib", "/usr/lib"},       {"a b", "'a b'"},
        {"it's", "'it'\\''s'"},         {"", "''"},
        {"$HOME", "'$HOME'"},           {"a\nb", "'a\nb'"},
        {"x;rm -rf /", "'x;rm -rf /'"}, {"-j2", "-j2"},
        {"\"q\"", "'\"q\"'"},           {"back\\slash", "'back\\slash'"},
        {"glob*", "'glob*'"},           {"~user", "'~user'"},
    };
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(cases); i++) {
        struct cordon_strbuf sb = CORDON_STRBUF_INIT;
        cordon_export_sh_quote(&sb, cases[i][0]);
        cr_expect(eq(str, sb.buf, (char *)cases[i][1]));
        cordon_strbuf_release(&sb);
    }
}

Test(replayer_export, format_names_round_trip) {
    for (int f = 0; f < CORDON_EXPORT_FORMAT_MAX; f++)
        cr_expect(eq(int, cordon_export_format_from_name(cordon_export_format_name(f)), f));
    cr_expect(eq(int, cordon_export_format_from_name("docker"), CORDON_EXPORT_FORMAT_INVALID));
    cr_expect(cordon_export_format_name(CORDON_EXPORT_FORMAT_MAX) == NULL);
}

Test(replayer_export, a_relative_input_is_an_error_naming_it) {
    struct cordon_manifest *m = cordon_manifest_new();
    cr_assert(m != NULL);
    struct cordon_input *in = cordon_manifest_add_input(m, "usr/lib/x");
    cr_assert(in != NULL);
    in->type = CORDON_FT_FILE;
    in->uses = CORDON_USE_READ;
    cordon_manifest_sort(m);
    struct cordon_export_options o = {.format = CORDON_EXPORT_BWRAP, .host_root = ROOT};
    char *out = NULL;
    struct cordon_error err;
    cordon_error_clear(&err);
    cr_expect(eq(int, cordon_export_manifest(m, &o, &out, &err), -EINVAL));
    cr_expect(out == NULL);
    cr_expect(eq(str, err.text, "input 'usr/lib/x' is not absolute"));
    cordon_manifest_free(m);
}

Test(replayer_export, an_input_gone_from_the_host_is_left_out_and_said) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/usr/include/stdio.h", ROOT);
    cr_assert(eq(int, unlink(p), 0));
    char *s = export_manifest(CORDON_EXPORT_BWRAP, false, NULL);
    cr_expect(has(s, "# - '/usr/include/stdio.h' is in the manifest but not on this host: left "
                     "out\n"),
              "%s", s);
    cr_expect(lacks(s, "--ro-bind /usr/include/stdio.h"));
    free(s);
}

Test(replayer_export, a_work_tree_of_slash_is_refused) {
    struct cordon_manifest *m = cordon_manifest_new();
    cr_assert(m != NULL);
    m->worktree = strdup("/");
    struct cordon_export_options o = {.format = CORDON_EXPORT_LANDLOCK, .host_root = ROOT};
    char *out = NULL;
    struct cordon_error err;
    cordon_error_clear(&err);
    cr_expect(eq(int, cordon_export_manifest(m, &o, &out, &err), -EINVAL));
    cr_expect(has(err.text, "the work tree is '/'"));
    cordon_manifest_free(m);
}
