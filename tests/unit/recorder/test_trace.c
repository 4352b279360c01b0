/* The trace codec (recorder/trace.c) and the hook's path absolutiser. */
#include <errno.h>
#include <stdalign.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/parameterized.h>

#include <cordon/trace.h>

#include "path.h"

static struct cordon_trace_rec head_of(unsigned kind) {
    return (struct cordon_trace_rec){
        .kind = (uint16_t)kind,
        .pid = 4242,
        .err = ENOENT,
        .mode = 0100644,
        .arg = 7,
        .dev = 0x801,
        .ino = 123456789,
        .size = 1u << 20,
        .mtime_ns = 1700000000123456789,
    };
}

Test(recorder_trace, round_trip_keeps_every_field) {
    alignas(8) char buf[CORDON_TRACE_MAX];
    struct cordon_trace_rec in = head_of(CORDON_TRACE_RENAME);
    size_t n = cordon_trace_encode(buf, &in, "/a/from", 7, "/b/to", 5);
    cr_assert(eq(sz, n % 8, 0));
    cr_assert(eq(sz, n, 64 + 8 + 6 + 2));

    const struct cordon_trace_rec *h;
    const char *s1, *s2;
    cr_assert(eq(long, cordon_trace_decode(buf, n, &h, &s1, &s2), (long)n));
    cr_assert(eq(u16, h->magic, CORDON_TRACE_MAGIC));
    cr_assert(eq(u16, h->kind, CORDON_TRACE_RENAME));
    cr_assert(eq(u16, h->flags, 0));
    cr_assert(eq(i32, h->pid, 4242));
    cr_assert(eq(i32, h->err, ENOENT));
    cr_assert(eq(u32, h->mode, 0100644));
    cr_assert(eq(u32, h->arg, 7));
    cr_assert(eq(u64, h->dev, 0x801));
    cr_assert(eq(u64, h->ino, 123456789));
    cr_assert(eq(u64, h->size, 1u << 20));
    cr_assert(eq(i64, h->mtime_ns, 1700000000123456789));
    cr_assert(eq(u16, h->len1, 8));
    cr_assert(eq(u16, h->len2, 6));
    cr_assert(eq(str, (char *)s1, "/a/from"));
    cr_assert(eq(str, (char *)s2, "/b/to"));
}

Test(recorder_trace, absent_strings_decode_as_null) {
    alignas(8) char buf[CORDON_TRACE_MAX];
    struct cordon_trace_rec in = head_of(CORDON_TRACE_FORK);
    size_t n = cordon_trace_encode(buf, &in, NULL, 0, NULL, 0);
    cr_assert(eq(sz, n, 64));
    const struct cordon_trace_rec *h;
    const char *s1 = "x", *s2 = "y";
    cr_assert(eq(long, cordon_trace_decode(buf, n, &h, &s1, &s2), 64));
    cr_assert(eq(ptr, (void *)s1, NULL));
    cr_assert(eq(ptr, (void *)s2, NULL));
    cr_assert(eq(u16, h->len1, 0));
}

Test(recorder_trace, embedded_nuls_survive_in_argv_chunks) {
    alignas(8) char buf[CORDON_TRACE_MAX];
    struct cordon_trace_rec in = head_of(CORDON_TRACE_ARGV);
    static const char args[] = "cc\0-c\0x.c"; /* three arguments */
    size_t n = cordon_trace_encode(buf, &in, args, sizeof args - 1, NULL, 0);
    const struct cordon_trace_rec *h;
    const char *s1, *s2;
    cr_assert(eq(long, cordon_trace_decode(buf, n, &h, &s1, &s2), (long)n));
    cr_assert(eq(u16, h->len1, sizeof args));
    cr_assert(eq(int, memcmp(s1, args, sizeof args), 0));
}

Test(recorder_trace, long_strings_are_cut_str2_first) {
    alignas(8) char buf[CORDON_TRACE_MAX];
    static char big1[5000], big2[5000];
    memset(big1, 'a', sizeof big1 - 1);
    memset(big2, 'b', sizeof big2 - 1);
    struct cordon_trace_rec in = head_of(CORDON_TRACE_READLINK);
    const struct cordon_trace_rec *h;
    const char *s1, *s2;

    /* str1 fits, str2 gets what is left. */
    size_t n = cordon_trace_encode(buf, &in, big1, 1000, big2, 4999);
    cr_assert(le(sz, n, CORDON_TRACE_MAX));
    cr_assert(eq(long, cordon_trace_decode(buf, n, &h, &s1, &s2), (long)n));
    cr_assert(eq(u16, h->flags & CORDON_TRACE_TRUNCATED, CORDON_TRACE_TRUNCATED));
    cr_assert(eq(sz, strlen(s1), 1000));
    cr_assert(eq(sz, strlen(s2), CORDON_TRACE_MAX - 64 - 1001 - 1));

    /* str1 alone too long: str2 keeps only its NUL. */
    n = cordon_trace_encode(buf, &in, big1, 4999, big2, 10);
    cr_assert(eq(long, cordon_trace_decode(buf, n, &h, &s1, &s2), (long)n));
    cr_assert(eq(sz, strlen(s1), CORDON_TRACE_MAX - 64 - 2));
    cr_assert(eq(str, (char *)s2, ""));
    cr_assert(eq(sz, n, CORDON_TRACE_MAX));
}

Test(recorder_trace, fitting_strings_are_not_flagged) {
    alignas(8) char buf[CORDON_TRACE_MAX];
    static char s[CORDON_TRACE_MAX];
    memset(s, 'x', sizeof s);
    struct cordon_trace_rec in = head_of(CORDON_TRACE_OPEN);
    size_t n = cordon_trace_encode(buf, &in, s, CORDON_TRACE_MAX - 64 - 1, NULL, 0);
    const struct cordon_trace_rec *h;
    const char *s1, *s2;
    cr_assert(eq(long, cordon_trace_decode(buf, n, &h, &s1, &s2), (long)n));
    cr_assert(eq(u16, h->flags, 0));
}

Test(recorder_trace, torn_tail_returns_zero) {
    alignas(8) char buf[2 * CORDON_TRACE_MAX];
    struct cordon_trace_rec in = head_of(CORDON_TRACE_OPEN);
    size_t n = cordon_trace_encode(buf, &in, "/usr/include/stdio.h", 20, NULL, 0);
    const struct cordon_trace_rec *h;
    const char *s1, *s2;
    for (size_t cut = 0; cut < n; cut++)
        cr_assert(eq(long, cordon_trace_decode(buf, cut, &h, &s1, &s2), 0), "cut at %zu", cut);
}

Test(recorder_trace, garbage_is_einval) {
    alignas(8) char buf[CORDON_TRACE_MAX];
    const struct cordon_trace_rec *h;
    const char *s1, *s2;
    struct cordon_trace_rec in = head_of(CORDON_TRACE_STAT);
    size_t n = cordon_trace_encode(buf, &in, "/etc/passwd", 11, NULL, 0);
    struct cordon_trace_rec *w = (struct cordon_trace_rec *)buf;

    w->magic = 0xdead;
    cr_assert(eq(long, cordon_trace_decode(buf, n, &h, &s1, &s2), -EINVAL));
    cr_assert(eq(long, cordon_trace_decode(buf, 10, &h, &s1, &s2), -EINVAL));
    w->magic = CORDON_TRACE_MAGIC;

    w->kind = CORDON_TRACE_KIND_MAX;
    cr_assert(eq(long, cordon_trace_decode(buf, n, &h, &s1, &s2), -EINVAL));
    w->kind = CORDON_TRACE_STAT;

    w->len = 12; /* shorter than the head */
    cr_assert(eq(long, cordon_trace_decode(buf, n, &h, &s1, &s2), -EINVAL));
    w->len = (uint16_t)(n + 1); /* not a multiple of 8 */
    cr_assert(eq(long, cordon_trace_decode(buf, sizeof buf, &h, &s1, &s2), -EINVAL));
    w->len = (uint16_t)n;

    w->len1 = 40; /* strings past the record */
    cr_assert(eq(long, cordon_trace_decode(buf, n, &h, &s1, &s2), -EINVAL));
    w->len1 = 12;

    buf[64 + 11] = 'x'; /* str1 not NUL-terminated */
    cr_assert(eq(long, cordon_trace_decode(buf, n, &h, &s1, &s2), -EINVAL));
    buf[64 + 11] = 0;
    cr_assert(eq(long, cordon_trace_decode(buf, n, &h, &s1, &s2), (long)n));
}

Test(recorder_trace, records_follow_each_other) {
    alignas(8) char buf[3 * CORDON_TRACE_MAX];
    struct cordon_trace_rec in = head_of(CORDON_TRACE_OPEN);
    size_t off = cordon_trace_encode(buf, &in, "/a", 2, NULL, 0);
    in.kind = CORDON_TRACE_EXEC;
    off += cordon_trace_encode(buf + off, &in, "/bin/sh", 7, NULL, 0);
    const struct cordon_trace_rec *h;
    const char *s1, *s2;
    long n = cordon_trace_decode(buf, off, &h, &s1, &s2);
    cr_assert(gt(long, n, 0));
    cr_assert(eq(str, (char *)s1, "/a"));
    n = cordon_trace_decode(buf + n, off - (size_t)n, &h, &s1, &s2);
    cr_assert(gt(long, n, 0));
    cr_assert(eq(str, (char *)cordon_trace_kind_name(h->kind), "exec"));
    cr_assert(eq(str, (char *)s1, "/bin/sh"));
}

Test(recorder_trace, kind_names) {
    cr_assert(eq(str, (char *)cordon_trace_kind_name(CORDON_TRACE_OPEN), "open"));
    cr_assert(eq(str, (char *)cordon_trace_kind_name(CORDON_TRACE_LA_SEARCH), "la-search"));
    cr_assert(eq(str, (char *)cordon_trace_kind_name(CORDON_TRACE_GETENV), "getenv"));
    cr_assert(eq(str, (char *)cordon_trace_kind_name(0), "unknown"));
    cr_assert(eq(str, (char *)cordon_trace_kind_name(9999), "unknown"));
}

/* ---- path absolutisation ------------------------------------------------ */

/* Arrays, not pointers: Criterion may run the test in a fresh process. */
struct join_case {
    char base[16], path[32], want[32];
};

static struct join_case join_cases[] = {
    {"/home/u/src", "x.c", "/home/u/src/x.c"},
    {"/home/u/src", "./x.c", "/home/u/src/x.c"},
    {"/home/u/src", "../inc/x.h", "/home/u/inc/x.h"},
    {"/home/u/src", "../../../../etc", "/etc"},
    {"/home/u/src", "/usr//include/./stdio.h", "/usr/include/stdio.h"},
    {"/home/u/src", "/usr/include/", "/usr/include"},
    {"/home/u/src", ".", "/home/u/src"},
    {"/home/u/src", "..", "/home/u"},
    {"/", "a/b/..", "/a"},
    {"/", "..", "/"},
    {"/", ".", "/"},
    {"/x", "/", "/"},
    {"/x", "//", "/"},
    {"/a/b", "c//d///", "/a/b/c/d"},
    {"/a/b", "...", "/a/b/..."},
    {"/a/b", "..x/.y", "/a/b/..x/.y"},
    {"/a/./b/", "c", "/a/b/c"}, /* the base is normalised too */
};

ParameterizedTestParameters(recorder_path, joins_and_normalises) {
    return cr_make_param_array(struct join_case, join_cases,
                               sizeof join_cases / sizeof join_cases[0]);
}

ParameterizedTest(struct join_case *c, recorder_path, joins_and_normalises) {
    char out[256];
    size_t n = hook_path_join(c->base, strlen(c->base), c->path, out, sizeof out);
    cr_assert(eq(str, out, (char *)c->want), "'%s' + '%s'", c->base, c->path);
    cr_assert(eq(sz, n, strlen(c->want)));
}

Test(recorder_path, absolute_path_needs_no_base) {
    char out[64];
    cr_assert(eq(sz, hook_path_join(NULL, 0, "/a/../b", out, sizeof out), 2));
    cr_assert(eq(str, out, "/b"));
}

Test(recorder_path, refuses_what_it_cannot_make_absolute) {
    char out[64];
    cr_assert(eq(sz, hook_path_join("/a", 2, "", out, sizeof out), 0));
    cr_assert(eq(sz, hook_path_join("pipe:[12]", 9, "x", out, sizeof out), 0));
    cr_assert(eq(sz, hook_path_join(NULL, 0, "x", out, sizeof out), 0));
}

Test(recorder_path, refuses_what_does_not_fit) {
    char out[8];
    cr_assert(eq(sz, hook_path_join("/abc", 4, "defg", out, sizeof out), 0));
    cr_assert(eq(sz, hook_path_join("/abc", 4, "def", out, sizeof out), 0));
    cr_assert(eq(sz, hook_path_join("/abc", 4, "de", out, sizeof out), 7));
    cr_assert(eq(str, out, "/abc/de"));
    /* Too long on the way, even if ".." would shorten it: refused. */
    cr_assert(eq(sz, hook_path_join("/", 1, "aaaaaaaaaa/../b", out, sizeof out), 0));
}

Test(recorder_path, proc_fd_names) {
    char out[64];
    cr_assert(eq(sz, hook_path_fd(out, "/proc/self/fd/", 0), 15));
    cr_assert(eq(str, out, "/proc/self/fd/0"));
    hook_path_fd(out, "/proc/self/fd/", 4294967295u);
    cr_assert(eq(str, out, "/proc/self/fd/4294967295"));
}
