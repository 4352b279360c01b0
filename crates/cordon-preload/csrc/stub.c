/* The fast path's system call stub: one page at CP_STUB_ADDR holding
 * `syscall; ret`, mapped when CORDON_PRELOAD_FASTPATH=1. cordon's seccomp
 * filter lets calls made from it through without asking its supervisor, so
 * the checks the shim makes itself (a readlink per component of each path it
 * walks, glibc's realpath replaced) cost no round trip. A program could jump
 * to the stub on purpose: the seccomp backend is advisory, as it says. */
#include "shim.h"

#include <sys/mman.h>
#include <sys/syscall.h>

static int stub_ok;

hidden void cp_map_stub(void) {
#if defined(__x86_64__)
    const char *f = getenv("CORDON_PRELOAD_FASTPATH");
    if (!f || f[0] != '1' || stub_ok)
        return;
    /* MAP_FIXED_NOREPLACE (Linux 4.17): never over an existing mapping; an
     * older kernel treats it as a hint, hence the address check. */
    void *p = (void *)syscall(SYS_mmap, CP_STUB_ADDR, 4096UL, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1L, 0L);
    if (p == MAP_FAILED)
        return;
    if ((unsigned long)p != CP_STUB_ADDR) {
        syscall(SYS_munmap, p, 4096UL);
        return;
    }
    unsigned char *code = p;
    code[0] = 0x0f; /* syscall */
    code[1] = 0x05;
    code[2] = 0xc3; /* ret */
    if (syscall(SYS_mprotect, p, 4096UL, PROT_READ | PROT_EXEC) == 0)
        stub_ok = 1;
#endif
}

hidden long cp_sys(long nr, long a, long b, long c, long d) {
#if defined(__x86_64__)
    if (stub_ok) {
        long ret;
        register long r10 __asm__("r10") = d;
        /* The shim is built with -mno-red-zone: the call's return address
         * lands below the stack pointer without clobbering locals. */
        __asm__ volatile("call *%[stub]"
                         : "=a"(ret), "+r"(r10)
                         : [stub] "r"(CP_STUB_ADDR), "a"(nr), "D"(a), "S"(b), "d"(c)
                         : "rcx", "r11", "memory");
        if (ret < 0 && ret > -4096) {
            errno = (int)-ret;
            return -1;
        }
        return ret;
    }
#endif
    return syscall(nr, a, b, c, d);
}
