/* bisect's pure parts: the halving search with a fake oracle (culprit sets
 * of size 0, 1 and 2, "either" and "both" culprits, runs about
 * k * log2(n)), and the candidates file. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cordon/error.h>
#include <cordon/hash.h>
#include <cordon/learn.h>
#include <cordon/manifest.h>
#include <cordon/util.h>

/* The fake build: fails (exit 1) when `need` of the culprits are added. */
struct oracle {
    const size_t *culprits;
    size_t n_culprits;
    size_t need; /* 1: any one of them (either), n_culprits: all of them (both) */
    size_t runs;
    int fail_at;     /* make run number fail_at return -EIO (0: never) */
    char *seen[512]; /* the subsets asked for, to check none is asked twice */
    size_t n_seen;
};

static void oracle_release(struct oracle *o) {
    for (size_t i = 0; i < o->n_seen; i++)
        free(o->seen[i]);
    o->n_seen = 0;
}

static int fake_run(void *ctx, const size_t *subset, size_t k) {
    struct oracle *o = ctx;
    o->runs++;
    if (o->fail_at && (size_t)o->fail_at == o->runs)
        return -EIO;
    for (size_t i = 1; i < k; i++)
        cr_assert(subset[i - 1] < subset[i], "the subset is sorted and has no duplicates");
    char *key = calloc(k * 12 + 2, 1);
    cr_assert(key != NULL);
    for (size_t i = 0; i < k; i++)
        sprintf(key + strlen(key), "%zu,", subset[i]);
    for (size_t i = 0; i < o->n_seen; i++)
        cr_assert(strcmp(o->seen[i], key) != 0, "the subset {%s} was run twice", key);
    if (o->n_seen < sizeof o->seen / sizeof o->seen[0])
        o->seen[o->n_seen++] = key;
    else
        free(key);
    size_t hit = 0;
    for (size_t c = 0; c < o->n_culprits; c++)
        for (size_t i = 0; i < k; i++)
            if (subset[i] == o->culprits[c])
                hit++;
    return o->n_culprits && hit >= o->need ? 1 : 0;
}

static size_t log2_ceil(size_t n) {
    size_t l = 0;
    while (((size_t)1 << l) < n)
        l++;
    return l;
}

static void check_groups(const struct cordon_bisect_result *r, size_t n_groups, const size_t *sizes,
                         const size_t *items) {
    cr_assert(eq(sz, r->n_groups, n_groups));
    size_t at = 0;
    for (size_t g = 0; g < n_groups; g++) {
        cr_assert(eq(sz, r->groups[g].n, sizes[g]), "group %zu", g);
        for (size_t i = 0; i < sizes[g]; i++)
            cr_assert(eq(sz, r->groups[g].items[i], items[at + i]), "group %zu item %zu", g, i);
        at += sizes[g];
    }
}

Test(replayer_bisect, one_culprit_in_logarithmic_runs) {
    const size_t ns[] = {1, 2, 5, 20, 21, 64, 200, 1000};
    for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
        size_t n = ns[t];
        const size_t where[] = {0, n / 2, n - 1};
        for (size_t w = 0; w < 3; w++) {
            size_t culprit = where[w];
            struct oracle o = {.culprits = &culprit, .n_culprits = 1, .need = 1};
            struct cordon_bisect_result r;
            cr_assert(eq(int, cordon_bisect_search(n, fake_run, &o, 0, &r), 0));
            cr_assert(r.differs);
            cr_assert(eq(int, r.reference, 0));
            cr_assert(eq(int, r.all, 1));
            size_t sizes[] = {1};
            check_groups(&r, 1, sizes, &culprit);
            cr_assert(eq(sz, r.runs, o.runs), "the result counts every run");
            /* reference, all, one halving per bit, the group alone, the rest */
            size_t bound = log2_ceil(n) + 4;
            cr_assert(r.runs <= bound, "n=%zu culprit %zu: %zu runs > %zu", n, culprit, r.runs,
                      bound);
            cr_assert(r.runs < n + 2 || n < 8, "n=%zu: fewer runs than one per candidate", n);
            cr_assert(not(r.gave_up));
            cordon_bisect_result_release(&r);
            oracle_release(&o);
        }
    }
}

Test(replayer_bisect, two_culprits_needed_together_form_one_group) {
    size_t culprits[] = {3, 29};
    struct oracle o = {.culprits = culprits, .n_culprits = 2, .need = 2};
    struct cordon_bisect_result r;
    cr_assert(eq(int, cordon_bisect_search(32, fake_run, &o, 0, &r), 0));
    size_t sizes[] = {2};
    check_groups(&r, 1, sizes, culprits);
    cr_assert(r.runs <= 2 * (log2_ceil(32) + 2) + 2, "%zu runs", r.runs);
    cordon_bisect_result_release(&r);
    oracle_release(&o);

    size_t c2[] = {13, 20};
    o = (struct oracle){.culprits = c2, .n_culprits = 2, .need = 2};
    cr_assert(eq(int, cordon_bisect_search(21, fake_run, &o, 0, &r), 0));
    check_groups(&r, 1, sizes, c2);
    cordon_bisect_result_release(&r);
    oracle_release(&o);
}

Test(replayer_bisect, two_culprits_either_of_which_suffices_form_two_groups) {
    /* pip.conf or PIP_INDEX_URL: each alone poisons the build */
    size_t culprits[] = {7, 22};
    struct oracle o = {.culprits = culprits, .n_culprits = 2, .need = 1};
    struct cordon_bisect_result r;
    cr_assert(eq(int, cordon_bisect_search(23, fake_run, &o, 0, &r), 0));
    size_t sizes[] = {1, 1};
    check_groups(&r, 2, sizes, culprits);
    size_t bound = 2 * (log2_ceil(23) + 2) + 2;
    cr_assert(r.runs <= bound, "%zu runs > %zu", r.runs, bound);
    cr_assert(r.runs < 23, "%zu runs for 23 candidates", r.runs);
    cordon_bisect_result_release(&r);
    oracle_release(&o);
}

Test(replayer_bisect, runs_grow_with_k_log2_n) {
    /* k independent culprits among n: at most k * (log2(n) + 2) + 2 runs */
    size_t n = 512;
    size_t culprits[] = {5, 77, 300, 511};
    for (size_t k = 1; k <= 4; k++) {
        struct oracle o = {.culprits = culprits, .n_culprits = k, .need = 1};
        struct cordon_bisect_result r;
        cr_assert(eq(int, cordon_bisect_search(n, fake_run, &o, 0, &r), 0));
        cr_assert(eq(sz, r.n_groups, k));
        size_t bound = k * (log2_ceil(n) + 2) + 2;
        cr_assert(r.runs <= bound, "k=%zu: %zu runs > %zu", k, r.runs, bound);
        cordon_bisect_result_release(&r);
        oracle_release(&o);
    }
}

Test(replayer_bisect, nothing_differs_with_no_culprit) {
    struct oracle o = {.n_culprits = 0};
    struct cordon_bisect_result r;
    cr_assert(eq(int, cordon_bisect_search(10, fake_run, &o, 0, &r), 0));
    cr_assert(not(r.differs));
    cr_assert(eq(sz, r.n_groups, 0));
    cr_assert(eq(sz, r.runs, 2), "the reference and everything: nothing to bisect");
    cordon_bisect_result_release(&r);
    oracle_release(&o);
}

Test(replayer_bisect, zero_candidates_take_one_run_each_way) {
    struct oracle o = {.n_culprits = 0};
    struct cordon_bisect_result r;
    cr_assert(eq(int, cordon_bisect_search(0, fake_run, &o, 0, &r), 0));
    cr_assert(not(r.differs));
    cr_assert(eq(sz, r.n_groups, 0));
    cordon_bisect_result_release(&r);
    oracle_release(&o);
}

Test(replayer_bisect, the_run_limit_stops_the_search_and_says_so) {
    size_t culprit = 100;
    struct oracle o = {.culprits = &culprit, .n_culprits = 1, .need = 1};
    struct cordon_bisect_result r;
    cr_assert(eq(int, cordon_bisect_search(200, fake_run, &o, 4, &r), 0));
    cr_assert(r.gave_up);
    cr_assert(eq(sz, r.runs, 4));
    cr_assert(eq(sz, o.runs, 4));
    cordon_bisect_result_release(&r);
    oracle_release(&o);
}

Test(replayer_bisect, an_oracle_error_stops_the_search) {
    size_t culprit = 3;
    struct oracle o = {.culprits = &culprit, .n_culprits = 1, .need = 1, .fail_at = 3};
    struct cordon_bisect_result r;
    cr_assert(eq(int, cordon_bisect_search(16, fake_run, &o, 0, &r), -EIO));
    cordon_bisect_result_release(&r);
    oracle_release(&o);
}

static char tmp[64];

static void make_tmp(void) {
    snprintf(tmp, sizeof tmp, "/tmp/cordon-test-bisect.XXXXXX");
    cr_assert(mkdtemp(tmp) != NULL);
}

static void remove_tmp(void) {
    char p[128];
    snprintf(p, sizeof p, "%s/c", tmp);
    unlink(p);
    rmdir(tmp);
}

static void write_candidates(const char *text, char *path) {
    snprintf(path, 128, "%s/c", tmp);
    FILE *f = fopen(path, "w");
    cr_assert(f != NULL);
    fputs(text, f);
    fclose(f);
}

Test(replayer_bisect, candidates_file_takes_paths_and_variables, .init = make_tmp,
     .fini = remove_tmp) {
    char path[128];
    write_candidates("# a comment\n"
                     "file /home/u/.config/pip/pip.conf\n"
                     "/home/u/.pip//pip.conf   # trailing comment\n"
                     "env PIP_INDEX_URL\n"
                     "env CFLAGS=-O0\n"
                     "LANG=C\n"
                     "\n",
                     path);
    char *env[] = {"PIP_INDEX_URL=http://poison.invalid/simple", NULL};
    struct cordon_candidates c = {0};
    struct cordon_error err = {0};
    cr_assert(eq(int, cordon_bisect_candidates_load(path, env, &c, &err), 0), "%s", err.text);
    cr_assert(eq(sz, c.n, 5));
    cr_assert(eq(int, c.items[0].kind, CORDON_CANDIDATE_FILE));
    cr_assert(eq(str, c.items[0].name, "/home/u/.config/pip/pip.conf"));
    cr_assert(eq(str, c.items[1].name, "/home/u/.pip/pip.conf"), "normalised");
    cr_assert(eq(int, c.items[2].kind, CORDON_CANDIDATE_ENV));
    cr_assert(eq(str, c.items[2].name, "PIP_INDEX_URL"));
    cr_assert(eq(str, c.items[2].value, "http://poison.invalid/simple"), "the host's value");
    cr_assert(eq(str, c.items[3].value, "-O0"));
    cr_assert(eq(str, c.items[4].name, "LANG"));
    cordon_candidates_release(&c);
}

Test(replayer_bisect, candidates_file_errors_name_the_line, .init = make_tmp, .fini = remove_tmp) {
    char path[128];
    struct cordon_candidates c = {0};
    struct cordon_error err = {0};
    write_candidates("file /ok\nrelative/path\n", path);
    cr_assert(eq(int, cordon_bisect_candidates_load(path, NULL, &c, &err), -EINVAL));
    cr_assert(eq(int, err.line, 2));
    cr_assert(eq(str, err.path, path));
    cordon_candidates_release(&c);

    write_candidates("env NOT_SET_HERE\n", path);
    cordon_error_clear(&err);
    cr_assert(eq(int, cordon_bisect_candidates_load(path, NULL, &c, &err), -EINVAL));
    cr_assert(eq(int, err.line, 1));
    cr_assert(strstr(err.text, "NOT_SET_HERE") != NULL, "%s", err.text);
    cordon_candidates_release(&c);

    write_candidates("env 1BAD=x\n", path);
    cr_assert(eq(int, cordon_bisect_candidates_load(path, NULL, &c, &err), -EINVAL));
    cordon_candidates_release(&c);

    cr_assert(eq(int, cordon_bisect_candidates_load("/nonexistent/c", NULL, &c, &err), -ENOENT));
}

/* ---- candidates from a manifest, a root and this host ---------------------- */

static void put(const char *rel, const char *text) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s", tmp, rel);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    cordon_mkdir_p(p, 0755);
    *slash = '/';
    FILE *f = fopen(p, "w");
    cr_assert(f != NULL, "%s", p);
    fputs(text, f);
    fclose(f);
}

static void remove_tree(void) {
    cordon_rm_rf(tmp);
}

static struct cordon_input *add_in(struct cordon_manifest *m, const char *rel, enum cordon_ftype t,
                                   const char *content) {
    char p[256];
    snprintf(p, sizeof p, "%s/host/%s", tmp, rel);
    struct cordon_input *in = cordon_manifest_add_input(m, p);
    cr_assert(in != NULL);
    in->type = t;
    in->uses = t == CORDON_FT_MISSING ? CORDON_USE_PROBE : CORDON_USE_READ;
    if (content) {
        in->size = strlen(content);
        in->has_hash = true;
        cordon_hash_buffer(content, strlen(content), &in->hash);
    }
    return in;
}

Test(replayer_bisect, candidates_are_what_the_host_has_and_the_replay_lacks, .init = make_tmp,
     .fini = remove_tree) {
    /* the host: tmp/host/...; the unpacked root: tmp/root/<the same paths> */
    struct cordon_manifest *m = cordon_manifest_new();
    char w[256], root[256];
    snprintf(w, sizeof w, "%s/host/work", tmp);
    snprintf(root, sizeof root, "%s/root", tmp);
    m->worktree = strdup(w);
    m->command.cwd = strdup(w);
    char *env[] = {"HOME=/nonexistent", "A=1", "B=2", "S=<redacted>", NULL};
    m->command.env = cordon_strv_copy(env);
    put("host/dropped", "left out\n");
    add_in(m, "dropped", CORDON_FT_FILE, "left out\n");
    put("host/same", "same\n");
    add_in(m, "same", CORDON_FT_FILE, "same\n");
    char rp[256];
    snprintf(rp, sizeof rp, "root%s/host/same", tmp);
    put(rp, "same\n");
    put("host/changed", "new content\n");
    add_in(m, "changed", CORDON_FT_FILE, "old content\n");
    snprintf(rp, sizeof rp, "root%s/host/changed", tmp);
    put(rp, "old content\n");
    put("host/appeared", "now here\n");
    add_in(m, "appeared", CORDON_FT_MISSING, NULL);
    add_in(m, "gone", CORDON_FT_FILE, "gone\n"); /* on neither */
    put("host/work/src.c", "int x;\n");
    add_in(m, "work/src.c", CORDON_FT_FILE, "int y;\n"); /* the work tree: never */
    cordon_manifest_sort(m);

    char *host_env[] = {"A=1", "B=3", "C=5", "S=secret", "PWD=/x", "LD_PRELOAD=/evil.so", NULL};
    char *replay_env[] = {"HOME=/nonexistent", "A=1", "B=2", NULL};
    struct cordon_candidates c = {0};
    struct cordon_error err = {0};
    cr_assert(eq(int, cordon_bisect_candidates(m, root, host_env, replay_env, &c, &err), 0), "%s",
              err.text);
    cr_assert(eq(sz, c.n, 6));
    char p[256];
    snprintf(p, sizeof p, "%s/host/appeared", tmp);
    cr_assert(eq(str, c.items[0].name, p));
    cr_assert(strstr(c.items[0].why, "missing when recorded") != NULL, "%s", c.items[0].why);
    snprintf(p, sizeof p, "%s/host/changed", tmp);
    cr_assert(eq(str, c.items[1].name, p));
    cr_assert(strstr(c.items[1].why, "differs here") != NULL, "%s", c.items[1].why);
    snprintf(p, sizeof p, "%s/host/dropped", tmp);
    cr_assert(eq(str, c.items[2].name, p));
    cr_assert(strstr(c.items[2].why, "left out of the archive") != NULL, "%s", c.items[2].why);
    cr_assert(eq(int, c.items[3].kind, CORDON_CANDIDATE_ENV));
    cr_assert(eq(str, c.items[3].name, "B"));
    cr_assert(eq(str, c.items[3].value, "3"));
    cr_assert(strstr(c.items[3].why, "another value") != NULL);
    cr_assert(eq(str, c.items[4].name, "C"));
    cr_assert(strstr(c.items[4].why, "not in the recording") != NULL);
    cr_assert(eq(str, c.items[5].name, "S"));
    cr_assert(strstr(c.items[5].why, "redacted") != NULL);
    cordon_candidates_release(&c);

    /* a run's root: the pristine one linked, the work tree copied, the
     * chosen candidates added from the host */
    snprintf(rp, sizeof rp, "root%s/host/work/src.c", tmp);
    put(rp, "int y;\n");
    struct cordon_candidates two = {0};
    snprintf(p, sizeof p, "%s/host/dropped", tmp);
    cr_assert(eq(int, cordon_candidates_add(&two, CORDON_CANDIDATE_FILE, p, NULL, NULL), 0));
    snprintf(p, sizeof p, "%s/host/changed", tmp);
    cr_assert(eq(int, cordon_candidates_add(&two, CORDON_CANDIDATE_FILE, p, NULL, NULL), 0));
    cr_assert(eq(int, cordon_candidates_add(&two, CORDON_CANDIDATE_ENV, "B", "3", NULL), 0));
    char run[256];
    snprintf(run, sizeof run, "%s/run", tmp);
    size_t subset[] = {1, 2};
    cr_assert(eq(int, cordon_bisect_prepare_root(m, root, run, &two, subset, 2, &err), 0), "%s",
              err.text);
    char a[512], b[512];
    struct stat sa, sb;
    snprintf(a, sizeof a, "%s%s/host/same", root, tmp);
    snprintf(b, sizeof b, "%s%s/host/same", run, tmp);
    cr_assert(eq(int, stat(a, &sa), 0));
    cr_assert(eq(int, stat(b, &sb), 0));
    cr_assert(eq(u64, (uint64_t)sa.st_ino, (uint64_t)sb.st_ino), "linked");
    snprintf(a, sizeof a, "%s%s/host/work/src.c", root, tmp);
    snprintf(b, sizeof b, "%s%s/host/work/src.c", run, tmp);
    stat(a, &sa);
    cr_assert(eq(int, stat(b, &sb), 0));
    cr_assert(sa.st_ino != sb.st_ino, "the work tree is copied");
    /* #2 (changed) added: the host's content replaced the root's, and the
     * pristine root kept its own */
    snprintf(b, sizeof b, "%s%s/host/changed", run, tmp);
    FILE *f = fopen(b, "r");
    cr_assert(f != NULL);
    char line[64] = {0};
    cr_assert(fgets(line, sizeof line, f) != NULL);
    fclose(f);
    cr_assert(eq(str, line, "new content\n"));
    snprintf(a, sizeof a, "%s%s/host/changed", root, tmp);
    f = fopen(a, "r");
    cr_assert(f != NULL);
    cr_assert(fgets(line, sizeof line, f) != NULL);
    fclose(f);
    cr_assert(eq(str, line, "old content\n"));
    /* #1 (dropped) not chosen: absent */
    snprintf(b, sizeof b, "%s%s/host/dropped", run, tmp);
    cr_assert(ne(int, access(b, F_OK), 0));
    cordon_candidates_release(&two);
    cordon_manifest_free(m);
}
