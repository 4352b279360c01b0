/* Raw system calls for the hook and the LD_AUDIT module: -errno on
 * failure, errno untouched, no libc (the audit module has none). */
#pragma once

#include <sys/syscall.h>

#include "../trace_seccomp.h"

#if defined(__x86_64__) && defined(CORDON_HOOK_BUILD)
/* The fast lane's page (stub.c): mapped, and the process under the
 * recorder's filter, which lets calls made from the page through. Only in
 * the hook and the audit module: enforce.c also builds into the recorder. */
extern int hook_stub_on;
#else
#define hook_stub_on 0
#endif

#if defined(__x86_64__)
static inline long hook_sys6(long n, long a, long b, long c, long d, long e, long f) {
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    if (__builtin_expect(hook_stub_on, 0)) {
        /* The call's return address must not land in this function's red
         * zone, where the compiler may keep locals: step over it. */
        __asm__ volatile("sub $128, %%rsp\n\tcall *%[stub]\n\tadd $128, %%rsp"
                         : "=a"(ret)
                         : [stub] "r"(SECCOMP_STUB_ADDR), "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10),
                           "r"(r8), "r"(r9)
                         : "rcx", "r11", "memory", "cc");
        return ret;
    }
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__aarch64__)
static inline long hook_sys6(long n, long a, long b, long c, long d, long e, long f) {
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc #0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
}
#else
#error "the hook knows x86_64 and aarch64"
#endif
#define hook_sys(n, a, b, c, d) hook_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

static inline int hook_getpid(void) {
    return (int)hook_sys(SYS_getpid, 0, 0, 0, 0);
}

/* Map the fast lane's page, or find the one the other instance of the hook
 * (preload or audit) mapped: called at init when recording under the
 * recorder's filter without a policy. x86_64 only; a no-op elsewhere. */
void hook_stub_map(void);
