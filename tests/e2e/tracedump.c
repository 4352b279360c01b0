/* cordon-tracedump LOG: print one line per record of a hook log,
 *   kind pid err flags path [-> path2] [key=value...]
 * for the e2e tests and for debugging. err is the errno name's number (0
 * on success); flags is a string of T (truncated), A (audit) and S (the
 * seccomp supervisor's). ARGV
 * records print their arguments joined by spaces. Exit status 1 if the log
 * holds garbage (a torn tail is reported but is not an error). */
#include <errno.h>
#include <fcntl.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cordon/trace.h>

static void print(const struct cordon_trace_rec *h, const char *s1, const char *s2) {
    char flags[4] = "-";
    int k = 0;
    if (h->flags & CORDON_TRACE_TRUNCATED)
        flags[k++] = 'T';
    if (h->flags & CORDON_TRACE_AUDIT)
        flags[k++] = 'A';
    if (h->flags & CORDON_TRACE_SECCOMP)
        flags[k++] = 'S';
    if (k)
        flags[k] = 0;
    printf("%s %d %d %s ", cordon_trace_kind_name(h->kind), h->pid, h->err, flags);
    if (h->kind == CORDON_TRACE_ARGV && s1) {
        for (size_t i = 0; i + 1 < h->len1; i++)
            putchar(s1[i] ? s1[i] : ' ');
        printf(" chunk=%u argc=%u last=%llu\n", h->arg, h->mode, (unsigned long long)h->size);
        return;
    }
    printf("%s", s1 ? s1 : "-");
    if (s2)
        printf(" -> %s", s2);
    printf(" arg=%u", h->arg);
    if (h->kind == CORDON_TRACE_WAIT)
        printf(" child=%llu", (unsigned long long)h->size);
    else if (h->mode)
        printf(" mode=%o size=%llu ino=%llu", h->mode, (unsigned long long)h->size,
               (unsigned long long)h->ino);
    putchar('\n');
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: cordon-tracedump LOG\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        fprintf(stderr, "cordon-tracedump: cannot open '%s': %s\n", argv[1], strerror(errno));
        return 2;
    }
    /* Records are padded to 8 bytes: read into an aligned buffer and keep
     * the offset a multiple of 8 when carrying a partial record over. */
    static alignas(8) char buf[1 << 16];
    size_t have = 0, off = 0;
    unsigned long long pos = 0;
    for (;;) {
        size_t n = fread(buf + have, 1, sizeof buf - have, f);
        have += n;
        while (off < have) {
            const struct cordon_trace_rec *h;
            const char *s1, *s2;
            long r = cordon_trace_decode(buf + off, have - off, &h, &s1, &s2);
            if (r < 0) {
                fprintf(stderr, "cordon-tracedump: '%s': not a record at offset %llu\n", argv[1],
                        pos);
                return 1;
            }
            if (r == 0)
                break;
            print(h, s1, s2);
            off += (size_t)r;
            pos += (unsigned long long)r;
        }
        memmove(buf, buf + off, have - off);
        have -= off;
        off = 0;
        if (n == 0)
            break;
    }
    if (have) {
        fprintf(stderr, "cordon-tracedump: '%s': torn record of %zu bytes at the end\n", argv[1],
                have);
    }
    fclose(f);
    return 0;
}
