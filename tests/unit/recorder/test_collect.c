/* The collector: from a log of hook records to a manifest. Each test writes
 * the records a build would have produced, around real files in a fresh
 * directory, and checks what the manifest says. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <cordon/error.h>
#include <cordon/hash.h>
#include <cordon/manifest.h>
#include <cordon/record.h>
#include <cordon/store.h>
#include <cordon/trace.h>
#include <cordon/util.h>

#include "log_fixture.h"

static char store[PATH_MAX];

static void setup(void) {
    log_fixture_open("collect");
    snprintf(store, sizeof store, "%s/store", dir);
}

TestSuite(recorder_collect, .init = setup, .fini = log_fixture_close);

static struct cordon_manifest *collect(const struct cordon_snapshot *snap) {
    struct cordon_collect_options o = {.log = logpath,
                                       .snapshot = snap,
                                       .store = store,
                                       .worktree = dir,
                                       .root_pid = 100,
                                       .quiet = true};
    struct cordon_manifest *m = NULL;
    struct cordon_error err;
    cordon_error_clear(&err);
    int r = cordon_record_collect(&o, &m, &err);
    cr_assert(eq(int, r, 0), "collect failed: %s", err.text);
    return m;
}

Test(recorder_collect, a_file_read_is_an_input_with_its_hash) {
    char a[PATH_MAX];
    path_in(a, "a.h");
    write_file(a, "int a;\n");
    emit(CORDON_TRACE_OPEN, 100, 0, O_RDONLY, a, NULL);
    struct cordon_manifest *m = collect(NULL);
    const struct cordon_input *in = cordon_manifest_find_input(m, a);
    cr_assert(in != NULL);
    cr_assert(eq(int, in->type, CORDON_FT_FILE));
    cr_assert(ne(u32, in->uses & CORDON_USE_READ, 0));
    cr_assert(in->has_hash);
    struct cordon_hash want;
    cordon_hash_buffer("int a;\n", 7, &want);
    cr_assert(cordon_hash_equal(&in->hash, &want));
    cr_assert(eq(u64, in->size, 7));
    cr_assert(eq(int, m->n_outputs, 0));
    cordon_manifest_free(m);
}

Test(recorder_collect, a_file_read_then_rewritten_keeps_its_first_content) {
    char a[PATH_MAX];
    path_in(a, "config.h");
    write_file(a, "#define OLD 1\n");
    struct cordon_snapshot *snap = NULL;
    struct cordon_error err;
    cr_assert(cordon_snapshot_take(store, dir, 0, NULL, &snap, &err) >= 0, "%s", err.text);
    emit(CORDON_TRACE_OPEN, 100, 0, O_RDONLY, a, NULL);
    write_file(a, "#define NEW 2 /* longer */\n");
    emit(CORDON_TRACE_OPEN, 100, 0, O_WRONLY | O_TRUNC, a, NULL);
    struct cordon_manifest *m = collect(snap);
    const struct cordon_input *in = cordon_manifest_find_input(m, a);
    cr_assert(in != NULL, "a file read before it was written is an input");
    struct cordon_hash old;
    cordon_hash_buffer("#define OLD 1\n", 14, &old);
    cr_assert(in->has_hash);
    cr_assert(cordon_hash_equal(&in->hash, &old), "the hash is of the content as first read");
    cr_assert(ne(u32, in->flags & CORDON_INPUT_CHANGED, 0));
    cr_assert(ne(u32, in->flags & CORDON_INPUT_STORED, 0), "flags %x", in->flags);
    cr_assert(cordon_store_has(store, &in->hash), "the store keeps the first content");
    const struct cordon_output *out = cordon_manifest_find_output(m, a);
    cr_assert(out != NULL, "and it is an output too");
    struct cordon_hash now;
    cordon_hash_buffer("#define NEW 2 /* longer */\n", 27, &now);
    cr_assert(cordon_hash_equal(&out->hash, &now));
    cordon_manifest_free(m);
    cordon_snapshot_free(snap);
}

Test(recorder_collect, a_rewritten_file_outside_the_snapshot_is_unhashed) {
    char a[PATH_MAX];
    path_in(a, "gen.c");
    write_file(a, "old\n");
    emit(CORDON_TRACE_OPEN, 100, 0, O_RDONLY, a, NULL);
    write_file(a, "new content\n");
    emit(CORDON_TRACE_OPEN, 100, 0, O_WRONLY | O_TRUNC, a, NULL);
    struct cordon_manifest *m = collect(NULL);
    const struct cordon_input *in = cordon_manifest_find_input(m, a);
    cr_assert(in != NULL);
    cr_assert(eq(int, in->has_hash, false), "never the later content");
    cr_assert(ne(u32, in->flags & CORDON_INPUT_UNHASHED, 0));
    cordon_manifest_free(m);
}

Test(recorder_collect, a_file_written_then_read_is_only_an_output) {
    char o[PATH_MAX];
    path_in(o, "x.o");
    write_file(o, "obj");
    emit(CORDON_TRACE_OPEN, 100, 0, O_WRONLY | O_CREAT | O_TRUNC, o, NULL);
    emit(CORDON_TRACE_OPEN, 101, 0, O_RDONLY, o, NULL);
    emit(CORDON_TRACE_STAT, 101, 0, 0, o, NULL);
    struct cordon_manifest *m = collect(NULL);
    cr_assert(cordon_manifest_find_input(m, o) == NULL);
    const struct cordon_output *out = cordon_manifest_find_output(m, o);
    cr_assert(out != NULL);
    cr_assert(out->has_hash);
    cordon_manifest_free(m);
}

Test(recorder_collect, a_probe_that_found_nothing_is_a_missing_input) {
    emit(CORDON_TRACE_STAT, 100, ENOENT, 0, "/usr/local/include/cordon-test-absent.h", NULL);
    emit(CORDON_TRACE_OPEN, 100, ENOENT, O_RDONLY, "/opt/cordon-test-absent/lib.so", NULL);
    struct cordon_manifest *m = collect(NULL);
    const struct cordon_input *in =
        cordon_manifest_find_input(m, "/usr/local/include/cordon-test-absent.h");
    cr_assert(in != NULL);
    cr_assert(eq(int, in->type, CORDON_FT_MISSING));
    cr_assert(ne(u32, in->uses & CORDON_USE_PROBE, 0), "uses %x", in->uses);
    cr_assert(cordon_manifest_find_input(m, "/opt/cordon-test-absent/lib.so") != NULL);
    cordon_manifest_free(m);
}

Test(recorder_collect, a_probe_for_what_the_build_then_makes_is_not_an_input) {
    char c[PATH_MAX];
    path_in(c, "conftest.c");
    emit(CORDON_TRACE_STAT, 100, ENOENT, 0, c, NULL);
    write_file(c, "int main(void){return 0;}\n");
    emit(CORDON_TRACE_OPEN, 100, 0, O_WRONLY | O_CREAT | O_TRUNC, c, NULL);
    struct cordon_manifest *m = collect(NULL);
    cr_assert(cordon_manifest_find_input(m, c) == NULL);
    cr_assert(cordon_manifest_find_output(m, c) != NULL);
    cordon_manifest_free(m);
}

Test(recorder_collect, a_rename_is_a_write_of_both_names) {
    char tmp[PATH_MAX], lo[PATH_MAX];
    path_in(tmp, "x.lo.tmp");
    path_in(lo, "x.lo");
    write_file(lo, "libtool object\n");
    emit(CORDON_TRACE_OPEN, 100, 0, O_WRONLY | O_CREAT | O_TRUNC, tmp, NULL);
    emit(CORDON_TRACE_RENAME, 100, 0, 0, tmp, lo);
    emit(CORDON_TRACE_OPEN, 101, 0, O_RDONLY, lo, NULL);
    struct cordon_manifest *m = collect(NULL);
    cr_assert(cordon_manifest_find_input(m, lo) == NULL, "a renamed-in output is no input");
    cr_assert(cordon_manifest_find_output(m, lo) != NULL);
    cr_assert(cordon_manifest_find_output(m, tmp) == NULL, "a temporary is nothing");
    cordon_manifest_free(m);
}

Test(recorder_collect, deleting_a_file_that_existed_is_an_output) {
    char a[PATH_MAX];
    path_in(a, "stale.o");
    write_file(a, "x");
    emit(CORDON_TRACE_STAT, 100, 0, 0, a, NULL);
    unlink(a);
    emit(CORDON_TRACE_UNLINK, 100, 0, 0, a, NULL);
    struct cordon_manifest *m = collect(NULL);
    const struct cordon_output *out = cordon_manifest_find_output(m, a);
    cr_assert(out != NULL);
    cr_assert(eq(int, out->type, CORDON_FT_MISSING));
    cordon_manifest_free(m);
}

Test(recorder_collect, a_symlink_read_records_the_link_and_its_file) {
    char f[PATH_MAX], l[PATH_MAX];
    path_in(f, "libz.so.1.3");
    path_in(l, "libz.so");
    write_file(f, "ELF");
    cr_assert(symlink("libz.so.1.3", l) == 0);
    emit(CORDON_TRACE_OPEN, 100, 0, O_RDONLY, l, NULL);
    struct cordon_manifest *m = collect(NULL);
    const struct cordon_input *li = cordon_manifest_find_input(m, l);
    cr_assert(li != NULL);
    cr_assert(eq(int, li->type, CORDON_FT_SYMLINK));
    cr_assert(eq(str, li->target, "libz.so.1.3"));
    const struct cordon_input *fi = cordon_manifest_find_input(m, f);
    cr_assert(fi != NULL, "the file behind the link is an input too");
    cr_assert(fi->has_hash);
    cordon_manifest_free(m);
}

static void emit_argv(int pid, const char *const *args, unsigned argc) {
    char chunk[512];
    size_t n = 0;
    for (unsigned i = 0; i < argc; i++) {
        size_t l = strlen(args[i]) + 1;
        memcpy(chunk + n, args[i], l);
        n += l;
    }
    struct cordon_trace_rec head = {
        .kind = CORDON_TRACE_ARGV, .pid = pid, .arg = 0, .mode = argc, .size = 1};
    char buf[CORDON_TRACE_MAX];
    /* The chunk is NUL-separated; its length includes the last NUL. */
    size_t len = cordon_trace_encode(buf, &head, chunk, n - 1, NULL, 0);
    cr_assert(write(logfd, buf, len) == (ssize_t)len);
}

Test(recorder_collect, processes_have_their_argv_parent_and_status) {
    emit(CORDON_TRACE_PROC, 100, 0, 1, "/usr/bin/make", dir);
    const char *margs[] = {"make", "-j2"};
    emit_argv(100, margs, 2);
    emit(CORDON_TRACE_EXEC, 101, 0, 0, "/usr/bin/gcc", NULL);
    emit(CORDON_TRACE_PROC, 101, 0, 100, "/usr/bin/x86_64-linux-gnu-gcc-12", dir);
    const char *gargs[] = {"gcc", "-c", "a.c"};
    emit_argv(101, gargs, 3);
    struct cordon_trace_rec w = {.kind = CORDON_TRACE_WAIT, .pid = 100, .arg = 1 << 8, .size = 101};
    char buf[CORDON_TRACE_MAX];
    size_t n = cordon_trace_encode(buf, &w, NULL, 0, NULL, 0);
    cr_assert(write(logfd, buf, n) == (ssize_t)n);
    struct cordon_manifest *m = collect(NULL);
    cr_assert(eq(sz, m->n_processes, 2));
    const struct cordon_process *gcc = &m->processes[1];
    cr_assert(eq(int, gcc->pid, 101));
    cr_assert(eq(int, gcc->ppid, 100));
    cr_assert(eq(str, gcc->exe, "/usr/bin/x86_64-linux-gnu-gcc-12"));
    cr_assert(gcc->argv != NULL);
    cr_assert(eq(str, gcc->argv[0], "gcc"));
    cr_assert(eq(str, gcc->argv[2], "a.c"));
    cr_assert(gcc->argv[3] == NULL);
    cr_assert(eq(int, gcc->status, 1 << 8));
    cr_assert(eq(u32, gcc->flags & CORDON_PROC_UNFINISHED, 0));
    cordon_manifest_free(m);
}

Test(recorder_collect, a_static_program_is_named_in_coverage) {
    emit(CORDON_TRACE_PROC, 100, 0, 1, "/bin/sh", dir);
    emit(CORDON_TRACE_EXEC, 102, 0, 1, "/sbin/ldconfig", NULL);
    struct cordon_manifest *m = collect(NULL);
    bool found = false;
    for (size_t i = 0; i < m->n_gaps; i++)
        if (!strcmp(m->gaps[i].kind, "static-exec") && m->gaps[i].path &&
            !strcmp(m->gaps[i].path, "/sbin/ldconfig") && m->gaps[i].pid == 102)
            found = true;
    cr_assert(found, "the static program is a coverage gap");
    cordon_manifest_free(m);
}

Test(recorder_collect, many_runs_of_one_static_program_are_one_gap) {
    for (int pid = 200; pid < 210; pid++)
        emit(CORDON_TRACE_EXEC, pid, 0, 1, "/bin/busybox", NULL);
    emit(CORDON_TRACE_EXEC, 300, 0, 1, "/sbin/ldconfig", NULL);
    struct cordon_manifest *m = collect(NULL);
    size_t busybox = 0, ldconfig = 0;
    for (size_t i = 0; i < m->n_gaps; i++) {
        const struct cordon_gap *g = &m->gaps[i];
        if (!strcmp(g->kind, "static-exec") && !strcmp(g->path, "/bin/busybox")) {
            busybox++;
            cr_assert(eq(int, g->pid, 200), "the first process is named");
            cr_assert(strstr(g->detail, "10 processes") != NULL, "%s", g->detail);
        }
        if (!strcmp(g->kind, "static-exec") && !strcmp(g->path, "/sbin/ldconfig"))
            ldconfig++;
    }
    cr_assert(eq(sz, busybox, 1));
    cr_assert(eq(sz, ldconfig, 1));
    cr_assert(eq(sz, m->n_processes, 11), "every process is still listed");
    cordon_manifest_free(m);
}

Test(recorder_collect, a_torn_last_record_is_a_gap_not_a_failure) {
    char a[PATH_MAX];
    path_in(a, "a.c");
    write_file(a, "x");
    emit(CORDON_TRACE_OPEN, 100, 0, O_RDONLY, a, NULL);
    char buf[CORDON_TRACE_MAX];
    struct cordon_trace_rec head = {.kind = CORDON_TRACE_OPEN, .pid = 100};
    size_t n = cordon_trace_encode(buf, &head, "/etc/passwd", 11, NULL, 0);
    cr_assert(write(logfd, buf, n / 2) == (ssize_t)(n / 2));
    struct cordon_manifest *m = collect(NULL);
    cr_assert(cordon_manifest_find_input(m, a) != NULL, "what came before is kept");
    bool gap = false;
    for (size_t i = 0; i < m->n_gaps; i++)
        gap |= !strcmp(m->gaps[i].kind, "truncated-log");
    cr_assert(gap);
    cordon_manifest_free(m);
}

Test(recorder_collect, secret_variables_are_redacted) {
    emit(CORDON_TRACE_GETENV, 100, 0, 1, "GITHUB_TOKEN", "ghp_verysecret");
    emit(CORDON_TRACE_GETENV, 100, 0, 1, "CC", "gcc");
    emit(CORDON_TRACE_GETENV, 100, 0, 0, "CORDON_TEST_KNOB", NULL);
    struct cordon_manifest *m = collect(NULL);
    cr_assert(eq(sz, m->n_env_reads, 3));
    for (size_t i = 0; i < m->n_env_reads; i++) {
        const struct cordon_env_read *e = &m->env_reads[i];
        if (!strcmp(e->name, "GITHUB_TOKEN")) {
            cr_assert(e->redacted);
            cr_assert(strstr(e->value, "verysecret") == NULL);
        } else if (!strcmp(e->name, "CC")) {
            cr_assert(eq(str, e->value, "gcc"));
        } else {
            cr_assert(eq(str, (char *)e->name, "CORDON_TEST_KNOB"));
            cr_assert(e->value == NULL, "an absent variable is recorded as absent");
        }
    }
    cordon_manifest_free(m);
}
