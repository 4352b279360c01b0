/* noclone3: run a command with clone3(2) failing with ENOSYS.
 *
 * Debian 12's reprozip 1.1 aborts on the first clone3 its tracee makes
 * (glibc 2.34+ creates threads and posix_spawn children with clone3, which
 * that tracer does not know). With clone3 refused, glibc falls back to
 * clone(2), which reprozip follows. The filter is inherited by the whole
 * tree, so every process of the build takes the fallback.
 *
 * Usage: noclone3 CMD [ARGS...]
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_clone3
#define __NR_clone3 435
#endif

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs("usage: noclone3 CMD [ARGS...]\n", stderr);
        return 125;
    }
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof filter / sizeof filter[0], .filter = filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        fprintf(stderr, "noclone3: cannot set no_new_privs: %s\n", strerror(errno));
        return 125;
    }
    if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
        fprintf(stderr, "noclone3: cannot install the seccomp filter: %s\n", strerror(errno));
        return 125;
    }
    execvp(argv[1], argv + 1);
    fprintf(stderr, "noclone3: cannot run '%s': %s\n", argv[1], strerror(errno));
    return errno == ENOENT ? 127 : 126;
}
