/* The knowledge base: the repository's files load, patterns match as the
 * Rust analyzer's did (`*` within a component, `**` across, priority then
 * specificity), fixes become policy lines, and bad files are refused with
 * the line and column. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/parameterized.h>

#include <cordon/classify.h>
#include <cordon/error.h>

#define KNOWLEDGE CORDON_TEST_DATA "/../../knowledge"

static struct cordon_kb *repo_kb(char *const *env) {
    struct cordon_kb *kb = NULL;
    struct cordon_error err;
    cordon_error_clear(&err);
    int r = cordon_kb_load_dir(KNOWLEDGE, &kb, &err);
    cr_assert(eq(int, r, 0), "%s:%d:%d: %s", err.path, err.line, err.column, err.text);
    cr_assert(eq(int, cordon_kb_bind(kb, env), 0));
    return kb;
}

static char *home_env[] = {"HOME=/home/u", "PATH=/usr/bin", NULL};

/* The pattern of the best entry for a path, or "-". */
static const char *best(const struct cordon_kb *kb, const char *path) {
    const struct cordon_kb_entry *e = cordon_kb_match(kb, path, NULL);
    return e ? e->pattern : "-";
}

Test(manifest_kb, repository_files_load) {
    struct cordon_kb *kb = repo_kb(home_env);
    cr_assert(gt(sz, cordon_kb_count(kb), 150));
    for (size_t i = 0; i < cordon_kb_count(kb); i++) {
        const struct cordon_kb_entry *e = cordon_kb_entry_at(kb, i);
        cr_assert(cordon_category_is_breach(e->category), "%s", e->pattern);
        cr_assert(e->tool && *e->tool && e->explanation && *e->explanation && e->fix && *e->fix);
    }
    cordon_kb_free(kb);
}

Test(manifest_kb, home_and_xdg_expand_from_the_recording) {
    struct cordon_kb *kb = repo_kb(home_env);
    const struct cordon_kb_entry *e = cordon_kb_match(kb, "/home/u/.gitconfig", NULL);
    cr_assert(e != NULL);
    cr_assert(eq(str, e->pattern, "${HOME}/.gitconfig"));
    cr_assert(eq(str, (char *)cordon_category_name(e->category), "user-config"));
    cr_assert(eq(str, e->tool, "git"));
    cr_assert(eq(str, (char *)best(kb, "/home/other/.gitconfig"), "-"));
    /* XDG_CONFIG_HOME defaults to ~/.config ... */
    cr_assert(eq(str, (char *)best(kb, "/home/u/.config/git/credentials"),
                 "${XDG_CONFIG_HOME}/git/credentials"));
    cordon_kb_free(kb);
    /* ... and follows the recording's value when it was set. */
    char *xdg_env[] = {"HOME=/home/u", "XDG_CONFIG_HOME=/cfg", NULL};
    kb = repo_kb(xdg_env);
    cr_assert(
        eq(str, (char *)best(kb, "/cfg/git/credentials"), "${XDG_CONFIG_HOME}/git/credentials"));
    cr_assert(ne(str, (char *)best(kb, "/home/u/.config/git/credentials"),
                 "${XDG_CONFIG_HOME}/git/credentials"));
    cordon_kb_free(kb);
}

Test(manifest_kb, without_home_only_absolute_patterns_match) {
    char *env[] = {"PATH=/bin", NULL};
    struct cordon_kb *kb = repo_kb(env);
    cr_assert(eq(str, (char *)best(kb, "/home/u/.gitconfig"), "-"));
    cr_assert(eq(str, (char *)best(kb, "/etc/gitconfig"), "/etc/gitconfig"));
    cordon_kb_free(kb);
}

Test(manifest_kb, specific_entries_beat_catch_alls) {
    struct cordon_kb *kb = repo_kb(home_env);
    /* A tool's own entry beats the -1 catch-alls. */
    cr_assert(eq(str, (char *)best(kb, "/home/u/.config/git/config"), "${XDG_CONFIG_HOME}/git/**"));
    cr_assert(eq(str, (char *)best(kb, "/home/u/.config/unknowntool/settings.ini"),
                 "${XDG_CONFIG_HOME}/*/**"));
    cr_assert(eq(str, (char *)best(kb, "/home/u/.someapp/x"), "${HOME}/.*/**"));
    /* Nothing for a plain file of the home directory or the system. */
    cr_assert(eq(str, (char *)best(kb, "/home/u/notes.txt"), "-"));
    cr_assert(eq(str, (char *)best(kb, "/usr/include/stdio.h"), "-"));
    cordon_kb_free(kb);
}

static struct cordon_kb *kb_from(const char *text, struct cordon_error *err) {
    struct cordon_kb *kb = cordon_kb_new();
    cr_assert(kb != NULL);
    cordon_error_clear(err);
    if (cordon_kb_load_buffer(kb, text, strlen(text), "t.toml", err) < 0)
        return cordon_kb_free(kb);
    return kb;
}

#define ENTRY(pat, prio)                                                                           \
    "[[entry]]\npattern = \"" pat "\"\ncategory = \"cache\"\ntool = \"t\"\n"                       \
    "explanation = \"e.\"\nfix = \"hide ${MATCHED}\"\npriority = " #prio "\n"

Test(manifest_kb, star_stays_in_a_component_and_double_star_spans) {
    struct cordon_error err;
    struct cordon_kb *kb = kb_from(ENTRY("/a/*.h", 0) ENTRY("/b/**", 0) ENTRY("/c/**/d", 0), &err);
    cr_assert(kb != NULL, "%s", err.text);
    cordon_kb_bind(kb, home_env);
    cr_assert(eq(str, (char *)best(kb, "/a/x.h"), "/a/*.h"));
    cr_assert(eq(str, (char *)best(kb, "/a/sub/x.h"), "-"));
    cr_assert(eq(str, (char *)best(kb, "/b"), "/b/**"));
    cr_assert(eq(str, (char *)best(kb, "/b/x/y/z"), "/b/**"));
    cr_assert(eq(str, (char *)best(kb, "/bb/x"), "-"));
    cr_assert(eq(str, (char *)best(kb, "/c/d"), "/c/**/d"));
    cr_assert(eq(str, (char *)best(kb, "/c/1/2/d"), "/c/**/d"));
    cr_assert(eq(str, (char *)best(kb, "/c/1/2/e"), "-"));
    cordon_kb_free(kb);
}

Test(manifest_kb, priority_then_specificity_then_order) {
    struct cordon_error err;
    struct cordon_kb *kb =
        kb_from(ENTRY("/p/**", 1) ENTRY("/p/x/y", 0) ENTRY("/q/*", 0) ENTRY("/q/a*", 0)
                    ENTRY("/q/ab", 0) ENTRY("/r/*", 0) ENTRY("/r/*", 0),
                &err);
    cr_assert(kb != NULL, "%s", err.text);
    cordon_kb_bind(kb, home_env);
    cr_assert(eq(str, (char *)best(kb, "/p/x/y"), "/p/**"));
    cr_assert(eq(str, (char *)best(kb, "/q/ab"), "/q/ab"));
    cr_assert(eq(str, (char *)best(kb, "/q/ac"), "/q/a*"));
    cr_assert(eq(str, (char *)best(kb, "/q/zz"), "/q/*"));
    /* Equal patterns: the first loaded wins. */
    const struct cordon_kb_entry *e = cordon_kb_match(kb, "/r/x", NULL);
    cr_assert(eq(int, e->line, cordon_kb_entry_at(kb, 5)->line));
    cordon_kb_free(kb);
}

Test(manifest_kb, fix_becomes_policy_lines) {
    struct cordon_kb *kb = repo_kb(home_env);
    size_t anchor = 0;
    const struct cordon_kb_entry *e =
        cordon_kb_match(kb, "/home/u/.config/unknowntool/deep/file", &anchor);
    cr_assert(e != NULL);
    char matched[256];
    snprintf(matched, sizeof matched, "%.*s", (int)anchor, "/home/u/.config/unknowntool/deep/file");
    cr_assert(eq(str, matched, "/home/u/.config/unknowntool"));
    char *fix = cordon_kb_fix(kb, e->fix, matched);
    cr_assert(eq(str, fix, "hide ${XDG_CONFIG_HOME}/unknowntool"));
    free(fix);
    fix = cordon_kb_fix(kb, "hide ${HOME}/.netrc; env unset NETRC; env set A=b", NULL);
    cr_assert(eq(str, fix, "hide ${HOME}/.netrc; unset NETRC; set A=b"));
    free(fix);
    char out[256];
    cordon_kb_abstract_path(kb, "/home/u/.cache/pip/x", out, sizeof out);
    cr_assert(eq(str, out, "${XDG_CACHE_HOME}/pip/x"));
    cordon_kb_abstract_path(kb, "/home/uu/x", out, sizeof out);
    cr_assert(eq(str, out, "/home/uu/x"));
    cordon_kb_free(kb);
}

Test(manifest_kb, toolchain_knows_the_c_library) {
    struct cordon_kb *kb = repo_kb(home_env);
    cr_assert(cordon_kb_toolchain_package(kb, "libc6-dev"));
    cr_assert(cordon_kb_toolchain_package(kb, "libc6-dev:amd64"));
    cr_assert(cordon_kb_toolchain_package(kb, "gcc@12.2.0"));
    cr_assert(not(cordon_kb_toolchain_package(kb, "zlib1g-dev")));
    cr_assert(cordon_kb_libc_header(kb, "stdio.h"));
    cr_assert(cordon_kb_libc_header(kb, "x86_64-linux-gnu/bits/types.h"));
    cr_assert(cordon_kb_libc_header(kb, "linux/limits.h"));
    cr_assert(not(cordon_kb_libc_header(kb, "zlib.h")));
    cr_assert(cordon_kb_libc_library(kb, "libm"));
    cr_assert(not(cordon_kb_libc_library(kb, "libz")));
    cr_assert(cordon_kb_toolchain_path(kb, "/usr/lib/gcc/x86_64-linux-gnu/12/include/stddef.h"));
    cr_assert(not(cordon_kb_toolchain_path(kb, "/usr/include/zlib.h")));
    cordon_kb_free(kb);
}

struct bad_case {
    char text[200];
    int line, column;
    char says[64];
};

ParameterizedTestParameters(manifest_kb, bad_files_name_line_and_column) {
    static struct bad_case cases[] = {
        {"[[entry]]\npattern = \"/a\"\ncategory = \"nope\"\ntool = \"t\"\nexplanation = \"e\"\n"
         "fix = \"hide /a\"\n",
         1, 0, "unknown category 'nope'"},
        {"[[entry]]\npattern = \"a/b\"\ncategory = \"cache\"\ntool = \"t\"\nexplanation = \"e\"\n"
         "fix = \"hide /a\"\n",
         1, 0, "must be absolute"},
        {"[[entry]]\npattern = \"/a\"\ncategory = \"cache\"\ntool = \"t\"\nexplanation = \"e\"\n"
         "fix = \"remove /a\"\n",
         1, 0, "fix statement"},
        {"[[entry]]\npattern = \"/a\"\ncolour = \"red\"\n", 3, 1, "unknown key 'colour'"},
        {"[[entry]]\npattern = \"/a\n", 2, 11, "unterminated string"},
        {"[table]\n", 1, 1, "unknown table"},
        {"# c\npackages = [\"a\", 3]\n", 2, 18, "expected a \"string\""},
        {"[[entry]]\npattern = \"/a/b**\"\ncategory = \"cache\"\ntool = \"t\"\n"
         "explanation = \"e\"\nfix = \"hide /a\"\n",
         1, 0, "'**' must be a whole component"},
        {"[[entry]]\npattern = \"${NOPE}/a\"\ncategory = \"cache\"\ntool = \"t\"\n"
         "explanation = \"e\"\nfix = \"hide /a\"\n",
         1, 0, "unknown variable"},
        {"[[entry]]\npattern = \"/a\"\ncategory = \"cache\"\n", 1, 0, "are required"},
        {"[[entry]]\npattern = \"/a\" x\n", 2, 16, "unexpected text"},
    };
    return cr_make_param_array(struct bad_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct bad_case *c, manifest_kb, bad_files_name_line_and_column) {
    struct cordon_error err;
    struct cordon_kb *kb = kb_from(c->text, &err);
    cr_assert(kb == NULL, "accepted: %s", c->text);
    cr_assert(eq(int, err.code, EINVAL));
    cr_assert(eq(str, err.path, "t.toml"));
    cr_assert(eq(int, err.line, c->line), "%s", err.text);
    cr_assert(eq(int, err.column, c->column), "%s", err.text);
    cr_assert(strstr(err.text, c->says) != NULL, "'%s' does not say '%s'", err.text, c->says);
}

Test(manifest_kb, glob_match) {
    cr_assert(cordon_glob_match("*", "anything"));
    cr_assert(cordon_glob_match("lib*.so", "libz.so"));
    cr_assert(cordon_glob_match("a*b*c", "aXbYc"));
    cr_assert(not(cordon_glob_match("a*b*c", "aXbY")));
    cr_assert(cordon_glob_match("python*", "python3.11"));
    cr_assert(not(cordon_glob_match("x", "xy")));
}

Test(manifest_kb, find_dir_honours_the_environment) {
    char out[4096];
    setenv("CORDON_KNOWLEDGE_DIR", KNOWLEDGE, 1);
    cr_assert(eq(int, cordon_kb_find_dir(out, sizeof out), 0));
    cr_assert(eq(str, out, KNOWLEDGE));
    setenv("CORDON_KNOWLEDGE_DIR", "/nonexistent/knowledge", 1);
    cr_assert(eq(int, cordon_kb_find_dir(out, sizeof out), -ENOENT));
    unsetenv("CORDON_KNOWLEDGE_DIR");
    cr_assert(eq(int, cordon_kb_find_dir(out, sizeof out), 0));
}

/* Ported from the Rust analyzer's table (analysis/tests.rs): which entry
 * the knowledge base picks for a tool's files. */
struct tool_case {
    char path[72];
    char category[24];
    char tool[16];
};

ParameterizedTestParameters(manifest_kb, tools_files) {
    static struct tool_case cases[] = {
        {"/etc/pip.conf", "site-config", "pip"},
        {"/etc/xdg/pip/pip.conf", "site-config", "pip"},
        {"/home/u/.config/pip/pip.conf", "user-config", "pip"},
        {"/home/u/.pip/pip.conf", "user-config", "pip"},
        {"/home/u/.cache/pip/wheels/ab/x.whl", "cache", "pip"},
        {"/home/u/.npmrc", "user-config", "npm"},
        {"/etc/npmrc", "site-config", "npm"},
        {"/usr/local/etc/npmrc", "site-config", "npm"},
        {"/home/u/.cargo/config.toml", "user-config", "cargo"},
        {"/home/u/.cargo/config", "user-config", "cargo"},
        {"/home/u/.cargo/credentials.toml", "credentials", "cargo"},
        {"/home/u/.cargo/registry/index/x", "cache", "cargo"},
        {"/home/u/.Rprofile", "user-config", "R"},
        {"/home/u/.Renviron", "user-config", "R"},
        {"/home/u/R/x86_64-pc-linux-gnu-library/4.3/Rcpp/DESCRIPTION", "user-site-packages", "R"},
        {"/home/u/.spack/packages.yaml", "user-config", "spack"},
        {"/etc/spack/config.yaml", "site-config", "spack"},
        {"/home/u/.netrc", "credentials", "curl"},
        {"/home/u/.ssh/id_ed25519", "credentials", "ssh"},
        {"/home/u/.ssh/config", "user-config", "ssh"},
        {"/etc/ssh/ssh_config.d/50-site.conf", "site-config", "ssh"},
        {"/home/u/.gnupg/private-keys-v1.d/ABCD.key", "credentials", "gpg"},
        {"/home/u/.gnupg/gpg.conf", "user-config", "gpg"},
        {"/home/u/.gnupg/pubring.kbx", "user-config", "gpg"},
        {"/home/u/.ccache/ccache.conf", "cache", "ccache"},
        {"/home/u/.cache/ccache/a/b", "cache", "ccache"},
        {"/home/u/.cache/something/x", "cache", "unknown"},
        {"/usr/local/lib/pkgconfig/foo.pc", "system-library", "pkg-config"},
        {"/home/u/.local/lib/pkgconfig/foo.pc", "user-site-packages", "pkg-config"},
        {"/home/u/.config/git/config", "user-config", "git"},
        {"/home/u/.config/git/credentials", "credentials", "git"},
        {"/home/u/.zshenv", "user-config", "shell"},
        {"/home/u/.cmake/packages/Foo/abc", "user-package-registry", "cmake"},
        {"/home/u/.local/lib/python3.11/site-packages/x.pth", "user-site-packages", "python"},
    };
    return cr_make_param_array(struct tool_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct tool_case *c, manifest_kb, tools_files) {
    struct cordon_kb *kb = repo_kb(home_env);
    const struct cordon_kb_entry *e = cordon_kb_match(kb, c->path, NULL);
    cr_assert(e != NULL, "%s: no entry", c->path);
    cr_assert(eq(str, (char *)cordon_category_name(e->category), c->category), "%s (%s)", c->path,
              e->pattern);
    cr_assert(eq(str, e->tool, c->tool), "%s (%s)", c->path, e->pattern);
    cordon_kb_free(kb);
}

Test(manifest_kb, distribution_pkg_config_is_not_in_the_knowledge_base) {
    struct cordon_kb *kb = repo_kb(home_env);
    cr_assert(eq(str, (char *)best(kb, "/usr/lib/x86_64-linux-gnu/pkgconfig/zlib.pc"), "-"));
    cr_assert(eq(str, (char *)best(kb, "/usr/share/pkgconfig/bash-completion.pc"), "-"));
    cordon_kb_free(kb);
}
