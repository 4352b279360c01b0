/* The strace importer on the fixtures ported from the Rust tree and on
 * small logs written here. */
#include <fcntl.h>

#include "test_import.h"

#define STRACE CORDON_IMPORT_STRACE
#define R CORDON_IMPORT_READ

/* The fixture as strace before 5.15 prints it: AT_FDCWD without the cwd. */
static char *without_cwd_annotations(const char *text) {
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    const char *p = text, *q;
    while ((q = strstr(p, "AT_FDCWD<"))) {
        cordon_strbuf_addn(&sb, p, (size_t)(q - p) + 8);
        p = strchr(q, '>') + 1;
    }
    cordon_strbuf_adds(&sb, p);
    return cordon_strbuf_detach(&sb);
}

Test(manifest_import_strace, poisoned_fixture_imports_cleanly) {
    struct cordon_import *imp = import_fixture(STRACE, "strace-poisoned.log");
    assert_no_warnings(imp);
    size_t n;
    const struct cordon_import_event *ev = cordon_import_events(imp, &n);
    for (size_t i = 1; i < n; i++)
        cr_assert(eq(u64, ev[i].seq, ev[i - 1].seq + 1));
    struct cordon_manifest *m = build(imp);
    cr_assert(eq(str, m->command.argv[0], "sh"));
    cr_assert(eq(str, m->command.cwd, "/home/u/src/pkg"));
    cr_assert(m->command.finished);
    cr_assert(eq(int, m->command.status, 0));
    cr_assert(has_gap(m, "imported"));
    cr_assert(has_gap(m, "import-limits"));
    cordon_manifest_free(m);
    cordon_import_free(imp);
}

Test(manifest_import_strace, poisoned_breaches_are_reads_by_their_process) {
    struct cordon_import *imp = import_fixture(STRACE, "strace-poisoned.log");
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(poisoned_reads); i++) {
        const struct cordon_import_event *e = one(imp, poisoned_reads[i].path, "openat", -1);
        cr_assert(eq(int, e->pid, poisoned_reads[i].pid), "%s", poisoned_reads[i].path);
        cr_assert(eq(int, e->op, R));
        cr_assert(eq(int, e->err, 0));
    }
    const struct cordon_import_event *e = one(imp, "/etc/gitconfig", "openat", -1);
    cr_assert(eq(int, e->pid, 101));
    cr_assert(eq(int, e->err, ENOENT));
    e = one(imp, "/etc/gitconfig", "access", -1);
    cr_assert(eq(int, e->op, CORDON_IMPORT_PROBE));
    /* An O_DIRECTORY open is a look at the directory, then its listing. */
    e = one(imp, "/home/u/.cmake/packages/Poison", "openat", -1);
    cr_assert(eq(int, e->op, CORDON_IMPORT_STAT));
    cr_assert(
        eq(sz, count_events(imp, "/home/u/.cmake/packages/Poison", "getdents64", -1, NULL), 2));
    /* Octal escapes decoded. */
    e = one(imp, "/home/u/src/pkg/caf\xc3\xa9", "newfstatat", -1);
    cr_assert(eq(int, e->err, ENOENT));

    /* In the manifest: the breach is an input, not on this host: unhashed. */
    struct cordon_manifest *m = build(imp);
    const struct cordon_input *in = cordon_manifest_find_input(m, "/home/u/.gitconfig");
    cr_assert(in != NULL);
    cr_assert(ne(u32, in->uses & CORDON_USE_READ, 0));
    cr_assert(ne(u32, in->flags & CORDON_INPUT_UNHASHED, 0));
    cr_assert(eq(int, in->first_pid, 101));
    in = cordon_manifest_find_input(m, "/home/u/.config/git/config");
    cr_assert(in != NULL);
    cr_assert(eq(int, in->type, CORDON_FT_MISSING));
    cr_assert(eq(u32, in->uses, CORDON_USE_PROBE));
    in = cordon_manifest_find_input(m, "/home/u/.cmake/packages/Poison");
    cr_assert(in != NULL && (in->uses & CORDON_USE_LIST) != 0);
    cr_assert(eq(int, in->type, CORDON_FT_DIR));
    cordon_manifest_free(m);
    cordon_import_free(imp);
}

Test(manifest_import_strace, processes_parents_programs_and_argv) {
    struct cordon_import *imp = import_fixture(STRACE, "strace-poisoned.log");
    struct cordon_manifest *m = build(imp);
    static const struct {
        int pid, ppid;
        const char *exe, *argv0, *argv_last;
    } want[] = {
        {100, 0, "/usr/bin/sh", "sh",
         "git config user.name; ./leakprobe; cmake -S proj -B build; python3 -c pass; make"},
        {101, 100, "/usr/bin/git", "git", "user.name"},
        {102, 100, "/home/u/src/pkg/leakprobe", "./leakprobe", "./leakprobe"},
        {103, 100, "/usr/bin/cmake", "cmake", "build"},
        {104, 100, "/usr/bin/python3", "python3", "pass"},
        {105, 100, "/usr/bin/make", "make", "make"},
        {106, 105, "/bin/sh", "/bin/sh", "gcc -c -o main.o main.c"},
        {107, 106, "/usr/bin/gcc", "gcc", "main.c"},
    };
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(want); i++) {
        const struct cordon_process *p = proc_of(m, want[i].pid);
        cr_assert(eq(int, p->ppid, want[i].ppid), "pid %d", want[i].pid);
        cr_assert(eq(str, p->exe, (char *)want[i].exe), "pid %d", want[i].pid);
        cr_assert(eq(str, p->argv[0], (char *)want[i].argv0));
        size_t n = cordon_strv_length(p->argv);
        cr_assert(eq(str, p->argv[n - 1], (char *)want[i].argv_last));
        cr_assert(eq(u32, p->flags & CORDON_PROC_UNFINISHED, 0));
        cr_assert(eq(int, p->status, 0));
    }
    const struct cordon_process *cc1 = proc_of(m, 108);
    cr_assert(eq(str, cc1->exe, "/usr/libexec/gcc/x86_64-linux-gnu/12/cc1"));
    cr_assert(eq(sz, cordon_strv_length(cc1->argv), 12));
    /* cc1's ancestry: gcc > sh > make > sh. */
    const char *chain[] = {"cc1", "gcc", "sh", "make", "sh"};
    int cur = 108;
    for (size_t i = 0; i < 5; i++) {
        const struct cordon_process *p = proc_of(m, cur);
        const char *base = strrchr(p->argv[0], '/');
        cr_assert(eq(str, (char *)(base ? base + 1 : p->argv[0]), (char *)chain[i]));
        cur = p->ppid;
    }
    cr_assert(eq(int, cur, 0));
    const struct cordon_import_event *e = one(imp, "/home/u/src/pkg/leakprobe", "execve", -1);
    cr_assert(eq(int, e->pid, 102));
    cr_assert(eq(int, e->op, CORDON_IMPORT_EXEC));
    cordon_manifest_free(m);
    cordon_import_free(imp);
}

Test(manifest_import_strace, relative_paths_resolve_against_the_logged_cwd) {
    struct cordon_import *imp = import_fixture(STRACE, "strace-poisoned.log");
    cr_assert(eq(int, one(imp, "/home/u/src/pkg/Makefile", "openat", -1)->pid, 105));
    const struct cordon_import_event *e = one(imp, "/home/u/src/pkg/build", "chdir", -1);
    cr_assert(eq(int, e->pid, 103));
    cr_assert(eq(int, one(imp, "/home/u/src/pkg/build", "mkdir", -1)->op, CORDON_IMPORT_CREATE));
    cr_assert(eq(int, one(imp, "/home/u/src/pkg/build/CMakeCache.txt", "openat", -1)->err, ENOENT));
    cr_assert(eq(int, one(imp, "/home/u/src/pkg/proj/CMakeLists.txt", "openat", -1)->op, R));
    cr_assert(eq(int,
                 one(imp, "/home/u/src/pkg/build/CMakeFiles/CMakeOutput.log", "openat", -1)->op,
                 CORDON_IMPORT_WRITE));
    /* rename: the old path deleted, the new one created. */
    cr_assert(eq(int, one(imp, "/home/u/src/pkg/build/CMakeCache.txt.tmp", "rename", -1)->op,
                 CORDON_IMPORT_DELETE));
    cr_assert(eq(int, one(imp, "/home/u/src/pkg/build/CMakeCache.txt", "rename", -1)->op,
                 CORDON_IMPORT_CREATE));
    struct cordon_manifest *m = build(imp);
    cr_assert(eq(str, proc_of(m, 105)->cwd, "/home/u/src/pkg"));
    /* Written by the build: an output; the renamed-away temporary is none. */
    cr_assert(cordon_manifest_find_output(m, "/home/u/src/pkg/build/CMakeCache.txt") != NULL);
    cr_assert(cordon_manifest_find_output(m, "/home/u/src/pkg/build/CMakeCache.txt.tmp") == NULL);
    cordon_manifest_free(m);
    cordon_import_free(imp);
}

Test(manifest_import_strace, relative_paths_wait_for_a_known_cwd) {
    size_t len;
    char *text = fixture("strace-poisoned.log", &len);
    char *old = without_cwd_annotations(text);
    cr_assert(strstr(old, "AT_FDCWD<") == NULL);
    struct cordon_import *imp = import_text(STRACE, "strace-poisoned.log", old);
    cr_assert(eq(int, one(imp, "Makefile", "openat", -1)->pid, 105));
    cr_assert(eq(int, one(imp, "build/CMakeCache.txt", "openat", -1)->err, ENOENT));
    cr_assert(eq(int, one(imp, "proj/CMakeLists.txt", "openat", -1)->pid, 103));
    struct cordon_manifest *m = build(imp);
    cr_assert(has_gap(m, "unresolved-path"));
    cr_assert(cordon_manifest_find_input(m, "/home/u/.gitconfig") != NULL);
    cordon_manifest_free(m);
    cordon_import_free(imp);

    struct cordon_error err;
    imp = try_import(STRACE, "strace-poisoned.log", old, "/home/u/src/pkg", &err);
    cr_assert(imp != NULL);
    assert_no_warnings(imp);
    cr_assert(eq(int, one(imp, "/home/u/src/pkg/Makefile", "openat", -1)->pid, 105));
    cr_assert(eq(int, one(imp, "/home/u/src/pkg/build/CMakeCache.txt", "openat", -1)->pid, 103));
    cr_assert(eq(int, one(imp, "/home/u/.cmake/packages/Poison/0123abcd", "openat", -1)->pid, 103));
    m = build(imp);
    cr_assert(eq(str, proc_of(m, 102)->exe, "/home/u/src/pkg/leakprobe"));
    cr_assert(not(has_gap(m, "unresolved-path")));
    cordon_manifest_free(m);
    cordon_import_free(imp);
    free(old);
    free(text);
}

Test(manifest_import_strace, unfinished_and_resumed_lines_are_joined) {
    struct cordon_import *imp = import_fixture(STRACE, "strace-poisoned.log");
    /* git's execve started unfinished at .002190; the log starts at .000100. */
    const struct cordon_import_event *e = one(imp, "/usr/bin/git", "execve", -1);
    cr_assert(eq(int, e->pid, 101));
    cr_assert(eq(int, e->err, 0));
    cr_assert(eq(u64, e->t_ns, 2090000));
    struct cordon_manifest *m = build(imp);
    cr_assert(eq(int, proc_of(m, 103)->ppid, 100)); /* vfork resumed */
    cr_assert(eq(int, proc_of(m, 107)->ppid, 106)); /* clone3 resumed */
    cordon_manifest_free(m);
    cordon_import_free(imp);

    imp = import_text(STRACE, "t",
                      "7 openat(AT_FDCWD, \"/x\", O_RDONLY <unfinished ...>\n"
                      "8 read(0, \"\", 1)    = 0\n"
                      "7 <... openat resumed>) = 3\n"
                      "7 openat(3, \"y\", O_WRONLY|O_CREAT, 0644) = 4\n");
    assert_no_warnings(imp);
    cr_assert(eq(int, one(imp, "/x", "openat", -1)->op, R));
    cr_assert(eq(int, one(imp, "/x/y", "openat", -1)->op, CORDON_IMPORT_WRITE));
    cordon_import_free(imp);

    /* A resumption without its start is a warning, with its line. */
    imp = import_text(STRACE, "t",
                      "7 openat(AT_FDCWD, \"/x\", O_RDONLY) = 3\n"
                      "7 <... read resumed>\"abc\", 3) = 3\n"
                      "7 stat(\"/y\", <unfinished ...>\n");
    cr_assert(warned_at(imp, "t", 2));
    cr_assert(warned_at(imp, "t", 3)); /* never resumed */
    cordon_import_free(imp);
}

Test(manifest_import_strace, dirfds_from_annotations_and_the_descriptor_table) {
    struct cordon_import *imp = import_fixture(STRACE, "strace-poisoned.log");
    /* newfstatat(3</etc/ld.so.cache>, "", ..., AT_EMPTY_PATH) is an fstat of
     * what the open already named: no event. */
    cr_assert(eq(sz, count_events(imp, "/etc/ld.so.cache", "newfstatat", -1, NULL), 0));
    cr_assert(
        eq(sz, count_events(imp, "/etc/ld.so.cache", "openat", -1, NULL), 8)); /* one a process */
    cordon_import_free(imp);
    /* Without -y: from the log's own opens. */
    imp = import_fixture(STRACE, "strace-plain.log");
    cr_assert(eq(int, one(imp, "/usr/include/zlib.h", "newfstatat", -1)->op, CORDON_IMPORT_STAT));
    const struct cordon_import_event *e = one(imp, "/usr/include/zstd.h", "faccessat2", -1);
    cr_assert(eq(int, e->op, CORDON_IMPORT_PROBE));
    cr_assert(eq(int, e->err, ENOENT));
    cr_assert(eq(sz, count_events(imp, "/etc/ld.so.cache", "newfstatat", -1, NULL), 0));
    cordon_import_free(imp);
}

Test(manifest_import_strace, descriptors_follow_close_dup_and_fcntl) {
    struct cordon_import *imp =
        import_text(STRACE, "t",
                    "1 openat(AT_FDCWD, \"/d\", O_RDONLY|O_DIRECTORY) = 3\n"
                    "1 dup(3) = 4\n"
                    "1 fcntl(3, F_DUPFD_CLOEXEC, 10) = 10\n"
                    "1 dup2(3, 7) = 7\n"
                    "1 close(3) = 0\n"
                    "1 openat(3, \"gone\", O_RDONLY) = -1 EBADF (Bad file descriptor)\n"
                    "1 openat(4, \"a\", O_RDONLY) = 5\n"
                    "1 openat(10, \"b\", O_RDONLY) = 6\n"
                    "1 unlinkat(7, \"c\", 0) = 0\n"
                    "1 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 4\n"
                    "1 openat(4, \"d\", O_RDONLY) = -1 ENOTDIR (Not a directory)\n"
                    "1 fchdir(7) = 0\n"
                    "1 openat(AT_FDCWD, \"e\", O_RDONLY) = 3\n");
    assert_no_warnings(imp);
    static const char *const want[] = {"/d", "gone", "/d/a", "/d/b", "/d/c", "d", "/d", "/d/e"};
    size_t n;
    const struct cordon_import_event *ev = cordon_import_events(imp, &n);
    cr_assert(eq(sz, n, CORDON_ARRAY_SIZE(want)));
    for (size_t i = 0; i < n; i++)
        cr_assert(eq(str, ev[i].path, (char *)want[i]), "event %zu", i);
    cr_assert(eq(int, one(imp, "/d/c", "unlinkat", -1)->op, CORDON_IMPORT_DELETE));
    cr_assert(eq(int, one(imp, "/d", "fchdir", -1)->op, CORDON_IMPORT_CHDIR));
    cr_assert(eq(int, ev[5].err, ENOTDIR));
    cordon_import_free(imp);
}

Test(manifest_import_strace, timestamps_count_from_the_first) {
    struct cordon_import *imp = import_fixture(STRACE, "strace-poisoned.log");
    size_t n;
    const struct cordon_import_event *ev = cordon_import_events(imp, &n);
    cr_assert(eq(u64, ev[0].t_ns, 0));
    cr_assert(eq(str, (char *)ev[0].syscall, "execve"));
    const struct cordon_import_event *libc = NULL;
    count_events(imp, "/lib/x86_64-linux-gnu/libc.so.6", "openat", -1, NULL);
    for (size_t i = 0; i < n && !libc; i++)
        if (!strcmp(ev[i].path, "/lib/x86_64-linux-gnu/libc.so.6"))
            libc = &ev[i];
    cr_assert(eq(u64, libc->t_ns, 690000));
    cordon_import_free(imp);

    /* -ttt, -T and -i. */
    imp = import_text(STRACE, "t",
                      "1795932981.373671 [00007f7126b64ad7] execve(\"/bin/true\", [\"true\"], "
                      "0x7ffc04df4008 /* 35 vars */) = 0 <0.000244>\n"
                      "1795932981.374671 [00007f7126b64ad7] openat(AT_FDCWD, \"/a\", O_RDONLY) = 3 "
                      "<0.000012>\n");
    ev = cordon_import_events(imp, &n);
    cr_assert(eq(sz, n, 2));
    cr_assert(eq(u64, ev[1].t_ns, 1000000));
    cordon_import_free(imp);

    /* -Y and -r, -yy annotations. */
    imp = import_text(
        STRACE, "t",
        "12182<sh>      0.000000 execve(\"/usr/bin/sh\", [\"sh\"], 0x7fff250626a8 /* 35 "
        "vars */) = 0 <0.000244>\n"
        "12182<sh>      0.000369 openat(AT_FDCWD</tmp/x>, \"a\", O_RDONLY|O_CLOEXEC) = "
        "3</tmp/x/a> <0.000053>\n"
        "12182<sh>      0.000100 vfork()     = 12183<sh> <0.000364>\n"
        "12183<sh>      0.000100 openat(AT_FDCWD</tmp/x>, \"b\", O_RDONLY) = "
        "3</tmp/x/b<char 1:3>> <0.000053>\n");
    assert_no_warnings(imp);
    ev = cordon_import_events(imp, &n);
    cr_assert(eq(sz, n, 3));
    cr_assert(eq(str, ev[1].path, "/tmp/x/a"));
    cr_assert(eq(u64, ev[1].t_ns, 369000));
    cr_assert(eq(str, ev[2].path, "/tmp/x/b"));
    cr_assert(eq(u64, ev[2].t_ns, 569000));
    struct cordon_manifest *m = build(imp);
    cr_assert(eq(int, proc_of(m, 12183)->ppid, 12182));
    cordon_manifest_free(m);
    cordon_import_free(imp);

    /* -t across midnight. */
    imp = import_text(STRACE, "t",
                      "23:59:59 openat(AT_FDCWD, \"/a\", O_RDONLY) = 3\n"
                      "00:00:01 openat(AT_FDCWD, \"/b\", O_RDONLY) = 3\n");
    ev = cordon_import_events(imp, &n);
    cr_assert(eq(u64, ev[1].t_ns, 2000000000ULL));
    cordon_import_free(imp);
}

static void check_ff(struct cordon_import *imp) {
    assert_no_warnings(imp);
    struct cordon_manifest *m = build(imp);
    cr_assert(eq(int, proc_of(m, 100)->ppid, 0));
    const struct cordon_process *p = proc_of(m, 101);
    cr_assert(eq(int, p->ppid, 100));
    cr_assert(eq(str, p->exe, "/usr/bin/sleep"));
    cr_assert(eq(str, p->argv[0], "sleep"));
    cr_assert(eq(str, p->argv[1], "60"));
    cr_assert(eq(int, p->status, 9)); /* killed by SIGKILL */
    cr_assert(eq(int, proc_of(m, 100)->status, 0));
    cr_assert(eq(str, m->command.argv[0], "sh"));
    /* The child inherits the cwd and descriptors at the fork. */
    const struct cordon_import_event *e = one(imp, "/tmp/work/conf/settings.ini", "newfstatat", -1);
    cr_assert(eq(int, e->pid, 101));
    e = one(imp, "/tmp/work/data.txt", "openat", -1);
    cr_assert(eq(int, e->pid, 101));
    cr_assert(eq(int, e->err, ENOENT));
    size_t n;
    const struct cordon_import_event *ev = cordon_import_events(imp, &n);
    for (size_t i = 1; i < n; i++)
        cr_assert(ev[i].t_ns >= ev[i - 1].t_ns, "merged in time order");
    cordon_manifest_free(m);
}

Test(manifest_import_strace, ff_files_give_parentage_and_exits) {
    size_t l0, l1;
    char *a = fixture("strace-ff.log.100", &l0), *b = fixture("strace-ff.log.101", &l1);
    struct cordon_import_source srcs[2] = {{"strace-ff.log.100", a, l0},
                                           {"strace-ff.log.101", b, l1}};
    struct cordon_error err;
    for (int order = 0; order < 2; order++) {
        struct cordon_import_source s[2] = {srcs[order], srcs[1 - order]};
        struct cordon_import *imp = try_import_n(STRACE, s, 2, NULL, &err);
        cr_assert(imp != NULL, "%s", err.text);
        check_ff(imp);
        cordon_import_free(imp);
    }
    free(a);
    free(b);

    /* The directory and the prefix forms of LOG. */
    const char *logs[] = {CORDON_TEST_DATA "/import/strace-ff.log", CORDON_TEST_DATA "/import"};
    for (size_t k = 0; k < 2; k++) {
        struct cordon_import_source *loaded = NULL;
        size_t n = 0;
        cr_assert(eq(int, cordon_import_load(STRACE, logs[k], &loaded, &n, &err), 0), "%s",
                  err.text);
        cr_assert(eq(sz, n, 2), "%s", logs[k]);
        struct cordon_import *imp = try_import_n(STRACE, loaded, n, NULL, &err);
        cr_assert(imp != NULL);
        check_ff(imp);
        cordon_import_free(imp);
        cordon_import_sources_free(loaded, n);
    }
    struct cordon_import_source *none = NULL;
    size_t nn = 0;
    cr_assert(eq(int, cordon_import_load(STRACE, "/nonexistent/x.log", &none, &nn, &err), -ENOENT));
    cr_assert(strstr(err.text, "/nonexistent/x.log") != NULL);
}

Test(manifest_import_strace, ff_files_without_timestamps_start_with_the_parent) {
    size_t l0, l1;
    char *a = fixture("strace-ff.log.100", &l0), *b = fixture("strace-ff.log.101", &l1);
    /* Drop the timestamps: the first word of each line. */
    char *texts[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        struct cordon_strbuf sb = CORDON_STRBUF_INIT;
        for (char *line = strtok(texts[k], "\n"); line; line = strtok(NULL, "\n")) {
            cordon_strbuf_adds(&sb, strchr(line, ' ') + 1);
            cordon_strbuf_adds(&sb, "\n");
        }
        free(texts[k]);
        texts[k] = cordon_strbuf_detach(&sb);
    }
    struct cordon_import_source s[2] = {{"x.101", texts[1], strlen(texts[1])},
                                        {"x.100", texts[0], strlen(texts[0])}};
    struct cordon_error err;
    struct cordon_import *imp = try_import_n(STRACE, s, 2, NULL, &err);
    cr_assert(imp != NULL);
    assert_no_warnings(imp);
    cr_assert(eq(int, one(imp, "/tmp/work/data.txt", "openat", -1)->pid, 101));
    struct cordon_manifest *m = build(imp);
    cr_assert(eq(int, proc_of(m, 101)->ppid, 100));
    cordon_manifest_free(m);
    cordon_import_free(imp);
    free(texts[0]);
    free(texts[1]);
}

Test(manifest_import_strace, plain_log_without_pids) {
    struct cordon_import *imp = import_fixture(STRACE, "strace-plain.log");
    assert_no_warnings(imp);
    struct cordon_manifest *m = build(imp);
    cr_assert(eq(sz, m->n_processes, 1));
    const struct cordon_process *p = proc_of(m, 1);
    cr_assert(p->exe == NULL); /* ./configure-probe, cwd unknown */
    cr_assert(eq(str, p->argv[1], "--prefix=/usr/local/very/long/pr..."));
    cr_assert(eq(str, p->argv[2], "--with-zlib"));
    cr_assert(eq(int, p->status, 11 | 0x80)); /* SIGSEGV, core dumped */
    cr_assert(eq(int, m->command.status, 11 | 0x80));
    cr_assert(eq(int, one(imp, "config.h.in", "openat", -1)->op, R));
    cr_assert(eq(int, one(imp, "config.h", "openat", -1)->op, CORDON_IMPORT_WRITE));
    const struct cordon_import_event *e = one(imp, "/home/u/src/pkg/.probe-cache", "mkdir", -1);
    cr_assert(eq(int, e->op, CORDON_IMPORT_CREATE));
    cr_assert(eq(int, e->err, EEXIST));
    cordon_manifest_free(m);
    cordon_import_free(imp);

    /* The pid of a -ff style name; the caller's cwd. */
    size_t len;
    char *text = fixture("strace-plain.log", &len);
    struct cordon_error err;
    imp = try_import(STRACE, "/tmp/trace.4321", text, "/home/u/src/pkg", &err);
    cr_assert(imp != NULL);
    m = build(imp);
    cr_assert(eq(str, proc_of(m, 4321)->exe, "/home/u/src/pkg/configure-probe"));
    cr_assert(eq(int, one(imp, "/home/u/src/pkg/config.h.in", "openat", -1)->pid, 4321));
    /* config.h was written: an output; the EEXIST mkdir says the dir is there. */
    cr_assert(cordon_manifest_find_output(m, "/home/u/src/pkg/config.h") != NULL);
    const struct cordon_input *in = cordon_manifest_find_input(m, "/home/u/src/pkg/.probe-cache");
    cr_assert(in != NULL && in->uses == CORDON_USE_STAT);
    cordon_manifest_free(m);
    cordon_import_free(imp);
    free(text);
}

Test(manifest_import_strace, garbage_lines_are_warnings_with_their_line) {
    struct cordon_import *imp = import_fixture(STRACE, "strace-garbage.log");
    static const int bad[] = {2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 17};
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(bad); i++)
        cr_assert(warned_at(imp, "strace-garbage.log", bad[i]), "no warning for line %d", bad[i]);
    cr_assert(not(warned_at(imp, "strace-garbage.log", 1)));
    cr_assert(not(warned_at(imp, "strace-garbage.log", 5)));
    cr_assert(eq(int, one(imp, "/etc/hosts", "openat", -1)->err, 0));
    cr_assert(eq(int, one(imp, "/bin/cat", "execve", -1)->pid, 200));
    /* A truncated path is kept, marked. */
    const struct cordon_import_event *e =
        one(imp, "/usr/share/locale/de_DE.UTF-8/LC_MESSAGES/coreutils...", "open", -1);
    cr_assert(eq(int, e->err, ENOENT));
    cr_assert(eq(sz, count_events(imp, "/etc/hosts.allow", NULL, -1, NULL), 0));
    /* The unterminated string names itself. */
    bool found = false;
    for (size_t i = 0; i < cordon_import_n_warnings(imp); i++)
        if (strstr(cordon_import_warning(imp, i), "strace-garbage.log:3: unterminated string"))
            found = true;
    cr_assert(found);
    struct cordon_manifest *m = build(imp);
    cr_assert(eq(sz, m->n_processes, 1)); /* lines not understood make no processes */
    cr_assert(eq(int, m->processes[0].pid, 200));
    cr_assert(has_gap(m, "unparsed-lines"));
    cordon_manifest_free(m);
    cordon_import_free(imp);
}

Test(manifest_import_strace, nothing_understood_is_an_error_naming_the_line) {
    struct cordon_error err;
    struct cordon_import *empty = cordon_import_new(STRACE);
    cr_assert(eq(int, cordon_import_strace(empty, NULL, 0, &err), -EINVAL));
    cordon_import_free(empty);
    static const char *const junk[] = {
        "",
        "\n\n  \n",
        "hello\nworld\n",
        "\x01\x7fPK\x03\x04\n\xef\xbf\xbd"
        "ELF\x02",
        "12345 \n[pid 1] \n= 3\n(((\n",
    };
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(junk); i++) {
        struct cordon_import *imp = try_import(STRACE, "junk.bin", junk[i], NULL, &err);
        cr_assert(imp == NULL);
        cr_assert(eq(str, err.path, "junk.bin"));
        cr_assert(eq(int, err.code, EINVAL));
        cr_assert(strstr(err.text, "not an strace log") != NULL, "%s", err.text);
    }
    struct cordon_import *imp = try_import(
        STRACE, "zlib.strace", "\n\n10 openat(AT_FDCWD, \"/usr/include/zlib.h\n", NULL, &err);
    cr_assert(imp == NULL);
    cr_assert(eq(int, err.line, 3));
    cr_assert(strstr(err.text, "unterminated string") != NULL, "%s", err.text);
    char buf[PATH_MAX + 600];
    cr_assert(strstr(cordon_error_format(&err, buf, sizeof buf), "zlib.strace:3:") != NULL, "%s",
              buf);
}

Test(manifest_import_strace, exits_and_signals_are_wait_statuses) {
    struct cordon_import *imp =
        import_text(STRACE, "t",
                    "5 execve(\"/bin/x\", [\"x\"], NULL) = 0\n"
                    "6 --- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=5, si_uid=0} ---\n"
                    "6 +++ killed by SIGTERM +++\n"
                    "7 +++ killed by SIGABRT (core dumped) +++\n"
                    "8 +++ killed by SIGRT_2 +++\n"
                    "9 +++ exited with 3 +++\n"
                    "10 +++ killed by SIGWHAT +++\n"
                    "5 +++ killed by SIGKILL +++\n");
    cr_assert(eq(sz, cordon_import_n_warnings(imp), 1));
    cr_assert(warned_at(imp, "t", 7));
    struct cordon_manifest *m = build(imp);
    cr_assert(eq(int, proc_of(m, 6)->status, 15));
    cr_assert(eq(int, proc_of(m, 7)->status, 6 | 0x80));
    cr_assert(eq(int, proc_of(m, 8)->status, 34));
    cr_assert(eq(int, proc_of(m, 9)->status, 3 << 8));
    cr_assert(eq(int, proc_of(m, 10)->status, 128 << 8));
    cr_assert(eq(int, proc_of(m, 5)->status, 9));
    cr_assert(eq(int, m->command.status, 9));
    cordon_manifest_free(m);
    cordon_import_free(imp);
}

Test(manifest_import_strace, a_failed_exec_is_an_event_only) {
    struct cordon_import *imp = import_text(
        STRACE, "t",
        "1 execve(\"/usr/local/bin/cc\", [\"cc\"], 0x1 /* 2 vars */) = -1 ENOENT (No such file or "
        "directory)\n"
        "1 execve(\"/usr/bin/cc\", [\"cc\", \"-c\", ...], 0x1 /* 2 vars */) = 0\n"
        "1 execveat(AT_FDCWD, \"/bin/ls\", [\"ls\"], NULL, 0) = ?\n");
    assert_no_warnings(imp);
    const struct cordon_import_event *e = one(imp, "/usr/local/bin/cc", "execve", -1);
    cr_assert(eq(int, e->op, CORDON_IMPORT_EXEC));
    cr_assert(eq(int, e->err, ENOENT));
    cr_assert(eq(int, one(imp, "/bin/ls", "execveat", -1)->err, 0));
    struct cordon_manifest *m = build(imp);
    const struct cordon_process *p = proc_of(m, 1);
    cr_assert(eq(str, p->exe, "/bin/ls"));
    cr_assert(eq(str, p->argv[0], "ls"));
    cr_assert(ne(u32, p->flags & CORDON_PROC_UNFINISHED, 0));
    cr_assert(has_gap(m, "unfinished"));
    cordon_manifest_free(m);
    cordon_import_free(imp);

    imp = import_text(STRACE, "t", "1 execve(\"/usr/bin/cc\", [\"cc\", \"-c\", ...], 0x1) = 0\n");
    m = build(imp);
    cr_assert(eq(str, (char *)argv_at(proc_of(m, 1), 2), "..."));
    cordon_manifest_free(m);
    cordon_import_free(imp);
}

Test(manifest_import_strace, stderr_style_pid_prefixes) {
    struct cordon_import *imp = import_text(
        STRACE, "t",
        "execve(\"/usr/bin/sh\", [\"sh\", \"-c\", \"cat /etc/hostname\"], 0x7ffc04df4008 /* 35 "
        "vars "
        "*/) = 0\n"
        "openat(AT_FDCWD, \"/etc/ld.so.cache\", O_RDONLY|O_CLOEXEC) = 3\n"
        "vfork(strace: Process 12223 attached\n"
        " <unfinished ...>\n"
        "[pid 12223] execve(\"/usr/bin/cat\", [\"cat\", \"/etc/hostname\"], 0x562405067a98 /* 35 "
        "vars */ <unfinished ...>\n"
        "[pid 12192] <... vfork resumed>) = 12223\n"
        "[pid 12192] wait4(-1,  <unfinished ...>\n"
        "[pid 12223] <... execve resumed>) = 0\n"
        "[pid 12223] openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY) = 3\n"
        "[pid 12223] +++ exited with 0 +++\n"
        "<... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 12223\n"
        "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=12223, si_uid=0, si_status=0, "
        "si_utime=0, si_stime=0} ---\n"
        "exit_group(0)                           = ?\n"
        "+++ exited with 0 +++\n");
    assert_no_warnings(imp);
    struct cordon_manifest *m = build(imp);
    cr_assert(eq(sz, m->n_processes, 2));
    cr_assert(eq(str, proc_of(m, 12192)->exe, "/usr/bin/sh"));
    cr_assert(eq(int, proc_of(m, 12223)->ppid, 12192));
    cr_assert(eq(str, proc_of(m, 12223)->exe, "/usr/bin/cat"));
    cr_assert(eq(int, one(imp, "/etc/hostname", "openat", -1)->pid, 12223));
    cr_assert(eq(int, one(imp, "/etc/ld.so.cache", "openat", -1)->pid, 12192));
    cordon_manifest_free(m);
    cordon_import_free(imp);

    /* The attach message in the middle of the fork's own line. */
    imp = import_text(
        STRACE, "t",
        "1795933780.044094 execve(\"/usr/bin/sh\", [\"sh\", \"-c\", \"ls / & wait\"], "
        "0x7ffc0475cb20 /* 35 vars */) = 0\n"
        "1795933780.046296 clone(child_stack=NULL, "
        "flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLDstrace: Process 9717 attached\n"
        ", child_tidptr=0x7f116bea6a10) = 9717\n"
        "[pid  9716] 1795933780.046435 wait4(-1,  <unfinished ...>\n"
        "[pid  9717] 1795933780.046458 set_robust_list(0x7f116bea6a20, 24) = 0\n"
        "[pid  9716] 1795933780.046538 <... wait4 resumed>0x7ffe61a31fbc, WNOHANG, NULL) = 0\n"
        "[pid  9716] 1795933780.046642 rt_sigsuspend([], 8 <unfinished ...>\n"
        "[pid  9717] 1795933780.047210 execve(\"/usr/bin/ls\", [\"ls\", \"/\"], 0x563f5a843b48 /* "
        "35 vars */) = 0\n"
        "[pid  9717] 1795933780.057020 +++ exited with 0 +++\n"
        "1795933780.057028 <... rt_sigsuspend resumed>) = ? ERESTARTNOHAND (To be restarted if no "
        "handler)\n"
        "1795933780.057196 exit_group(0)         = ?\n"
        "1795933780.057314 +++ exited with 0 +++\n");
    assert_no_warnings(imp);
    m = build(imp);
    cr_assert(eq(sz, m->n_processes, 2));
    cr_assert(eq(str, proc_of(m, 9716)->exe, "/usr/bin/sh"));
    cr_assert(eq(int, proc_of(m, 9716)->ppid, 0));
    cr_assert(eq(str, proc_of(m, 9717)->exe, "/usr/bin/ls"));
    cr_assert(eq(int, proc_of(m, 9717)->ppid, 9716));
    cordon_manifest_free(m);
    cordon_import_free(imp);
}

Test(manifest_import_strace, ops_follow_the_calls) {
    struct cordon_import *imp = import_text(
        STRACE, "t",
        "1 open(\"/a\", O_RDWR) = 3\n"
        "1 open(\"/b\", O_WRONLY|O_CREAT|O_EXCL, 0600) = 3\n"
        "1 open(\"/c\", O_PATH) = 3\n"
        "1 openat(AT_FDCWD, \"/d\", 0x241) = 3\n"
        "1 openat2(AT_FDCWD, \"/e\", {flags=O_RDONLY|O_CLOEXEC, resolve=RESOLVE_NO_SYMLINKS}, 24) "
        "= "
        "3\n"
        "1 creat(\"/f\", 0644) = 3\n"
        "1 stat(\"/g\", {st_mode=S_IFREG|0644, st_size=1, ...}) = 0\n"
        "1 statx(AT_FDCWD, \"/h\", AT_STATX_SYNC_AS_STAT, STATX_ALL, {stx_mask=STATX_ALL, ...}) = "
        "0\n"
        "1 access(\"/i\", F_OK) = 0\n"
        "1 readlinkat(AT_FDCWD, \"/j\", \"k\", 4095) = 1\n"
        "1 symlink(\"target\", \"/l\") = 0\n"
        "1 linkat(AT_FDCWD, \"/m\", AT_FDCWD, \"/n\", 0) = 0\n"
        "1 renameat2(AT_FDCWD, \"/o\", AT_FDCWD, \"/p\", RENAME_NOREPLACE) = 0\n"
        "1 rmdir(\"/q\") = -1 ENOTEMPTY (Directory not empty)\n"
        "1 chmod(\"/r\", 0755) = 0\n"
        "1 utimensat(AT_FDCWD, \"/s\", [UTIME_NOW, UTIME_NOW], 0) = 0\n"
        "1 utimensat(3, NULL, [UTIME_NOW, UTIME_NOW], 0) = 0\n"
        "1 mknodat(AT_FDCWD, \"/t\", S_IFIFO|0600) = 0\n"
        "1 statfs(\"/u\", {f_type=EXT2_SUPER_MAGIC, ...}) = 0\n"
        "1 truncate(\"/v\", 0) = 0\n"
        "1 openat(AT_FDCWD, \"/w\", O_RDONLY) = ? ERESTARTSYS (To be restarted if SA_RESTART is "
        "set)\n");
    assert_no_warnings(imp);
    static const struct {
        const char *path;
        enum cordon_import_op op;
    } want[] = {
        {"/a", CORDON_IMPORT_UPDATE},   {"/b", CORDON_IMPORT_CREATE}, {"/c", CORDON_IMPORT_STAT},
        {"/d", CORDON_IMPORT_WRITE},    {"/e", CORDON_IMPORT_READ},   {"/f", CORDON_IMPORT_WRITE},
        {"/g", CORDON_IMPORT_STAT},     {"/h", CORDON_IMPORT_STAT},   {"/i", CORDON_IMPORT_PROBE},
        {"/j", CORDON_IMPORT_READLINK}, {"/l", CORDON_IMPORT_CREATE}, {"/m", CORDON_IMPORT_CREATE},
        {"/n", CORDON_IMPORT_CREATE},   {"/o", CORDON_IMPORT_DELETE}, {"/p", CORDON_IMPORT_CREATE},
        {"/q", CORDON_IMPORT_DELETE},   {"/r", CORDON_IMPORT_WRITE},  {"/s", CORDON_IMPORT_WRITE},
        {"/t", CORDON_IMPORT_CREATE},   {"/u", CORDON_IMPORT_STAT},   {"/v", CORDON_IMPORT_WRITE},
    };
    size_t n;
    const struct cordon_import_event *ev = cordon_import_events(imp, &n);
    cr_assert(eq(sz, n, CORDON_ARRAY_SIZE(want)));
    for (size_t i = 0; i < n; i++) {
        cr_assert(eq(str, ev[i].path, (char *)want[i].path));
        cr_assert(eq(int, ev[i].op, want[i].op), "%s", want[i].path);
    }
    cr_assert(eq(int, one(imp, "/q", "rmdir", -1)->err, ENOTEMPTY));
    cordon_import_free(imp);
}

Test(manifest_import_strace, escapes_in_strings) {
    struct cordon_import *imp =
        import_text(STRACE, "t",
                    "1 openat(AT_FDCWD, \"/a\\nb\\tc\\\"d\\\\e\\101\\x42\", O_RDONLY) = 3\n"
                    "1 execve(\"/bin/echo\", [\"echo\", \"x\\ny\", \"q\\\"\"], 0x1) = 0\n");
    assert_no_warnings(imp);
    cr_assert(eq(int, one(imp, "/a\nb\tc\"d\\eAB", "openat", -1)->op, R));
    struct cordon_manifest *m = build(imp);
    cr_assert(eq(str, proc_of(m, 1)->argv[1], "x\ny"));
    cr_assert(eq(str, proc_of(m, 1)->argv[2], "q\""));
    cordon_manifest_free(m);
    cordon_import_free(imp);
}

Test(manifest_import_strace, hundred_thousand_lines) {
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    for (unsigned i = 0; i < 100000; i++) {
        unsigned pid = 1000 + i % 7, s = i / 1000000, us = i % 1000000;
        switch (i % 4) {
        case 0:
            cordon_strbuf_addf(&sb,
                               "%u 10:00:%02u.%06u openat(AT_FDCWD</home/u/src>, \"lib/f%u.h\", "
                               "O_RDONLY|O_CLOEXEC) = 3</home/u/src/lib/f%u.h>\n",
                               pid, s, us, i, i);
            break;
        case 1:
            cordon_strbuf_addf(&sb,
                               "%u 10:00:%02u.%06u read(3</home/u/src/lib/f%u.h>, \"#pragma "
                               "once\\n\", 4096) = 13\n",
                               pid, s, us, i - 1);
            break;
        case 2:
            cordon_strbuf_addf(&sb, "%u 10:00:%02u.%06u close(3</home/u/src/lib/f%u.h>) = 0\n", pid,
                               s, us, i - 2);
            break;
        default:
            cordon_strbuf_addf(&sb,
                               "%u 10:00:%02u.%06u newfstatat(AT_FDCWD</home/u/src>, "
                               "\"/usr/include/x%u.h\", 0x7ffc, 0) = -1 ENOENT (No such file or "
                               "directory)\n",
                               pid, s, us, i);
        }
    }
    struct cordon_import *imp = import_text(STRACE, "big.log", sb.buf);
    assert_no_warnings(imp);
    size_t n;
    cordon_import_events(imp, &n);
    cr_assert(eq(sz, n, 50000));
    struct cordon_manifest *m = build(imp);
    cr_assert(eq(sz, m->n_inputs, 50000));
    cordon_manifest_free(m);
    cordon_import_free(imp);
    cordon_strbuf_release(&sb);
}

Test(manifest_import_strace, environment_from_v_and_home) {
    struct cordon_import *imp =
        import_text(STRACE, "t",
                    "1 execve(\"/bin/sh\", [\"sh\"], [\"PATH=/bin\", \"HOME=/srv/me\", "
                    "\"GITHUB_TOKEN=abc\"]) = 0\n"
                    "1 openat(AT_FDCWD, \"/srv/me/.gitconfig\", O_RDONLY) = 3\n");
    struct cordon_manifest *m = build(imp);
    cr_assert(eq(sz, cordon_strv_length(m->command.env), 3));
    cr_assert(eq(str, m->command.env[0], "GITHUB_TOKEN=<redacted>"));
    cr_assert(eq(str, m->command.env[1], "HOME=/srv/me"));
    cr_assert(not(has_gap(m, "inferred-home")));
    cordon_manifest_free(m);
    cordon_import_free(imp);

    /* Without it: inferred from the paths, and said so. */
    imp = import_fixture(STRACE, "strace-poisoned.log");
    m = build(imp);
    cr_assert(eq(sz, cordon_strv_length(m->command.env), 1));
    cr_assert(eq(str, m->command.env[0], "HOME=/home/u"));
    cr_assert(has_gap(m, "inferred-home"));
    cordon_manifest_free(m);
    cordon_import_free(imp);

    /* --home wins. */
    imp = cordon_import_new(STRACE);
    cr_assert(eq(int, cordon_import_set_home(imp, "/home/v"), 0));
    cr_assert(eq(int, cordon_import_set_home(imp, "rel"), -EINVAL));
    const char *text = "1 openat(AT_FDCWD, \"/home/u/.gitconfig\", O_RDONLY) = 3\n";
    struct cordon_import_source src = {"t", (char *)text, strlen(text)};
    struct cordon_error err;
    cr_assert(eq(int, cordon_import_parse(imp, &src, 1, &err), 0));
    m = build(imp);
    cr_assert(eq(str, m->command.env[0], "HOME=/home/v"));
    cr_assert(not(has_gap(m, "inferred-home")));
    cordon_manifest_free(m);
    cordon_import_free(imp);
}

Test(manifest_import_strace, files_on_this_host_are_hashed) {
    /* The test data itself: present here, so hashed; the fixture's /home/u
     * paths are not. */
    char text[1024];
    snprintf(text, sizeof text,
             "1 execve(\"/bin/cat\", [\"cat\"], 0x1) = 0\n"
             "1 openat(AT_FDCWD, \"%s/import/strace-plain.log\", O_RDONLY) = 3\n"
             "1 openat(AT_FDCWD, \"/home/u/nothere\", O_RDONLY) = 3\n"
             "1 +++ exited with 0 +++\n",
             CORDON_TEST_DATA);
    struct cordon_import *imp = import_text(STRACE, "t", text);
    struct cordon_import_build_options o = {.quiet = true};
    struct cordon_manifest *m = NULL;
    struct cordon_error err;
    cr_assert(eq(int, cordon_import_build(imp, &o, &m, &err), 0));
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/import/strace-plain.log", CORDON_TEST_DATA);
    cordon_path_normalize(path);
    const struct cordon_input *in = cordon_manifest_find_input(m, path);
    cr_assert(in != NULL);
    cr_assert(in->has_hash);
    cr_assert(eq(u32, in->flags & CORDON_INPUT_UNHASHED, 0));
    struct cordon_hash h;
    uint64_t size;
    cr_assert(eq(int, cordon_hash_file(AT_FDCWD, path, &h, &size), 0));
    cr_assert(cordon_hash_equal(&h, &in->hash));
    in = cordon_manifest_find_input(m, "/home/u/nothere");
    cr_assert(in != NULL);
    cr_assert(not(in->has_hash));
    cr_assert(ne(u32, in->flags & CORDON_INPUT_UNHASHED, 0));
    /* The manifest round-trips through its JSON reader. */
    char *json = cordon_manifest_dumps(m);
    struct cordon_manifest *back = NULL;
    cr_assert(eq(int, cordon_manifest_loadb(json, strlen(json), "m.json", &back, &err), 0), "%s",
              err.text);
    cr_assert(eq(sz, back->n_inputs, m->n_inputs));
    cordon_manifest_free(back);
    free(json);
    cordon_manifest_free(m);
    cordon_import_free(imp);
}
