/* The seccomp supervisor's pure parts (recorder/trace_seccomp.c): what a
 * notified system call means for the log, and how its path is made
 * absolute. */
#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <cordon/trace.h>

#include "../trace_seccomp.h"

Test(recorder_seccomp, openat_is_an_open_with_its_flags_and_dirfd) {
    uint64_t a[6] = {3, 0x1000, O_WRONLY | O_CREAT | O_TRUNC, 0644};
    struct seccomp_call c;
    cr_assert(seccomp_describe(__NR_openat, a, &c));
    cr_assert(eq(u32, c.kind, CORDON_TRACE_OPEN));
    cr_assert(eq(int, c.path_arg, 1));
    cr_assert(eq(int, c.dirfd_arg, 0));
    cr_assert(eq(int, c.path2_arg, -1));
    cr_assert(eq(u32, c.arg, (uint32_t)(O_WRONLY | O_CREAT | O_TRUNC)));
    cr_assert(not(c.flags_remote));
}

Test(recorder_seccomp, openat2_reads_its_flags_from_open_how) {
    uint64_t a[6] = {(uint64_t)AT_FDCWD, 0x1000, 0x2000, 24};
    struct seccomp_call c;
    cr_assert(seccomp_describe(__NR_openat2, a, &c));
    cr_assert(eq(u32, c.kind, CORDON_TRACE_OPEN));
    cr_assert(c.flags_remote);
}

Test(recorder_seccomp, stat_family_says_whether_the_link_was_followed) {
    uint64_t a[6] = {(uint64_t)AT_FDCWD, 0x1000, 0x2000, AT_SYMLINK_NOFOLLOW};
    struct seccomp_call c;
    cr_assert(seccomp_describe(__NR_newfstatat, a, &c));
    cr_assert(eq(u32, c.kind, CORDON_TRACE_STAT));
    cr_assert(c.nofollow);
    cr_assert(eq(u32, c.arg, 1));
    a[3] = AT_EMPTY_PATH;
    cr_assert(seccomp_describe(__NR_newfstatat, a, &c));
    cr_assert(not(c.nofollow));
    cr_assert(c.empty_path);
    uint64_t x[6] = {(uint64_t)AT_FDCWD, 0x1000, AT_SYMLINK_NOFOLLOW, 0x7ff, 0x3000};
    cr_assert(seccomp_describe(__NR_statx, x, &c));
    cr_assert(eq(u32, c.arg, 1));
}

Test(recorder_seccomp, unlinkat_with_removedir_is_an_rmdir) {
    uint64_t a[6] = {5, 0x1000, AT_REMOVEDIR};
    struct seccomp_call c;
    cr_assert(seccomp_describe(__NR_unlinkat, a, &c));
    cr_assert(eq(u32, c.kind, CORDON_TRACE_RMDIR));
    a[2] = 0;
    cr_assert(seccomp_describe(__NR_unlinkat, a, &c));
    cr_assert(eq(u32, c.kind, CORDON_TRACE_UNLINK));
}

Test(recorder_seccomp, two_path_calls_name_both_paths_and_dirfds) {
    uint64_t a[6] = {3, 0x1000, 4, 0x2000, 1 /* RENAME_NOREPLACE */};
    struct seccomp_call c;
    cr_assert(seccomp_describe(__NR_renameat2, a, &c));
    cr_assert(eq(u32, c.kind, CORDON_TRACE_RENAME));
    cr_assert(eq(int, c.path_arg, 1));
    cr_assert(eq(int, c.dirfd_arg, 0));
    cr_assert(eq(int, c.path2_arg, 3));
    cr_assert(eq(int, c.dirfd2_arg, 2));
    cr_assert(eq(u32, c.arg, 1));
    /* symlinkat(target, newdirfd, linkpath): the target is text */
    uint64_t s[6] = {0x1000, 7, 0x2000};
    cr_assert(seccomp_describe(__NR_symlinkat, s, &c));
    cr_assert(eq(u32, c.kind, CORDON_TRACE_SYMLINK));
    cr_assert(c.path1_text);
    cr_assert(eq(int, c.path2_arg, 2));
    cr_assert(eq(int, c.dirfd2_arg, 1));
}

Test(recorder_seccomp, calls_the_filter_does_not_notify_are_not_described) {
    uint64_t a[6] = {0};
    struct seccomp_call c;
    cr_assert(not(seccomp_describe(__NR_read, a, &c)));
    cr_assert(not(seccomp_describe(__NR_getdents64, a, &c)));
}

Test(recorder_seccomp, execveat_with_empty_path_names_the_fd) {
    uint64_t a[6] = {9, 0x1000, 0x2000, 0x3000, AT_EMPTY_PATH};
    struct seccomp_call c;
    cr_assert(seccomp_describe(__NR_execveat, a, &c));
    cr_assert(eq(u32, c.kind, CORDON_TRACE_EXEC));
    cr_assert(c.empty_path);
}

Test(recorder_seccomp, resolve_joins_and_normalises) {
    char out[PATH_MAX];
    cr_assert(eq(sz, seccomp_resolve("/work/src", "../inc/./a.h", false, out), 13));
    cr_assert(eq(str, out, "/work/inc/a.h"));
    cr_assert(gt(sz, seccomp_resolve("/ignored", "/etc//passwd/", false, out), 0));
    cr_assert(eq(str, out, "/etc/passwd"));
    cr_assert(gt(sz, seccomp_resolve(NULL, "/abs", false, out), 0));
    cr_assert(eq(str, out, "/abs"));
}

Test(recorder_seccomp, resolve_refuses_what_it_cannot_make_absolute) {
    char out[PATH_MAX];
    cr_assert(eq(sz, seccomp_resolve(NULL, "rel", false, out), 0));
    cr_assert(eq(sz, seccomp_resolve("pipe:[12]", "rel", false, out), 0));
    cr_assert(eq(sz, seccomp_resolve("/d", "", false, out), 0));
    cr_assert(eq(sz, seccomp_resolve("/d", NULL, true, out), 0));
    cr_assert(gt(sz, seccomp_resolve("/d/e", "", true, out), 0));
    cr_assert(eq(str, out, "/d/e"));
}

Test(recorder_seccomp, proc_self_becomes_the_targets_pid) {
    char p[PATH_MAX] = "/proc/self/exe";
    cr_assert(eq(sz, seccomp_proc_self(p, 4242), 14));
    cr_assert(eq(str, p, "/proc/4242/exe"));
    char t[PATH_MAX] = "/proc/thread-self";
    seccomp_proc_self(t, 7);
    cr_assert(eq(str, t, "/proc/7"));
    char o[PATH_MAX] = "/proc/selfish/x";
    seccomp_proc_self(o, 7);
    cr_assert(eq(str, o, "/proc/selfish/x"));
}
