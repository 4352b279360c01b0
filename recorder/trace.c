/* The trace record codec, shared by the hook (which encodes) and the
 * collector (which decodes). Built into libcordon-hook.so, so it follows the
 * hook's rules: no malloc, no stdio, no errno, async-signal-safe.
 *
 * Records are padded to a multiple of 8 bytes so that, in a log read into an
 * 8-aligned buffer, every head is aligned and can be used in place. */
#include <errno.h>
#include <string.h>

#include <cordon/trace.h>

#define HEAD sizeof(struct cordon_trace_rec)
#define ALIGN 8u

static const char *const kind_names[CORDON_TRACE_KIND_MAX] = {[CORDON_TRACE_NONE] = "none",
#define CORDON_TRACE_NAME(id, name) [CORDON_TRACE_##id] = name,
                                                              CORDON_TRACE_KINDS(CORDON_TRACE_NAME)
#undef CORDON_TRACE_NAME
};

const char *cordon_trace_kind_name(unsigned kind) {
    if (kind == CORDON_TRACE_NONE || kind >= CORDON_TRACE_KIND_MAX)
        return "unknown";
    return kind_names[kind];
}

size_t cordon_trace_encode(void *buf, const struct cordon_trace_rec *head, const char *s1,
                           size_t n1, const char *s2, size_t n2) {
    /* Room for both strings, their NULs and the padding to ALIGN. */
    const size_t room = CORDON_TRACE_MAX - HEAD;
    struct cordon_trace_rec h = *head;
    unsigned char *p = buf;
    uint16_t flags = h.flags;

    size_t nul1 = s1 ? 1 : 0, nul2 = s2 ? 1 : 0;
    if (!s1)
        n1 = 0;
    if (!s2)
        n2 = 0;
    /* str2 is cut first, then str1; each keeps at least its NUL. */
    if (n1 + nul1 + n2 + nul2 > room) {
        flags |= CORDON_TRACE_TRUNCATED;
        size_t left = room - nul1 - nul2;
        if (n1 > left)
            n1 = left;
        left -= n1;
        if (n2 > left)
            n2 = left;
    }
    h.magic = CORDON_TRACE_MAGIC;
    h.flags = flags;
    h.len1 = (uint16_t)(n1 + nul1);
    h.len2 = (uint16_t)(n2 + nul2);
    h.reserved = 0;
    size_t len = HEAD + h.len1 + h.len2;
    size_t padded = (len + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    h.len = (uint16_t)padded;

    memcpy(p, &h, HEAD);
    size_t off = HEAD;
    if (s1) {
        memcpy(p + off, s1, n1);
        p[off + n1] = 0;
        off += n1 + 1;
    }
    if (s2) {
        memcpy(p + off, s2, n2);
        p[off + n2] = 0;
        off += n2 + 1;
    }
    memset(p + off, 0, padded - off);
    return padded;
}

long cordon_trace_decode(const void *buf, size_t avail, const struct cordon_trace_rec **ret_head,
                         const char **ret_s1, const char **ret_s2) {
    const unsigned char *p = buf;
    struct cordon_trace_rec h;

    if (avail < HEAD) {
        /* Too short to judge the length: a torn tail, unless the part we
         * have already shows a bad magic. */
        uint16_t magic;
        if (avail >= sizeof magic) {
            memcpy(&magic, p, sizeof magic);
            if (magic != CORDON_TRACE_MAGIC)
                return -EINVAL;
        }
        return 0;
    }
    memcpy(&h, p, HEAD);
    if (h.magic != CORDON_TRACE_MAGIC || h.len < HEAD || h.len > CORDON_TRACE_MAX || h.len % ALIGN)
        return -EINVAL;
    if (h.len > avail)
        return 0;
    if (h.kind == CORDON_TRACE_NONE || h.kind >= CORDON_TRACE_KIND_MAX)
        return -EINVAL;
    size_t strings = (size_t)h.len1 + h.len2;
    if (HEAD + strings > h.len || h.len - (HEAD + strings) >= ALIGN)
        return -EINVAL;
    if (h.len1 && p[HEAD + h.len1 - 1] != 0)
        return -EINVAL;
    if (h.len2 && p[HEAD + h.len1 + h.len2 - 1] != 0)
        return -EINVAL;

    *ret_head = (const struct cordon_trace_rec *)buf;
    *ret_s1 = h.len1 ? (const char *)p + HEAD : NULL;
    *ret_s2 = h.len2 ? (const char *)p + HEAD + h.len1 : NULL;
    return h.len;
}
