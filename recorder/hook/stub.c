/* The fast lane's page: `syscall; ret` at SECCOMP_STUB_ADDR, which the
 * recording filter lets through (see direct.c and trace_seccomp.h). Built
 * into the hook and into the LD_AUDIT module, which has no libc: raw calls,
 * no library function but memcpy and memcmp. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "rawsys.h"

#if defined(__x86_64__)

int hook_stub_on;

/* syscall; ret, then a tag telling the page from another at the address. */
static const unsigned char stub_code[16] = {0x0f, 0x05, 0xc3, 'c', 'o', 'r', 'd', 'o',
                                            'n',  '-',  's',  't', 'u', 'b', 0,   0};

/* Is the page at the address ours (the other instance of the hook, in the
 * LD_AUDIT namespace, mapped it)? Read through the kernel, which answers
 * EFAULT rather than fault on an unreadable page. */
static bool stub_is_ours(void) {
    unsigned char buf[sizeof stub_code];
    struct iovec local = {.iov_base = buf, .iov_len = sizeof buf};
    struct iovec remote = {.iov_base = (void *)SECCOMP_STUB_ADDR, .iov_len = sizeof buf};
    long n = hook_sys6(SYS_process_vm_readv, hook_getpid(), (long)&local, 1, (long)&remote, 1, 0);
    return n == (long)sizeof buf && !memcmp(buf, stub_code, sizeof buf);
}

void hook_stub_map(void) {
    if (hook_stub_on)
        return;
    /* MAP_FIXED_NOREPLACE (Linux 4.17): never over an existing mapping; an
     * older kernel takes the address as a hint, hence the check. */
    long p = hook_sys6(SYS_mmap, (long)SECCOMP_STUB_ADDR, 4096, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == -EEXIST) {
        hook_stub_on = stub_is_ours();
        return;
    }
    if (p < 0 && p > -4096)
        return;
    if ((unsigned long)p != SECCOMP_STUB_ADDR) {
        hook_sys(SYS_munmap, p, 4096, 0, 0);
        return;
    }
    memcpy((void *)p, stub_code, sizeof stub_code);
    if (hook_sys(SYS_mprotect, p, 4096, PROT_READ | PROT_EXEC, 0) == 0)
        hook_stub_on = 1;
}

#else

void hook_stub_map(void) {}

#endif
