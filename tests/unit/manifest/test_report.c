/* cordon report: a fixture manifest (tests/data/report/poisoned.json) with
 * owners from the fixture dpkg database gives the golden text, Markdown and
 * JSON (tests/data/report/expected.*). CORDON_UPDATE_GOLDEN=1 rewrites them
 * after a deliberate change; review the diff. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <jansson.h>

#include <cordon/classify.h>
#include <cordon/error.h>
#include <cordon/manifest.h>
#include <cordon/report.h>

#define DATA CORDON_TEST_DATA "/report"

struct fixture {
    struct cordon_manifest *m;
    struct cordon_kb *kb;
    struct cordon_owners *owners;
    struct cordon_report *r;
};

static void build(struct fixture *f, char *const *declared) {
    struct cordon_error err;
    cordon_error_clear(&err);
    cr_assert(eq(int, cordon_manifest_read(DATA "/poisoned.json", &f->m, &err), 0), "%s", err.text);
    cr_assert(eq(int, cordon_kb_load_dir(CORDON_TEST_DATA "/../../knowledge", &f->kb, &err), 0),
              "%s", err.text);
    f->owners = cordon_owners_new(CORDON_TEST_DATA "/owners/dpkg", false);
    cr_assert(
        eq(int, cordon_report_build(f->m, "poisoned.json", f->kb, f->owners, declared, &f->r, &err),
           0),
        "%s", err.text);
}

static void release(struct fixture *f) {
    cordon_report_free(f->r);
    cordon_owners_free(f->owners);
    cordon_kb_free(f->kb);
    cordon_manifest_free(f->m);
}

static char *render(const struct cordon_report *r,
                    int (*write)(const struct cordon_report *, FILE *)) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert(f != NULL);
    cr_assert(eq(int, write(r, f), 0));
    fclose(f);
    return buf;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, len = 0;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        buf = realloc(buf, cap = len + n + 1);
        memcpy(buf + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (!buf)
        buf = calloc(1, 1);
    buf[len] = '\0';
    (void)cap;
    return buf;
}

static void golden(const char *got, const char *name) {
    char path[512];
    snprintf(path, sizeof path, DATA "/%s", name);
    const char *update = getenv("CORDON_UPDATE_GOLDEN");
    if (update && *update == '1') {
        FILE *f = fopen(path, "we");
        cr_assert(f != NULL);
        fputs(got, f);
        fclose(f);
    }
    char *want = slurp(path);
    cr_assert(want != NULL, "no golden file %s", path);
    cr_assert(eq(str, (char *)got, want), "differs from %s", path);
    free(want);
}

Test(manifest_report, text_matches_golden) {
    struct fixture f = {0};
    build(&f, NULL);
    char *s = render(f.r, cordon_report_write_text);
    golden(s, "expected.txt");
    free(s);
    release(&f);
}

Test(manifest_report, markdown_matches_golden_and_fits_a_page) {
    struct fixture f = {0};
    build(&f, NULL);
    char *s = render(f.r, cordon_report_write_markdown);
    golden(s, "expected.md");
    size_t lines = 0;
    for (const char *p = s; *p; p++)
        lines += *p == '\n';
    cr_assert(le(sz, lines, 70));
    free(s);
    release(&f);
}

Test(manifest_report, json_matches_golden_and_its_schema) {
    struct fixture f = {0};
    build(&f, NULL);
    char *s = render(f.r, cordon_report_write_json);
    golden(s, "expected.json");
    json_error_t je;
    json_t *j = json_loads(s, 0, &je);
    cr_assert(j != NULL, "%s", je.text);
    cr_assert(eq(int, (int)json_integer_value(json_object_get(j, "cordon_report")), 1));
    json_t *b = json_object_get(j, "breaches");
    cr_assert(eq(sz, json_array_size(b), f.r->n_breaches));
    json_decref(j);
    free(s);
    release(&f);
}

/* Find a breach by path; NULL if it is not one. */
static const struct cordon_report_breach *breach(const struct cordon_report *r, const char *path) {
    for (size_t i = 0; i < r->n_breaches; i++)
        if (strcmp(r->breaches[i].path, path) == 0)
            return &r->breaches[i];
    return NULL;
}

Test(manifest_report, categories_owners_and_fixes) {
    struct fixture f = {0};
    build(&f, NULL);
    const struct cordon_report_breach *b = breach(f.r, "/home/u/.gitconfig");
    cr_assert(b != NULL);
    cr_assert(eq(str, (char *)cordon_category_name(b->category), "user-config"));
    cr_assert(not(b->has_owner));
    cr_assert(eq(str, b->fix, "hide ${HOME}/.gitconfig"));
    b = breach(f.r, "/usr/include/zconf.h");
    cr_assert(b != NULL);
    cr_assert(eq(str, (char *)cordon_category_name(b->category), "system-header"));
    cr_assert(eq(str, (char *)b->owner.name, "zlib1g-dev"));
    b = breach(f.r, "/usr/local/include/zlib.h");
    cr_assert(eq(str, (char *)cordon_category_name(b->category), "system-header"));
    cr_assert(not(b->has_owner));
    char chain[256];
    cr_assert(eq(str, (char *)cordon_report_ancestry(f.r, b->pid, chain, sizeof chain),
                 "make > sh > gcc > cc1"));
    /* The C library's headers and what was only stat'ed or probed are not breaches. */
    cr_assert(breach(f.r, "/usr/include/stdio.h") == NULL);
    cr_assert(breach(f.r, "/usr/include/x86_64-linux-gnu/bits/types.h") == NULL);
    cr_assert(breach(f.r, "/home/u/.bashrc") == NULL);
    cr_assert(breach(f.r, "/usr/local/include/nothere.h") == NULL);
    cr_assert(breach(f.r, "/proc/self/maps") == NULL);
    cr_assert(breach(f.r, "/tmp/cc123.s") == NULL);
    b = breach(f.r, "/etc/build-stamp");
    cr_assert(eq(str, (char *)cordon_category_name(b->category), "write-outside"));
    cr_assert(eq(str, b->fix, "tmpfs /etc"));
    /* Variables that steer the build, not TERM, not an unset PYTHONPATH. */
    cr_assert(eq(sz, f.r->n_env, 4));
    release(&f);
}

Test(manifest_report, declared_prefixes_are_not_breaches) {
    struct fixture f = {0};
    char *declared[] = {"/opt/tools", "/usr/local/include", NULL};
    build(&f, declared);
    cr_assert(breach(f.r, "/opt/tools/share/x.dat") == NULL);
    cr_assert(breach(f.r, "/usr/local/include/zlib.h") == NULL);
    cr_assert(breach(f.r, "/home/u/.gitconfig") != NULL);
    release(&f);
}

Test(manifest_report, steering_variables) {
    cr_assert(cordon_report_env_steers("CFLAGS"));
    cr_assert(cordon_report_env_steers("PKG_CONFIG_PATH"));
    cr_assert(cordon_report_env_steers("PIP_INDEX_URL"));
    cr_assert(cordon_report_env_steers("PYTHONPATH"));
    cr_assert(cordon_report_env_steers("BOOST_ROOT"));
    cr_assert(not(cordon_report_env_steers("TERM")));
    cr_assert(not(cordon_report_env_steers("HOME")));
}

Test(manifest_report, html_is_self_contained_and_shows_every_breach) {
    struct fixture f = {0};
    build(&f, NULL);
    char *s = render(f.r, cordon_report_write_html);
    cr_assert(strncmp(s, "<!DOCTYPE html>", 15) == 0);
    cr_assert(strstr(s, "</html>\n") != NULL);
    for (size_t i = 0; i < f.r->n_breaches; i++)
        cr_assert(strstr(s, f.r->breaches[i].path) != NULL, "%s", f.r->breaches[i].path);
    /* Nothing fetched from elsewhere, and text is escaped. */
    cr_assert(strstr(s, "http://") == NULL && strstr(s, "https://") == NULL);
    cr_assert(strstr(s, "<script") == NULL && strstr(s, "<link") == NULL);
    cr_assert(strstr(s, "PIP_INDEX_URL=&lt;redacted&gt;") != NULL);
    free(s);
    release(&f);
}

Test(manifest_report, a_write_where_a_tool_keeps_files_gets_a_tmpfs) {
    struct cordon_error err;
    struct cordon_manifest *m = NULL;
    cr_assert(eq(int, cordon_manifest_read(DATA "/poisoned.json", &m, &err), 0));
    struct cordon_output *o = cordon_manifest_add_output(m, "/home/u/.cache/ccache/x/y.o");
    o->type = CORDON_FT_FILE;
    o->pid = 12;
    cordon_manifest_sort(m);
    struct cordon_kb *kb = NULL;
    cr_assert(eq(int, cordon_kb_load_dir(CORDON_TEST_DATA "/../../knowledge", &kb, &err), 0));
    struct cordon_report *r = NULL;
    cr_assert(eq(int, cordon_report_build(m, "m", kb, NULL, NULL, &r, &err), 0));
    const struct cordon_report_breach *b = breach(r, "/home/u/.cache/ccache/x/y.o");
    cr_assert(b != NULL);
    cr_assert(eq(str, (char *)cordon_category_name(b->category), "write-outside"));
    cr_assert(eq(str, b->fix, "tmpfs ${XDG_CACHE_HOME}/ccache"));
    cr_assert(eq(str, (char *)b->tool, "ccache"));
    cr_assert(strstr(b->explanation, "the build wrote /home/u/.cache/ccache/x/y.o") != NULL);
    cr_assert(strstr(b->explanation, "; ccache returns object files") != NULL, "%s",
              b->explanation);
    cordon_report_free(r);
    cordon_kb_free(kb);
    cordon_manifest_free(m);
}

Test(manifest_report, json_holds_paths_that_are_not_utf8) {
    struct cordon_manifest *m = cordon_manifest_new();
    char *env[] = {"HOME=/home/u", NULL};
    m->command.env = cordon_strv_copy(env);
    struct cordon_input *in = cordon_manifest_add_input(m, "/opt/caf\xe9/x\"y");
    in->type = CORDON_FT_FILE;
    in->uses = CORDON_USE_READ;
    cordon_manifest_sort(m);
    struct cordon_error err;
    struct cordon_kb *kb = NULL;
    cr_assert(eq(int, cordon_kb_load_dir(CORDON_TEST_DATA "/../../knowledge", &kb, &err), 0));
    struct cordon_report *r = NULL;
    cr_assert(eq(int, cordon_report_build(m, "m", kb, NULL, NULL, &r, &err), 0));
    cr_assert(eq(sz, r->n_breaches, 1));
    char *s = render(r, cordon_report_write_json);
    json_error_t je;
    json_t *j = json_loads(s, 0, &je);
    cr_assert(j != NULL, "%s: %s", je.text, s);
    const char *path = json_string_value(
        json_object_get(json_array_get(json_object_get(j, "breaches"), 0), "path"));
    /* U+10FFE9 for the byte 0xE9, as the manifest writes it. */
    cr_assert(eq(str, (char *)path, "/opt/caf\xf4\x8f\xbf\xa9/x\"y"));
    json_decref(j);
    free(s);
    cordon_report_free(r);
    cordon_kb_free(kb);
    cordon_manifest_free(m);
}
