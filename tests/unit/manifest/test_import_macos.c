/* The fs_usage and dtruss importers on the fixtures ported from the Rust
 * tree and on small logs written here. */
#include "test_import.h"

#define FS CORDON_IMPORT_FS_USAGE
#define DT CORDON_IMPORT_DTRUSS

static const char *name_of(const struct cordon_manifest *m, int pid) {
    const struct cordon_process *p = proc_of(m, pid);
    return p->argv && p->argv[0] ? p->argv[0] : "";
}

/* The pid of the one successful read of `path`. */
static int reader(const struct cordon_import *imp, const char *path) {
    size_t n;
    const struct cordon_import_event *ev = cordon_import_events(imp, &n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(ev[i].path, path) && ev[i].op == CORDON_IMPORT_READ && !ev[i].err)
            return ev[i].pid;
    cr_assert(false, "no successful read of %s", path);
    return 0;
}

/* The ops of the events at `path`, as letters: r w c d s p l x. */
static const char *ops_at(const struct cordon_import *imp, const char *path, char *out) {
    static const char letters[] = "ruwcdsplLxC";
    size_t n, o = 0;
    const struct cordon_import_event *ev = cordon_import_events(imp, &n);
    for (size_t i = 0; i < n && o < 30; i++)
        if (!strcmp(ev[i].path, path))
            out[o++] = letters[ev[i].op];
    out[o] = '\0';
    return out;
}

/* ---- fs_usage ------------------------------------------------------------ */

Test(manifest_import_fs_usage, poisoned_fixture_imports_with_the_breaches) {
    struct cordon_import *imp = import_fixture(FS, "fs_usage-poisoned.log");
    assert_no_warnings(imp);
    struct cordon_manifest *m = build(imp);
    cr_assert(eq(str, (char *)name_of(m, reader(imp, "/Users/u/.gitconfig")), "git"));
    int lp = reader(imp, "/Users/u/.leakrc");
    cr_assert(eq(str, (char *)name_of(m, lp), "leakprobe"));
    cr_assert(eq(str, proc_of(m, lp)->exe, "/Users/u/src/pkg/tools/leakprobe"));
    cr_assert(eq(str, (char *)name_of(m, reader(imp, "/Users/u/.cmake/packages/Poison/0123abcd")),
                 "cmake"));
    cr_assert(
        eq(str,
           (char *)name_of(m, reader(imp, "/Users/u/.local/lib/python3.11/site-packages/leak.pth")),
           "python3.11"));
    int cc1 = reader(imp, "/usr/local/include/zlib.h");
    cr_assert(eq(str, (char *)name_of(m, cc1), "clang"));
    cr_assert(eq(
        int, reader(imp, "/Library/Developer/CommandLineTools/SDKs/MacOSX.sdk/usr/include/stdio.h"),
        cc1));
    /* The planted ~/.gitconfig is an input of the manifest, unhashed here. */
    const struct cordon_input *in = cordon_manifest_find_input(m, "/Users/u/.gitconfig");
    cr_assert(in != NULL);
    cr_assert(ne(u32, in->uses & CORDON_USE_READ, 0));
    cr_assert(ne(u32, in->flags & CORDON_INPUT_UNHASHED, 0));
    cr_assert(eq(str, m->host.os, "Darwin"));
    cr_assert(eq(str, m->command.argv[0], "make"));
    cordon_manifest_free(m);
    cordon_import_free(imp);
}

Test(manifest_import_fs_usage, failures_carry_their_errno) {
    struct cordon_import *imp = import_fixture(FS, "fs_usage-poisoned.log");
    struct cordon_manifest *m = build(imp);
    const struct cordon_import_event *e = one(imp, "/etc/gitconfig", NULL, -1);
    cr_assert(eq(int, e->op, CORDON_IMPORT_READ));
    cr_assert(eq(int, e->err, ENOENT));
    cr_assert(eq(str, (char *)name_of(m, e->pid), "git"));
    e = one(imp, "/Users/u/.config/git/config", NULL, -1);
    cr_assert(eq(int, e->op, CORDON_IMPORT_PROBE));
    cr_assert(eq(int, e->err, ENOENT));
    e = one(imp, "/Users/u/src/pkg/build/CMakeFiles", NULL, -1);
    cr_assert(eq(int, e->op, CORDON_IMPORT_CREATE));
    cr_assert(eq(int, e->err, EEXIST));
    cr_assert(
        ge(sz, count_events(imp, "/Users/u/src/pkg/.git/HEAD", NULL, CORDON_IMPORT_READLINK, NULL),
           1));
    e = one(imp, "/usr/local/bin/git", NULL, -1);
    cr_assert(eq(int, e->op, CORDON_IMPORT_EXEC));
    cr_assert(eq(int, e->err, ENOENT));
    cordon_manifest_free(m);
    cordon_import_free(imp);
}

Test(manifest_import_fs_usage, ops_follow_the_calls) {
    struct cordon_import *imp = import_fixture(FS, "fs_usage-poisoned.log");
    char buf[32];
    cr_assert(eq(str, (char *)ops_at(imp, "/Users/u/src/pkg", buf), "sss"));
    cr_assert(eq(
        str, (char *)ops_at(imp, "/Users/u/src/pkg/build/CMakeFiles/cmake.check_cache", buf), "w"));
    /* (RWC__E): created; then renamed away (the source is all it shows). */
    cr_assert(eq(str, (char *)ops_at(imp, "/Users/u/src/pkg/main.o-4f2a9c1e", buf), "cd"));
    cr_assert(eq(str, (char *)ops_at(imp, "/Users/u/src/pkg/main.o", buf), "w"));
    cr_assert(eq(str, (char *)ops_at(imp, "/bin/sh", buf), "px"));
    cr_assert(eq(str,
                 (char *)ops_at(imp, "/Library/Developer/CommandLineTools/SDKs/MacOSX.sdk", buf),
                 "sl"));
    cr_assert(eq(str, (char *)ops_at(imp, "/Users/u/.leakrc", buf), "r")); /* disk I/O is no call */
    cordon_import_free(imp);
}

Test(manifest_import_fs_usage, relative_paths_resolve_only_against_a_known_cwd) {
    struct cordon_import *imp = import_fixture(FS, "fs_usage-poisoned.log");
    struct cordon_manifest *m = build(imp);
    const struct cordon_import_event *e = one(imp, "Makefile", NULL, -1);
    cr_assert(eq(str, (char *)name_of(m, e->pid), "make"));
    cr_assert(eq(sz, count_events(imp, "/Users/u/src/pkg/build/CMakeCache.txt", NULL, -1, &e), 2));
    cr_assert(eq(sz, count_events(imp, "main.c", NULL, -1, NULL), 1));
    cr_assert(has_gap(m, "unresolved-path"));
    cordon_manifest_free(m);
    cordon_import_free(imp);
}

Test(manifest_import_fs_usage, processes_are_linked_through_exec_and_spawn) {
    struct cordon_import *imp = import_fixture(FS, "fs_usage-poisoned.log");
    struct cordon_manifest *m = build(imp);
    /* make posix_spawn'd /bin/sh: the next new sh is its child. */
    cr_assert(eq(int, proc_of(m, 1523044)->ppid, 1523001));
    cr_assert(eq(str, proc_of(m, 1523044)->exe, "/bin/sh"));
    /* sh.1523058 exec'd leakprobe, which ran as leakprobe.1523059. */
    cr_assert(eq(int, reader(imp, "/Users/u/.leakrc"), 1523058));
    int cc1 = reader(imp, "/usr/local/include/zlib.h");
    cr_assert(eq(int, cc1, 1523102));
    cr_assert(eq(int, proc_of(m, cc1)->ppid, 1523090));
    cr_assert(
        eq(str, proc_of(m, 1523090)->exe, "/Library/Developer/CommandLineTools/usr/bin/clang"));
    /* A fork child is not linked: fs_usage does not show forks. */
    cr_assert(eq(int, proc_of(m, 1523047)->ppid, 0));
    cordon_manifest_free(m);
    cordon_import_free(imp);
}

Test(manifest_import_fs_usage, garbage_lines_warn_with_their_line_numbers) {
    struct cordon_import *imp = import_fixture(FS, "fs_usage-garbage.log");
    static const int bad[] = {2, 5, 7, 9, 11, 13, 15, 16, 18, 20};
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(bad); i++)
        cr_assert(warned_at(imp, "fs_usage-garbage.log", bad[i]), "line %d", bad[i]);
    cr_assert(eq(sz, cordon_import_n_warnings(imp), CORDON_ARRAY_SIZE(bad)));
    struct cordon_manifest *m = build(imp);
    cr_assert(eq(str, (char *)name_of(m, reader(imp, "/Users/u/.gitconfig")), "git"));
    cr_assert(eq(str, (char *)name_of(m, reader(imp, "/Users/u/.leakrc")), "leakprobe"));
    cr_assert(eq(int, one(imp, "/etc/gitconfig", NULL, -1)->err, ENOENT));
    /* A path with spaces, and a command name with a dot and a space. */
    cr_assert(eq(str,
                 (char *)name_of(m, reader(imp, "/Users/u/Library/Application Support/x.plist")),
                 "Code Helper"));
    cordon_manifest_free(m);
    cordon_import_free(imp);
}

Test(manifest_import_fs_usage, nothing_recognisable_is_an_error) {
    struct cordon_error err;
    cr_assert(try_import(FS, "empty", "", NULL, &err) == NULL);
    cr_assert(try_import(FS, "blank", "\n\n   \n", NULL, &err) == NULL);
    cr_assert(try_import(FS, "strace.log",
                         "1234  openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY) = 3\n", NULL,
                         &err) == NULL);
    cr_assert(eq(str, err.path, "strace.log"));
    cr_assert(eq(int, err.line, 1));
    cr_assert(strstr(err.text, "not an fs_usage log") != NULL);
}

Test(manifest_import_fs_usage, line_forms) {
    struct cordon_import *imp = import_text(
        FS, "t",
        "14:02:11.103100  fstatat64         [  2]       [3]/sub/x.h   0.000007   cc1.77\n"
        "14:02:11.103200  close  F=123[  9]   0.000001 W  a.b.5\n");
    assert_no_warnings(imp);
    const struct cordon_import_event *e = one(imp, "sub/x.h", NULL, -1);
    cr_assert(eq(int, e->err, ENOENT));
    cr_assert(eq(int, e->pid, 77));
    cordon_import_free(imp);
    struct cordon_error err;
    cr_assert(try_import(FS, "t", "25:00:00.000000  open  /x  0.000001  a.1\n", NULL, &err) ==
              NULL);
    cr_assert(try_import(FS, "t", "14:02:11.000000  open  /x\n", NULL, &err) == NULL);
}

Test(manifest_import_fs_usage, narrow_output_warns_once) {
    struct cordon_import *imp =
        import_text(FS, "narrow.log",
                    "14:02:11  open    /etc/hosts    0.000010   curl\n"
                    "14:02:12  stat64  /etc/resolv.conf   0.000010   curl\n");
    cr_assert(eq(sz, cordon_import_n_warnings(imp), 1));
    cr_assert(warned_at(imp, "narrow.log", 1));
    size_t n;
    cordon_import_events(imp, &n);
    cr_assert(eq(sz, n, 2));
    cordon_import_free(imp);
}

Test(manifest_import_fs_usage, time_runs_across_midnight) {
    struct cordon_import *imp = import_text(FS, "midnight.log",
                                            "23:59:59.999000  stat64   /a   0.000001   x.1\n"
                                            "00:00:00.001000  stat64   /b   0.000001   x.1\n");
    size_t n;
    const struct cordon_import_event *ev = cordon_import_events(imp, &n);
    cr_assert(eq(u64, ev[0].t_ns, 0));
    cr_assert(eq(u64, ev[1].t_ns, 2000000));
    cordon_import_free(imp);
}

/* ---- dtruss ---------------------------------------------------------------- */

static const char *exe_base(const struct cordon_manifest *m, int pid) {
    const struct cordon_process *p = proc_of(m, pid);
    if (!p->exe)
        return "";
    const char *b = strrchr(p->exe, '/');
    return b ? b + 1 : p->exe;
}

Test(manifest_import_dtruss, poisoned_fixture_imports_with_pids_and_parents) {
    struct cordon_import *imp = import_fixture(DT, "dtruss-poisoned.log");
    assert_no_warnings(imp);
    struct cordon_manifest *m = build(imp);
    static const struct {
        const char *path;
        int pid;
        const char *exe;
        int ppid;
    } want[] = {
        {"/Users/u/.gitconfig", 4103, "git", 4102},
        {"/Users/u/.leakrc", 4105, "leakprobe", 4102},
        {"/Users/u/.cmake/packages/Poison/0123abcd", 4106, "cmake", 4102},
        {"/Users/u/.local/lib/python3.11/site-packages/leak.pth", 4107, "python3.11", 4102},
        {"/Users/u/Library/Python/3.11/lib/python/site-packages/leak.pth", 4107, "python3.11",
         4102},
        /* The cc1: posix_spawn prints no program, so only its parent is known. */
        {"/usr/local/include/zlib.h", 4109, "", 4108},
        {"/Library/Developer/CommandLineTools/SDKs/MacOSX.sdk/usr/include/stdio.h", 4109, "", 4108},
    };
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(want); i++) {
        cr_assert(eq(int, reader(imp, want[i].path), want[i].pid), "%s", want[i].path);
        cr_assert(eq(str, (char *)exe_base(m, want[i].pid), (char *)want[i].exe));
        cr_assert(eq(int, proc_of(m, want[i].pid)->ppid, want[i].ppid));
    }
    cr_assert(eq(int, proc_of(m, 4101)->ppid, 0));
    cr_assert(eq(int, proc_of(m, 4102)->ppid, 4101));
    cr_assert(eq(int, proc_of(m, 4108)->ppid, 4102));
    cr_assert(eq(str, (char *)exe_base(m, 4102), "sh"));
    cr_assert(eq(str, (char *)exe_base(m, 4108), "clang"));
    cr_assert(has_gap(m, "import-limits"));
    cr_assert(cordon_manifest_find_input(m, "/Users/u/.gitconfig") != NULL);
    cordon_manifest_free(m);
    cordon_import_free(imp);
}

Test(manifest_import_dtruss, failures_carry_their_errno) {
    struct cordon_import *imp = import_fixture(DT, "dtruss-poisoned.log");
    const struct cordon_import_event *e = one(imp, "/etc/gitconfig", NULL, -1);
    cr_assert(eq(int, e->op, CORDON_IMPORT_READ));
    cr_assert(eq(int, e->err, ENOENT));
    cr_assert(eq(int, e->pid, 4103));
    e = one(imp, "/usr/local/bin/git", NULL, -1);
    cr_assert(eq(int, e->op, CORDON_IMPORT_EXEC));
    cr_assert(eq(int, e->err, ENOENT));
    e = one(imp, "/Users/u/.config/git/config", NULL, -1);
    cr_assert(eq(int, e->op, CORDON_IMPORT_PROBE));
    /* ENOTEMPTY is 66 on macOS, 39 on Linux. */
    e = one(imp, "/Users/u/src/pkg/build/tmp", NULL, -1);
    cr_assert(eq(int, e->op, CORDON_IMPORT_DELETE));
    cr_assert(eq(int, e->err, ENOTEMPTY));
    e = one(imp, "/usr/local/include/stdio.h", NULL, -1);
    cr_assert(eq(int, e->op, CORDON_IMPORT_STAT));
    cr_assert(eq(int, e->err, ENOENT));
    cordon_import_free(imp);
}

Test(manifest_import_dtruss, ops_paths_and_descriptors) {
    struct cordon_import *imp = import_fixture(DT, "dtruss-poisoned.log");
    char buf[32];
    cr_assert(eq(str, (char *)ops_at(imp, "Makefile", buf), "r"));
    cr_assert(eq(str, (char *)ops_at(imp, "/Users/u/src/pkg/build/CMakeCache.txt", buf), "sr"));
    cr_assert(eq(str, (char *)ops_at(imp, "/Users/u/.cmake/packages/Poison/0123abcd", buf), "r"));
    cr_assert(eq(str, (char *)ops_at(imp, "/Users/u/src/pkg/main.o-5a1f3c", buf), "cd"));
    cr_assert(eq(str, (char *)ops_at(imp, "/Users/u/src/pkg/main.o", buf), "c"));
    cr_assert(eq(str, (char *)ops_at(imp, "/Users/u/src/pkg/build/CMakeFiles/x.log", buf), "w"));
    cr_assert(eq(str, (char *)ops_at(imp, "/Library/Developer/CommandLineTools/usr/bin/clang", buf),
                 "x"));
    size_t n;
    const struct cordon_import_event *ev = cordon_import_events(imp, &n);
    for (size_t i = 0; i < n; i++)
        cr_assert(strstr(ev[i].path, "all:") == NULL); /* read(2) data is no path */
    cordon_import_free(imp);
}

Test(manifest_import_dtruss, garbage_lines_warn_with_their_line_numbers) {
    struct cordon_import *imp = import_fixture(DT, "dtruss-garbage.log");
    static const int bad[] = {4, 6, 8, 10, 12, 14, 16, 18, 20};
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(bad); i++)
        cr_assert(warned_at(imp, "dtruss-garbage.log", bad[i]), "line %d", bad[i]);
    cr_assert(eq(sz, cordon_import_n_warnings(imp), CORDON_ARRAY_SIZE(bad)));
    cr_assert(eq(int, reader(imp, "/Users/u/.gitconfig"), 4103));
    cr_assert(eq(int, reader(imp, "/Users/u/.leakrc"), 4105));
    cr_assert(eq(int, reader(imp, "/usr/local/include/zlib.h"), 4109));
    struct cordon_manifest *m = build(imp);
    cr_assert(eq(int, proc_of(m, 4105)->ppid, 4102));
    cr_assert(eq(int, proc_of(m, 4109)->ppid, 4108));
    /* Escapes in a path, and a path cut at its NUL. */
    cr_assert(eq(int, reader(imp, "/Users/u/a \"q\"\tb"), 4105));
    cr_assert(eq(int, reader(imp, "/Users/u/.leakrc2"), 4105));
    cordon_manifest_free(m);
    cordon_import_free(imp);
}

Test(manifest_import_dtruss, nothing_recognisable_is_an_error) {
    struct cordon_error err;
    cr_assert(try_import(DT, "empty", "", NULL, &err) == NULL);
    cr_assert(try_import(DT, "header", "\tPID/THRD  SYSCALL(args) \t\t = return\n", NULL, &err) ==
              NULL);
    cr_assert(try_import(DT, "strace.log",
                         "1234  openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY) = 3\n", NULL,
                         &err) == NULL);
    cr_assert(eq(str, err.path, "strace.log"));
    cr_assert(strstr(err.text, "not a dtruss log") != NULL);
}

Test(manifest_import_dtruss, lines_without_pids_are_one_process) {
    struct cordon_import *imp =
        import_text(DT, "plain.log",
                    "SYSCALL(args) \t\t = return\n"
                    "open(\"/etc/hosts\\0\", 0x0, 0x0)\t\t = 3 0\n"
                    "stat64(\"/nope\\0\", 0x7FF7BFEFF0A0, 0x0)\t\t = -1 Err#2\n");
    size_t n;
    const struct cordon_import_event *ev = cordon_import_events(imp, &n);
    cr_assert(eq(sz, n, 2));
    cr_assert(eq(int, ev[0].pid, 1));
    cr_assert(eq(int, ev[1].pid, 1));
    cr_assert(eq(int, ev[1].op, CORDON_IMPORT_STAT));
    cr_assert(eq(int, ev[1].err, ENOENT));
    cordon_import_free(imp);
}

Test(manifest_import_dtruss, a_fork_claims_a_child_the_spawn_guess_took) {
    struct cordon_import *imp = import_text(DT, "race.log",
                                            "10/0x1:  open(\"/a\\0\", 0x0, 0x0)\t\t = 3 0\n"
                                            "20/0x2:  posix_spawn(0x7FF, 0x7FE, 0x7FD)\t\t = 0 0\n"
                                            "21/0x3:  fork()\t\t = 0 0\n"
                                            "10/0x1:  fork()\t\t = 21 0\n"
                                            "22/0x4:  fork()\t\t = 0 0\n");
    struct cordon_manifest *m = build(imp);
    cr_assert(eq(int, proc_of(m, 21)->ppid, 10));
    cr_assert(eq(int, proc_of(m, 22)->ppid, 20));
    cr_assert(eq(int, proc_of(m, 20)->ppid, 0));
    cordon_manifest_free(m);
    cordon_import_free(imp);
}

Test(manifest_import_dtruss, a_child_seen_before_its_fork_gets_the_parents_cwd) {
    struct cordon_import *imp = import_text(DT, "cwd.log",
                                            "10/0x1:  chdir(\"/w\\0\", 0x0, 0x0)\t\t = 0 0\n"
                                            "21/0x3:  fork()\t\t = 0 0\n"
                                            "10/0x1:  fork()\t\t = 21 0\n"
                                            "21/0x3:  open(\"rel\\0\", 0x0, 0x0)\t\t = 3 0\n");
    cr_assert(eq(sz, count_events(imp, "/w/rel", NULL, -1, NULL), 1));
    struct cordon_manifest *m = build(imp);
    cr_assert(eq(int, proc_of(m, 21)->ppid, 10));
    cordon_manifest_free(m);
    cordon_import_free(imp);
}

Test(manifest_import_dtruss, octal_escapes_and_bracketed_lists) {
    struct cordon_import *imp = import_text(
        DT, "t",
        "1/0x1:  sysctl([CTL_KERN, 14, 1, 123, 0, 0] (4), 0x7FF, 0x0, 0x0, 0x0)\t\t = 0 0\n"
        "1/0x1:  unlink(\"a\\101\\012\\0\")\t = 0 0\n"
        "1/0x1:  openat(0xFFFFFFFFFFFFFFFE, \"/x\\0\", 0x1000A01, 0x1B6)\t\t = 5 0\n");
    assert_no_warnings(imp);
    cr_assert(eq(int, one(imp, "aA\n", NULL, -1)->op, CORDON_IMPORT_DELETE));
    cr_assert(eq(int, one(imp, "/x", NULL, -1)->op, CORDON_IMPORT_CREATE));
    cordon_import_free(imp);
}
