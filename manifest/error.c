/* The error record modules fill and the front end prints. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cordon/error.h>

void cordon_error_clear(struct cordon_error *e) {
    if (!e)
        return;
    e->code = 0;
    e->path[0] = '\0';
    e->line = 0;
    e->column = 0;
    e->text[0] = '\0';
}

int cordon_error_set(struct cordon_error *e, int code, const char *path, int line, int column,
                     const char *fmt, ...) {
    if (code <= 0)
        code = EINVAL;
    if (e) {
        e->code = code;
        snprintf(e->path, sizeof e->path, "%s", path ? path : "");
        e->line = line;
        e->column = column;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->text, sizeof e->text, fmt, ap);
        va_end(ap);
    }
    return -code;
}

const char *cordon_error_format(const struct cordon_error *e, char *buf, size_t size) {
    if (!size)
        return buf;
    buf[0] = '\0';
    if (!e)
        return buf;
    size_t n = 0;
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (n < size) {                                                                            \
            int w_ = snprintf(buf + n, size - n, __VA_ARGS__);                                     \
            if (w_ > 0)                                                                            \
                n += (size_t)w_;                                                                   \
        }                                                                                          \
    } while (0)
    /* A position is only worth printing for text sources. */
    if (e->path[0] && e->line > 0) {
        ADD("%s:%d:", e->path, e->line);
        if (e->column > 0)
            ADD("%d:", e->column);
        ADD(" ");
    }
    ADD("%s", e->text[0] ? e->text : "error");
    /* EINVAL and EBADMSG mean "bad content": the text already says what is
     * wrong, and "Invalid argument" would only blur it. */
    if (e->code > 0 && e->code != EINVAL && e->code != EBADMSG && e->code != EPROTONOSUPPORT) {
        const char *s = strerror(e->code);
        if (!strstr(e->text, s))
            ADD(": %s", s);
    }
#undef ADD
    return buf;
}
