/* cordon: the error record that modules fill and the front end prints.
 *
 * Modules never print and never exit. They return 0 (or a positive count) on
 * success and -errno on failure, and put the detail a human needs into a
 * caller-owned struct cordon_error: fixed size, on the caller's stack, like
 * jansson's json_error_t. Parsers always fill path and position.
 */
#pragma once

#include <limits.h>
#include <stddef.h>

struct cordon_error {
    int code;            /* errno-style code, positive; 0 when unset */
    char path[PATH_MAX]; /* the file, archive entry or manifest the error is about ("" if none) */
    int line;            /* 1-based position in `path` when it is a text source, else 0 */
    int column;          /* 1-based, 0 when unknown */
    char text[512];      /* the problem, lowercase, no full stop, no "cordon: " prefix */
};

/* Reset `e` to "no error". NULL-tolerant. */
void cordon_error_clear(struct cordon_error *e);

/* Fill `e` (NULL-tolerant) and return -code, so that modules can write
 *     return cordon_error_set(err, ENOENT, path, 0, 0, "cannot open '%s'", path);
 * `code` must be positive. `path` may be NULL. */
int cordon_error_set(struct cordon_error *e, int code, const char *path, int line, int column,
                     const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Format `e` for a human into `buf`: "PATH:LINE:COL: TEXT" with the parts
 * that are set, then ": strerror(code)" unless the text already names it.
 * Returns `buf`. */
const char *cordon_error_format(const struct cordon_error *e, char *buf, size_t size);
