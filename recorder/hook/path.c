/* Lexical absolutisation: see path.h. */
#include <string.h>

#include "path.h"

/* Append the components of `in` (n bytes) to out[0..*len), resolving "." and
 * "..". out[0] is '/' already. Returns 0, or -1 if it does not fit. */
static int append(char *out, size_t *len, size_t size, const char *in, size_t n) {
    size_t i = 0, o = *len;
    while (i < n) {
        while (i < n && in[i] == '/')
            i++;
        if (i == n)
            break;
        size_t s = i;
        while (i < n && in[i] != '/')
            i++;
        size_t c = i - s;
        if (c == 1 && in[s] == '.')
            continue;
        if (c == 2 && in[s] == '.' && in[s + 1] == '.') {
            while (o > 1 && out[o - 1] != '/')
                o--;
            if (o > 1)
                o--; /* the slash before the popped component */
            continue;
        }
        size_t sep = o > 1 ? 1 : 0;
        if (o + sep + c + 1 > size)
            return -1;
        if (sep)
            out[o++] = '/';
        memcpy(out + o, in + s, c);
        o += c;
    }
    *len = o;
    return 0;
}

size_t hook_path_join(const char *base, size_t blen, const char *path, char *out, size_t size) {
    if (!path || !path[0] || size < 2)
        return 0;
    size_t len = 1;
    out[0] = '/';
    if (path[0] != '/') {
        if (!base || blen == 0 || base[0] != '/')
            return 0;
        if (append(out, &len, size, base, blen))
            return 0;
    }
    if (append(out, &len, size, path, strlen(path)))
        return 0;
    out[len] = 0;
    return len;
}

size_t hook_path_fd(char *out, const char *prefix, unsigned v) {
    size_t n = strlen(prefix);
    char digits[12];
    size_t d = 0;
    memcpy(out, prefix, n);
    do {
        digits[d++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (d)
        out[n++] = digits[--d];
    out[n] = 0;
    return n;
}
