/* The JSON form: round trips, canonical order, the invalid corpus, and a large manifest (timed in
 * the log only; bench/scale.sh measures). */
#include <dirent.h>
#include <errno.h>
#include <time.h>

#include <cordon/error.h>
#include <cordon/manifest.h>

#include "helpers.h"

/* A manifest that uses every field, its entries added in `reverse` order or not. */
static struct cordon_manifest *sample(bool reverse) {
    struct cordon_manifest *m = cordon_manifest_new();
    m->tool = strdup("cordon 0.1.0");
    m->worktree = strdup("/src/zlib");
    cr_assert(eq(int, cordon_host_probe(&m->host), 0));
    char *argv[] = {"make", "-j2", NULL}, *env[] = {"CC=gcc", "HOME=/home/u", NULL};
    m->command.argv = cordon_strv_copy(argv);
    m->command.env = cordon_strv_copy(env);
    m->command.cwd = strdup("/src/zlib");
    m->command.status = 2 << 8;
    m->command.finished = true;
    m->command.start_ns = 1700000000000000000;
    m->command.end_ns = 1700000001000000000;
    for (int k = 0; k < 4; k++) {
        int i = reverse ? 3 - k : k;
        switch (i) {
        case 0: {
            struct cordon_input *in = cordon_manifest_add_input(m, "/usr/include/zlib.h");
            in->type = CORDON_FT_FILE;
            in->uses = CORDON_USE_READ | CORDON_USE_STAT;
            in->size = 1234;
            in->mode = 0644;
            in->mtime_ns = 1600000000123456789;
            in->ino = UINT64_MAX - 5; /* above INT64_MAX: written as negative */
            in->has_hash = true;
            cordon_hash_buffer("zlib", 4, &in->hash);
            in->first_pid = 100;
            in->category = strdup("system-header");
            in->flags = CORDON_INPUT_CHANGED | CORDON_INPUT_STORED;
            break;
        }
        case 1: {
            struct cordon_input *in = cordon_manifest_add_input(m, "/lib");
            in->type = CORDON_FT_SYMLINK;
            in->uses = CORDON_USE_READLINK;
            in->target = strdup("usr/lib");
            in->mode = 0777;
            break;
        }
        case 2: {
            struct cordon_input *in = cordon_manifest_add_input(m, "/usr/local/include/foo.h");
            in->type = CORDON_FT_MISSING;
            in->uses = CORDON_USE_PROBE;
            struct cordon_output *o = cordon_manifest_add_output(m, "/src/zlib/libz.a");
            o->type = CORDON_FT_FILE;
            o->size = 99;
            o->mode = 0644;
            o->has_hash = true;
            cordon_hash_buffer("a", 1, &o->hash);
            o->pid = 101;
            break;
        }
        case 3: {
            /* not UTF-8, and a name holding one of the escape code points */
            struct cordon_input *in =
                cordon_manifest_add_input(m, "/src/zlib/caf\xe9\xf4\x8f\xbf\xbf");
            in->type = CORDON_FT_DIR;
            in->uses = CORDON_USE_LIST;
            in->has_listing = true;
            cordon_hash_buffer("x\0y\0", 4, &in->listing);
            struct cordon_process *p = cordon_manifest_add_process(m, 101);
            p->ppid = 100;
            p->exe = strdup("/usr/bin/ar");
            char *pargv[] = {"ar", "rc", "libz.a", NULL};
            p->argv = cordon_strv_copy(pargv);
            p->cwd = strdup("/src/zlib");
            p->status = 9; /* SIGKILL */
            p = cordon_manifest_add_process(m, 100);
            p->flags = CORDON_PROC_UNFINISHED | CORDON_PROC_STATIC;
            struct cordon_env_read *e = cordon_manifest_add_env_read(m, "GITHUB_TOKEN");
            e->value = strdup("<redacted>");
            e->redacted = true;
            e = cordon_manifest_add_env_read(m, "CC");
            e->value = strdup("gcc");
            e->first_pid = 100;
            cordon_manifest_add_env_read(m, "ZLIB_DEBUG");
            cordon_manifest_add_gap(m, "static-exec", "/sbin/ldconfig", 100, "statically linked");
            break;
        }
        default:
            break;
        }
    }
    cordon_manifest_sort(m);
    return m;
}

Test(manifest_json, round_trip_is_byte_identical) {
    struct cordon_manifest *m = sample(false);
    char *a = cordon_manifest_dumps(m);
    cr_assert(a != NULL);
    struct cordon_manifest *back = NULL;
    struct cordon_error err;
    int r = cordon_manifest_loadb(a, strlen(a), "a.json", &back, &err);
    cr_assert(eq(int, r, 0), "%s", err.text);
    char *b = cordon_manifest_dumps(back);
    cr_assert(eq(str, a, b));
    cr_assert(eq(u64, back->inputs[2].ino, UINT64_MAX - 5));
    cr_assert(eq(str, back->inputs[1].path, "/src/zlib/caf\xe9\xf4\x8f\xbf\xbf"));
    cr_assert(a[strlen(a) - 1] == '\n', "ends with a newline");
    cr_assert(strstr(a, "\"cordon_manifest\": 1") != NULL);
    cr_assert(strstr(a, "\"signal\": 9") != NULL);
    cr_assert(strstr(a, "\"exit_code\": 2") != NULL);
    free(a);
    free(b);
    cordon_manifest_free(m);
    cordon_manifest_free(back);
}

Test(manifest_json, canonical_form_does_not_depend_on_insertion_order) {
    struct cordon_manifest *m1 = sample(false), *m2 = sample(true);
    char *a = cordon_manifest_dumps(m1), *b = cordon_manifest_dumps(m2);
    cr_assert(eq(str, a, b));
    free(a);
    free(b);
    cordon_manifest_free(m1);
    cordon_manifest_free(m2);
}

TestSuite(manifest_json_files, .init = tmpdir_setup, .fini = tmpdir_teardown);

Test(manifest_json_files, write_then_read_through_a_file) {
    char p[PATH_MAX];
    struct cordon_manifest *m = sample(false), *back = NULL;
    struct cordon_error err;
    cr_assert(eq(int, cordon_manifest_write(m, tpath(p, "m.json"), &err), 0), "%s", err.text);
    cr_assert(eq(int, cordon_manifest_read(p, &back, &err), 0), "%s", err.text);
    char *text = read_text(p), *again = cordon_manifest_dumps(back);
    cr_assert(eq(str, text, again));
    /* no temporary file is left behind */
    DIR *d = opendir(tmpdir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    cr_assert(eq(int, n, 1));
    free(text);
    free(again);
    cordon_manifest_free(m);
    cordon_manifest_free(back);
    cr_assert(eq(int, cordon_manifest_read(tpath(p, "absent.json"), &back, &err), -ENOENT));
    cr_assert(eq(str, err.path, p));
    cr_assert(eq(int,
                 cordon_manifest_write(m = cordon_manifest_new(), tpath(p, "no/dir/m.json"), &err),
                 -ENOENT));
    cordon_manifest_free(m);
}

Test(manifest_json, syntax_errors_name_line_and_column) {
    const char *text = "{\n  \"cordon_manifest\": 1,\n  \"tool\": x\n}\n";
    struct cordon_manifest *m = NULL;
    struct cordon_error err;
    cr_assert(eq(int, cordon_manifest_loadb(text, strlen(text), "bad.json", &m, &err), -EINVAL));
    cr_assert(eq(int, err.line, 3));
    cr_assert(gt(int, err.column, 0));
    cr_assert(eq(str, err.path, "bad.json"));
    cr_assert(m == NULL);
}

Test(manifest_json, unknown_version_is_eprotonosupport) {
    const char *text = "{\"cordon_manifest\": 7}";
    struct cordon_manifest *m = NULL;
    struct cordon_error err;
    cr_assert(
        eq(int, cordon_manifest_loadb(text, strlen(text), "v7.json", &m, &err), -EPROTONOSUPPORT));
    cr_assert(eq(str, err.text, "v7.json: unsupported manifest version 7 (this cordon reads 1)"));
}

/* The message the front end prints for a bad manifest names the manifest
 * first, whether the problem is the syntax, the top level or a field. */
Test(manifest_json, errors_start_with_the_manifest_name) {
    static const char head[] = "{\"cordon_manifest\": 1, \"tool\": \"t\", \"host\": {}, "
                               "\"command\": {\"argv\": [\"make\"], \"status\": 0, "
                               "\"finished\": true}, ";
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"{\n  \"cordon_manifest\": 1,\n  \"tool\": x\n}\n", "m.json:3:11: invalid token near 'x'"},
        {"[]", "m.json: expected a JSON object at the top level, got an array"},
        {"{}", "m.json: not a cordon manifest: missing field 'cordon_manifest'"},
        {"{\"cordon_manifest\": 7}",
         "m.json: unsupported manifest version 7 (this cordon reads 1)"},
        {"\"inputs\": [{\"path\": \"/a\", \"type\": \"file\", \"uses\": []}, {\"path\": \"b\"}]}",
         "m.json: inputs[1].path: 'b' is not an absolute path"},
        {"\"inputs\": [], \"outputs\": [{\"path\": \"/o\"}]}",
         "m.json: outputs[0]: missing field 'type'"},
    };
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(cases); i++) {
        char text[1024];
        /* Cases that start inside the top-level object get a valid head. */
        snprintf(text, sizeof text, "%s%s", cases[i].text[0] == '"' ? head : "", cases[i].text);
        struct cordon_manifest *m = NULL;
        struct cordon_error err;
        cordon_error_clear(&err);
        cr_expect(lt(int, cordon_manifest_loadb(text, strlen(text), "m.json", &m, &err), 0),
                  "case %zu was accepted", i);
        cr_expect(m == NULL);
        char msg[PATH_MAX + 1024];
        cr_expect(
            eq(str, (char *)cordon_error_format(&err, msg, sizeof msg), (char *)cases[i].want),
            "case %zu", i);
        cordon_manifest_free(m);
    }
}

/* Read from stdin ("-"), a manifest is called "<stdin>" in messages. */
Test(manifest_json_files, stdin_is_named_in_messages) {
    char p[PATH_MAX];
    write_file(tpath(p, "in.json"), "{}");
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    cr_assert(ge(int, fd, 0));
    cr_assert(eq(int, dup2(fd, STDIN_FILENO), STDIN_FILENO));
    close(fd);
    struct cordon_manifest *m = NULL;
    struct cordon_error err;
    cr_assert(eq(int, cordon_manifest_read("-", &m, &err), -EINVAL));
    char msg[PATH_MAX + 1024];
    cr_assert(eq(str, (char *)cordon_error_format(&err, msg, sizeof msg),
                 "<stdin>: not a cordon manifest: missing field 'cordon_manifest'"));
}

/* Every tests/data/manifest/invalid/<case>.json fails to load with an error
 * whose text contains <case>.error (first line). */
Test(manifest_json, invalid_corpus) {
    const char *dir = CORDON_TEST_DATA "/manifest/invalid";
    DIR *d = opendir(dir);
    cr_assert(d != NULL, "cannot open %s", dir);
    int cases = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        char jp[PATH_MAX], ep[PATH_MAX];
        snprintf(jp, sizeof jp, "%s/%s", dir, e->d_name);
        snprintf(ep, sizeof ep, "%s/%.*s.error", dir, (int)(n - 5), e->d_name);
        char *want = read_text(ep);
        cr_assert(want != NULL, "%s has no .error file", jp);
        want[strcspn(want, "\n")] = '\0';
        struct cordon_manifest *m = NULL;
        struct cordon_error err;
        cordon_error_clear(&err);
        int r = cordon_manifest_read(jp, &m, &err);
        cr_expect(lt(int, r, 0), "%s was accepted", e->d_name);
        cr_expect(m == NULL);
        char msg[PATH_MAX + 1024];
        cordon_error_format(&err, msg, sizeof msg);
        cr_expect(strstr(msg, want) != NULL, "%s: got '%s', want '%s'", e->d_name, msg, want);
        /* Whatever is wrong, the message starts with the manifest's name. */
        size_t jn = strlen(jp);
        cr_expect(strncmp(msg, jp, jn) == 0 && msg[jn] == ':', "%s: '%s' does not start with '%s:'",
                  e->d_name, msg, jp);
        cordon_manifest_free(m);
        free(want);
        cases++;
    }
    closedir(d);
    cr_assert(gt(int, cases, 10));
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(manifest_json, hundred_thousand_inputs_round_trip, .timeout = 60) {
    struct cordon_manifest *m = cordon_manifest_new();
    char *argv[] = {"make", NULL};
    m->command.argv = cordon_strv_copy(argv);
    /* inserted in reverse, so sorting has real work */
    for (int i = 99999; i >= 0; i--) {
        char p[64];
        snprintf(p, sizeof p, "/usr/include/d%03d/f%06d.h", i % 997, i);
        struct cordon_input *in = cordon_manifest_add_input(m, p);
        in->uses = CORDON_USE_READ;
        in->size = (uint64_t)i;
        in->has_hash = true;
        cordon_hash_buffer(p, strlen(p), &in->hash);
    }
    double t0 = now_s();
    cordon_manifest_sort(m);
    char *text = cordon_manifest_dumps(m);
    double t1 = now_s();
    struct cordon_manifest *back = NULL;
    struct cordon_error err;
    cr_assert(eq(int, cordon_manifest_loadb(text, strlen(text), "big", &back, &err), 0), "%s",
              err.text);
    double t2 = now_s();
    cr_assert(eq(sz, back->n_inputs, 100000));
    cr_assert(cordon_manifest_find_input(back, "/usr/include/d001/f000998.h") != NULL);
    cr_log_info("sort+dump %.3fs, load %.3fs", t1 - t0, t2 - t1);
    free(text);
    cordon_manifest_free(m);
    cordon_manifest_free(back);
}
