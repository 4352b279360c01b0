/* The kdump importer (OpenBSD and FreeBSD ktrace) on the fixtures ported
 * from the Rust tree and on small logs written here. */
#include "test_import.h"

#define KD CORDON_IMPORT_KDUMP

static const struct cordon_import_event *one_op(const struct cordon_import *imp, const char *path,
                                                enum cordon_import_op op) {
    return one(imp, path, NULL, (int)op);
}

/* What both fixtures show: the same build on OpenBSD and on FreeBSD. */
static void check_scenario(struct cordon_import *imp, struct cordon_manifest *m) {
    assert_no_warnings(imp);
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(poisoned_reads); i++) {
        const struct cordon_import_event *e =
            one_op(imp, poisoned_reads[i].path, CORDON_IMPORT_READ);
        cr_assert(eq(int, e->pid, poisoned_reads[i].pid), "%s", poisoned_reads[i].path);
        cr_assert(eq(int, e->err, 0));
    }
    static const int chain[] = {108, 107, 106, 105, 100};
    for (size_t i = 0; i + 1 < CORDON_ARRAY_SIZE(chain); i++)
        cr_assert(eq(int, proc_of(m, chain[i])->ppid, chain[i + 1]));
    cr_assert(eq(int, proc_of(m, 100)->ppid, 0));
    for (int pid = 101; pid <= 104; pid++)
        cr_assert(eq(int, proc_of(m, pid)->ppid, 100));
    cr_assert(eq(str, proc_of(m, 101)->exe, "/usr/local/bin/git"));
    cr_assert(eq(str, proc_of(m, 105)->exe, "/usr/bin/make"));
    cr_assert(eq(str, proc_of(m, 107)->exe, "/usr/bin/cc"));
    cr_assert(eq(str, proc_of(m, 107)->cwd, "/home/u/src/pkg"));
    const struct cordon_import_event *e = one_op(imp, "/etc/gitconfig", CORDON_IMPORT_READ);
    cr_assert(eq(int, e->pid, 101));
    cr_assert(eq(int, e->err, ENOENT));
    e = one_op(imp, "/home/u/bin/git", CORDON_IMPORT_EXEC);
    cr_assert(eq(int, e->err, ENOENT));
    e = one_op(imp, "/usr/local/include/zlib.h", CORDON_IMPORT_READ);
    cr_assert(eq(int, e->pid, 108));
    cr_assert(eq(int, e->err, ENOENT));
    cr_assert(eq(int, one_op(imp, "/home/u/.config/git/config", CORDON_IMPORT_PROBE)->err, ENOENT));
    cr_assert(eq(int, one_op(imp, "/usr/bin/cc", CORDON_IMPORT_EXEC)->err, 0));
    /* Relative paths: before the shell's cd unresolved, after it resolved. */
    cr_assert(eq(int, one_op(imp, ".git", CORDON_IMPORT_STAT)->pid, 101));
    cr_assert(eq(int, one_op(imp, "/home/u/src/pkg", CORDON_IMPORT_CHDIR)->pid, 100));
    cr_assert(eq(int, one_op(imp, "/home/u/src/pkg/Makefile", CORDON_IMPORT_READ)->pid, 105));
    cr_assert(eq(int, one_op(imp, "/home/u/src/pkg/main.c", CORDON_IMPORT_READ)->pid, 108));
    cr_assert(eq(int, one_op(imp, "/tmp/ccAb12Cd.s", CORDON_IMPORT_WRITE)->pid, 108));
    cr_assert(eq(int, one_op(imp, "/tmp/ccAb12Cd.o", CORDON_IMPORT_DELETE)->pid, 107));
    cr_assert(eq(int, one_op(imp, "/home/u/src/pkg/main.o", CORDON_IMPORT_CREATE)->pid, 107));
    cr_assert(eq(int, one_op(imp, "/tmp/ccAb12Cd.s", CORDON_IMPORT_DELETE)->err, 0));
    for (int pid = 100; pid <= 108; pid++)
        if (pid != 102)
            cr_assert(eq(int, proc_of(m, pid)->status, 0), "pid %d", pid);
    cr_assert(m->command.finished);
    cr_assert(eq(int, m->command.status, 0));
    cr_assert(has_gap(m, "import-limits"));
    /* The planted ~/.gitconfig is an input, unhashed on this host. */
    const struct cordon_input *in = cordon_manifest_find_input(m, "/home/u/.gitconfig");
    cr_assert(in != NULL);
    cr_assert(ne(u32, in->flags & CORDON_INPUT_UNHASHED, 0));
    size_t n;
    const struct cordon_import_event *ev = cordon_import_events(imp, &n);
    for (size_t i = 1; i < n; i++)
        cr_assert(ev[i].seq > ev[i - 1].seq);
}

Test(manifest_import_kdump, openbsd_fixture_imports) {
    struct cordon_import *imp = import_fixture(KD, "kdump-openbsd.log");
    struct cordon_manifest *m = build(imp);
    check_scenario(imp, m);
    /* ARGS give argv, wrapped arguments joined again. */
    const struct cordon_process *git = proc_of(m, 101);
    cr_assert(eq(sz, cordon_strv_length(git->argv), 4));
    cr_assert(eq(str, git->argv[3], "user.name"));
    cr_assert(eq(str, proc_of(m, 106)->argv[2], "cc -O2 -c main.c"));
    cr_assert(eq(str, proc_of(m, 100)->exe, "/bin/sh"));
    cr_assert(eq(str, proc_of(m, 100)->argv[2],
                 "git config --get user.name; leakprobe; cmake --find-package -DNAME=Poison "
                 "-DCOMPILER_ID=GNU -DLANGUAGE=C -DMODE=EXIST & python3.11 -c pass; wait; cd "
                 "/home/u/src/pkg && make"));
    /* A wrapped NAMI for an exec. */
    const struct cordon_process *cc1 = proc_of(m, 108);
    cr_assert(eq(str, cc1->exe, "/usr/local/libexec/gcc/x86_64-unknown-openbsd7.5/11.2.0/cc1"));
    cr_assert(eq(str, cc1->argv[0], "cc1"));
    const struct cordon_import_event *e =
        one_op(imp, "/home/u/.local/lib/python3.11/site-packages/distutils-precedence.pth",
               CORDON_IMPORT_STAT);
    cr_assert(eq(int, e->pid, 104));
    cr_assert(eq(int, e->err, ENOENT));
    /* EACCES, then death by SIGSEGV (the core dump's NAMI is no event). */
    e = one_op(imp, "/home/u/.ssh/id_ed25519", CORDON_IMPORT_READ);
    cr_assert(eq(int, e->pid, 102));
    cr_assert(eq(int, e->err, EACCES));
    cr_assert(eq(int, proc_of(m, 102)->status, 11));
    size_t n;
    const struct cordon_import_event *ev = cordon_import_events(imp, &n);
    for (size_t i = 0; i < n; i++)
        cr_assert(strstr(ev[i].path, "core") == NULL);
    /* Timestamps count from the first record. */
    e = one_op(imp, "/home/u/.gitconfig", CORDON_IMPORT_READ);
    cr_assert(gt(u64, e->t_ns, 0));
    cr_assert(lt(u64, e->t_ns, 1000000000ULL));
    cr_assert(gt(u64, one_op(imp, "/usr/include/stdio.h", CORDON_IMPORT_READ)->t_ns, e->t_ns));
    cordon_manifest_free(m);
    cordon_import_free(imp);
}

Test(manifest_import_kdump, freebsd_fixture_imports) {
    struct cordon_import *imp = import_fixture(KD, "kdump-freebsd.log");
    struct cordon_manifest *m = build(imp);
    check_scenario(imp, m);
    /* No ARGS on FreeBSD: argv is the command name. */
    cr_assert(eq(sz, cordon_strv_length(proc_of(m, 101)->argv), 1));
    cr_assert(eq(str, proc_of(m, 101)->argv[0], "git"));
    cr_assert(eq(str, proc_of(m, 108)->exe,
                 "/usr/local/libexec/gcc13/gcc/x86_64-portbld-freebsd14.0/13.2.0/cc1"));
    /* The ELF interpreter's NAMI of an execve is not the program. */
    cr_assert(eq(sz, count_events(imp, "/libexec/ld-elf.so.1", NULL, CORDON_IMPORT_EXEC, NULL), 0));
    /* Two threads of python3.11, paired by thread id; a raw path with spaces. */
    const struct cordon_import_event *e =
        one_op(imp, "/home/u/.cache/pip/Pip Cache/selfcheck.json", CORDON_IMPORT_READ);
    cr_assert(eq(int, e->pid, 104));
    cr_assert(eq(int, e->err, ENOENT));
    e = one_op(imp, "/usr/local/lib/python311.zip", CORDON_IMPORT_STAT);
    cr_assert(eq(int, e->err, ENOENT));
    cr_assert(eq(int, proc_of(m, 102)->status, 1 << 8));
    /* O_DIRECTORY opens look at the directory. */
    cr_assert(eq(int, one(imp, "/home/u/.cmake/packages/Poison", NULL, -1)->pid, 103));
    cordon_manifest_free(m);
    cordon_import_free(imp);
}

Test(manifest_import_kdump, garbage_gives_warnings_with_line_numbers) {
    struct cordon_import *imp = import_fixture(KD, "kdump-garbage.log");
    static const int want[] = {4, 5, 8, 11, 12, 13, 14, 15, 16, 17, 20, 21, 28};
    static const int unwanted[] = {1, 2, 3, 6, 7, 9, 10, 18, 22, 23, 24, 25, 29, 30};
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(want); i++)
        cr_assert(warned_at(imp, "kdump-garbage.log", want[i]), "line %d", want[i]);
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(unwanted); i++)
        cr_assert(not(warned_at(imp, "kdump-garbage.log", unwanted[i])), "line %d", unwanted[i]);
    cr_assert(eq(int, one_op(imp, "/home/u/.profile", CORDON_IMPORT_READ)->err, 0));
    cr_assert(eq(int, one_op(imp, "/home/u/.bashrc", CORDON_IMPORT_READ)->err, ENOENT));
    const struct cordon_import_event *e = one_op(imp, "/home/u/.local/share/x", CORDON_IMPORT_READ);
    cr_assert(eq(int, e->pid, 201));
    cr_assert(eq(int, e->err, EACCES));
    cr_assert(eq(sz, count_events(imp, "/etc/motd", NULL, -1, NULL), 0));
    cr_assert(eq(sz, count_events(imp, "/etc/passwd", NULL, -1, NULL), 0));
    struct cordon_manifest *m = build(imp);
    cr_assert(eq(int, proc_of(m, 201)->status, 3 << 8));
    cr_assert(eq(int, proc_of(m, 200)->status, 9));
    cordon_manifest_free(m);
    cordon_import_free(imp);
}

Test(manifest_import_kdump, nothing_recognisable_is_an_error) {
    struct cordon_error err;
    cr_assert(try_import(KD, "empty.log", "", NULL, &err) == NULL);
    cr_assert(try_import(KD, "blank.log", "\n\n   \n\t\n", NULL, &err) == NULL);
    cr_assert(try_import_n(KD, NULL, 0, NULL, &err) == NULL);
    cr_assert(try_import(KD, "text.txt", "hello\nworld\n12 monkeys\n", NULL, &err) == NULL);
    cr_assert(eq(str, err.path, "text.txt"));
    cr_assert(strstr(err.text, "not a kdump log") != NULL);
}

Test(manifest_import_kdump, a_file_without_records_among_others_is_a_warning) {
    size_t len;
    char *g = fixture("kdump-garbage.log", &len);
    struct cordon_import_source srcs[2] = {{"a.log", g, len}, {"b.log", "nothing here\n", 13}};
    struct cordon_error err;
    struct cordon_import *imp = try_import_n(KD, srcs, 2, NULL, &err);
    cr_assert(imp != NULL);
    cr_assert(warned_at(imp, "b.log", 0));
    cordon_import_free(imp);
    free(g);
}

Test(manifest_import_kdump, headers_of_every_flavour) {
    struct cordon_import *imp =
        import_text(KD, "t",
                    "  4242/100077  git      CALL  open(0x1,0<O_RDONLY>)\n"
                    "  4242/100077  git      NAMI  \"/a\"\n"
                    "  4242/100077  git      RET   open 3\n"
                    "   100 100100 Web Content 1700000000.250000 0.000100 CALL  F64  "
                    "openat(AT_FDCWD,0x1,0x0<O_RDONLY>)\n"
                    "   100 100100 Web Content 1700000000.250000 0.000100 NAMI  \"/b\"\n"
                    "   100 100100 Web Content 1700000000.250000 0.000100 RET   F64  openat 3\n"
                    "1234567 RET      CALL  stat(0x1,0x2)\n"
                    "1234567 RET      NAMI  \"/c\"\n"
                    "1234567 RET      RET   stat -1 errno 63 File name too long\n"
                    "   12 sh      CALL  __stat50(0x1,0x2)\n"
                    "   12 sh      NAMI  \"/d\\040e\\M-C\\M-)\"\n"
                    "   12 sh      RET   __stat50 0\n"
                    "   12 sh      CALL  open[5](0x1,0x601)\n"
                    "   12 sh      NAMI  \"/f\"\n"
                    "   12 sh      RET   open[5] 4/0x4\n");
    assert_no_warnings(imp);
    cr_assert(eq(int, one(imp, "/a", NULL, -1)->pid, 4242));
    cr_assert(eq(int, one(imp, "/b", NULL, -1)->pid, 100));
    cr_assert(eq(int, one(imp, "/c", NULL, -1)->err, ENAMETOOLONG));
    cr_assert(eq(int, one(imp, "/d e\xc3\xa9", NULL, -1)->op, CORDON_IMPORT_STAT));
    cr_assert(eq(int, one(imp, "/f", NULL, -1)->op, CORDON_IMPORT_WRITE));
    cordon_import_free(imp);
}
