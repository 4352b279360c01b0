/* The streaming writer against jansson: the canonical form is, byte for
 * byte, json_dumps(JSON_SORT_KEYS | JSON_INDENT(2)) of the same document
 * plus a newline, which is what cordon wrote when it built a jansson tree. */
#include <errno.h>
#include <stdint.h>
#include <sys/wait.h>

#include <jansson.h>

#include <cordon/error.h>
#include <cordon/manifest.h>

#include "helpers.h"

/* Every byte 0x01..0xff once, so each escape path and each invalid UTF-8
 * byte is in some string. */
static char *every_byte(const char *prefix) {
    char *s = malloc(strlen(prefix) + 256);
    size_t n = strlen(prefix);
    memcpy(s, prefix, n);
    for (int b = 1; b < 256; b++)
        s[n++] = (char)b;
    s[n] = '\0';
    return s;
}

/* What jansson writes for the text `a` (parsed and dumped again). */
static char *jansson_redump(const char *a) {
    json_error_t jerr;
    json_t *root = json_loads(a, 0, &jerr);
    cr_assert(root != NULL, "jansson cannot parse the writer's output: %d:%d: %s", jerr.line,
              jerr.column, jerr.text);
    char *s = json_dumps(root, JSON_SORT_KEYS | JSON_INDENT(2));
    json_decref(root);
    cr_assert(s != NULL);
    size_t n = strlen(s);
    char *t = malloc(n + 2);
    memcpy(t, s, n);
    t[n] = '\n';
    t[n + 1] = '\0';
    free(s);
    return t;
}

static struct cordon_manifest *odd_manifest(void) {
    struct cordon_manifest *m = cordon_manifest_new();
    m->tool = strdup("cordon \"q\" \\ \t\x7f");
    m->worktree = strdup("/src/\xc3\xa9t\xc3\xa9");
    m->host.os = strdup("Linux");
    m->host.arch = strdup("x86_64");
    m->host.kernel = strdup("6.18.0\n");
    m->host.distro = every_byte("distro ");
    /* libc absent: the key is left out */
    char *argv[] = {"sh", "-c", "echo \"$X\" \x01\x1f|\\", "\xf0\x9f\x98\x80", "", NULL};
    char *env[] = {"A=\xe2\x82\xac", "B=\xed\xa0\x80", "C=\xf4\x8f\xbe\x80", NULL};
    m->command.argv = cordon_strv_copy(argv);
    m->command.env = cordon_strv_copy(env);
    m->command.cwd = strdup("/");
    m->command.status = 15; /* killed by SIGTERM: exit_code and signal */
    m->command.finished = false;
    m->command.start_ns = INT64_MIN;
    m->command.end_ns = INT64_MAX;

    struct cordon_input *in = cordon_manifest_add_input(m, "/a/every");
    free(in->path);
    in->path = every_byte("/a/");
    in->type = CORDON_FT_FILE;
    in->uses = (1u << CORDON_USE_COUNT) - 1;
    in->flags = CORDON_INPUT_CHANGED | CORDON_INPUT_UNHASHED | CORDON_INPUT_STORED;
    in->size = UINT64_MAX;
    in->mode = 07777;
    in->mtime_ns = -1;
    in->ino = (uint64_t)INT64_MAX + 1;
    in->has_hash = true;
    cordon_hash_buffer("x", 1, &in->hash);
    in->target = strdup("t\"");
    in->has_listing = true;
    cordon_hash_buffer("y", 1, &in->listing);
    in->first_pid = INT32_MAX;
    in->category = strdup("user-config");
    in = cordon_manifest_add_input(m, "/b/missing");
    in->type = CORDON_FT_MISSING;
    in->uses = CORDON_USE_PROBE;
    in->size = 5; /* not written for a missing input */
    in = cordon_manifest_add_input(m, "/c/other");
    in->type = CORDON_FT_OTHER;
    in = cordon_manifest_add_input(m, "/d/invalid-type");
    in->type = CORDON_FT_MAX; /* no name: written as "other" */

    struct cordon_output *o = cordon_manifest_add_output(m, "/o/1");
    o->type = CORDON_FT_SYMLINK;
    o->size = 3;
    o->mode = 0777;
    o->target = strdup("\xff\xfe");
    o->pid = 7;
    o->has_hash = true;
    cordon_hash_buffer("z", 1, &o->hash);
    o = cordon_manifest_add_output(m, "/o/2");
    o->type = CORDON_FT_MISSING;

    struct cordon_process *p = cordon_manifest_add_process(m, 1);
    p->ppid = 0;
    p->exe = strdup("/bin/sh");
    p->argv = cordon_strv_copy(argv);
    p->cwd = strdup("/tmp");
    p->status = 3 << 8;
    p->flags = CORDON_PROC_STATIC | CORDON_PROC_FORKED;
    p = cordon_manifest_add_process(m, 2);
    p->flags = CORDON_PROC_UNFINISHED;
    p->status = 9; /* not written: unfinished */
    p = cordon_manifest_add_process(m, 3);
    p->status = 0x137f; /* stopped: neither exited nor signalled */

    struct cordon_env_read *e = cordon_manifest_add_env_read(m, "TOKEN");
    e->value = strdup("<redacted>");
    e->redacted = true;
    e->first_pid = 1;
    cordon_manifest_add_env_read(m, "ABSENT");
    cordon_manifest_add_gap(m, NULL, NULL, 0, NULL);
    cordon_manifest_add_gap(m, "static-exec", "/sbin/ldconfig", 4, "line\nbreak");
    cordon_manifest_sort(m);
    return m;
}

Test(manifest_json_writer, matches_janssons_canonical_dump) {
    struct cordon_manifest *m = odd_manifest();
    char *a = cordon_manifest_dumps(m);
    cr_assert(a != NULL);
    char *b = jansson_redump(a);
    cr_assert(eq(str, a, b));
    /* the odd strings come back as they went in */
    cr_assert(strstr(a, "\"signal\": 15") != NULL);
    cr_assert(strstr(a, "\\u0001") != NULL, "controls are \\u00XX, as jansson writes them");
    free(a);
    free(b);
    cordon_manifest_free(m);
}

Test(manifest_json_writer, an_empty_manifest_matches_too) {
    struct cordon_manifest *m = cordon_manifest_new();
    char *a = cordon_manifest_dumps(m);
    char *b = jansson_redump(a);
    cr_assert(eq(str, a, b));
    cr_assert(strstr(a, "\"inputs\": []") != NULL);
    free(a);
    free(b);
    cordon_manifest_free(m);
}

Test(manifest_json_writer, odd_strings_round_trip) {
    struct cordon_manifest *m = odd_manifest();
    /* the reader refuses what a recording never writes */
    m->inputs[0].size = 1;
    free(m->command.argv[3]);
    m->command.argv[3] = every_byte("");
    char *a = cordon_manifest_dumps(m);
    struct cordon_manifest *back = NULL;
    struct cordon_error err;
    cr_assert(eq(int, cordon_manifest_loadb(a, strlen(a), "odd.json", &back, &err), 0), "%s",
              err.text);
    cr_assert(eq(str, back->inputs[0].path, m->inputs[0].path));
    cr_assert(eq(str, back->command.argv[3], m->command.argv[3]));
    cr_assert(eq(str, back->host.distro, m->host.distro));
    char *b = cordon_manifest_dumps(back);
    cr_assert(eq(str, a, b));
    free(a);
    free(b);
    cordon_manifest_free(m);
    cordon_manifest_free(back);
}

/* The reader's own parser accepts what jansson accepts and refuses what it
 * refuses, with jansson's message. */
Test(manifest_json_writer, parser_agrees_with_jansson) {
    static const char head[] = "{\"cordon_manifest\": 1, \"tool\": \"t\", \"host\": {}, "
                               "\"command\": {\"argv\": [\"make\"], \"status\": 0, "
                               "\"finished\": true}, \"inputs\": [], \"worktree\": ";
    static const char *const bad_tails[] = {
        "\"/a\\u0000\"}",
        "\"/a\\ud800\"}",
        "\"/a\\udc00\\ud800\"}",
        "\"/a\\x\"}",
        "\"/a\t\"}",
        "\"/a\xc0\xaf\"}",
        "\"/a\xed\xa0\x80\"}",
        "\"/a\xf4\x90\x80\x80\"}",
        "\"/a\"",
        "\"/a\"} x",
        "\"/a\", \"tool\": \"u\"}",
        "01}",
        "-}",
        "1.}",
        "1e}",
        "99999999999999999999}",
        "-9223372036854775809}",
        "1e999}",
        "tru}",
        "\"/a\xe2\x82",
    };
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(bad_tails); i++) {
        char text[1024];
        int n = snprintf(text, sizeof text, "%s%s", head, bad_tails[i]);
        json_error_t jerr;
        json_t *j = json_loadb(text, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
        cr_assert(j == NULL, "case %zu: jansson accepts it", i);
        struct cordon_manifest *m = NULL;
        struct cordon_error err;
        cr_expect(eq(int, cordon_manifest_loadb(text, (size_t)n, "p.json", &m, &err), -EINVAL),
                  "case %zu was accepted", i);
        cr_expect(eq(str, err.text, jerr.text), "case %zu", i);
        cr_expect(eq(int, err.line, jerr.line), "case %zu", i);
    }
    /* and what it accepts decodes as jansson decodes it */
    static const char good[] = "\"/caf\\u00e9/\\ud83d\\ude00/\\/\\\"\\\\\\b\\f\\n\\r\\t\", "
                               "\"outputs\": [], \"processes\": [], \"env_reads\": []}";
    char text[1024];
    int n = snprintf(text, sizeof text, "%s%s", head, good);
    struct cordon_manifest *m = NULL;
    struct cordon_error err;
    /* not normalised, so refused, but by the validation, naming the path */
    cr_assert(eq(int, cordon_manifest_loadb(text, (size_t)n, "p.json", &m, &err), -EINVAL));
    cr_assert(strstr(err.text, "worktree: '/caf\xc3\xa9/\xf0\x9f\x98\x80/"
                               "/\"\\\b\f\n\r\t'") != NULL,
              "%s", err.text);
    n = snprintf(text, sizeof text, "%s%s", head, "\"/caf\\u00e9/\\ud83d\\ude00\"}");
    cr_assert(eq(int, cordon_manifest_loadb(text, (size_t)n, "p.json", &m, &err), 0), "%s",
              err.text);
    cr_assert(eq(str, m->worktree, "/caf\xc3\xa9/\xf0\x9f\x98\x80"));
    cr_assert(eq(int, m->command.finished, 1));
    cordon_manifest_free(m);
}
