/* setlocale/newlocale: glibc loads locale data with its internal open,
 * which no wrapper sees, yet a build under LANG=C.UTF-8 reads a dozen
 * files that way (strace shows them; tests/e2e/hook-vs-strace.sh checks).
 * After a successful call, record what glibc's _nl_find_locale reads for
 * each category it set: the locale archive, locale.alias, the category's
 * file under LOCPATH or /usr/lib/locale (the name as given and with the
 * codeset normalised, "C.UTF-8" -> "C.utf8"), and for LC_CTYPE the gconv
 * module cache. Files that exist are OPEN records, the rest STAT probes:
 * an emulation, so it may name a file glibc did not need (the archive
 * held the locale), never the reverse for the standard layout. */
#include <dlfcn.h>
#include <langinfo.h>
#include <locale.h>
#include <string.h>

#include "hook.h"

static void file_event(const char *path) {
    struct stat sb;
    long r = hook_sys6(SYS_newfstatat, AT_FDCWD, (long)path, (long)&sb, 0, 0, 0);
    if (r < 0)
        hook_path_event(CORDON_TRACE_STAT, AT_FDCWD, path, (int)-r, 0, NULL, true);
    else
        hook_path_event(CORDON_TRACE_OPEN, AT_FDCWD, path, 0, O_RDONLY, &sb, true);
}

/* "ll_CC.Code-Set@mod" with the codeset as glibc's _nl_normalize_codeset
 * writes it (lower-case alphanumerics, "iso" before an all-digit one).
 * Returns false if there is no codeset to normalise or it does not fit. */
static bool normalised(const char *name, char *out, size_t size) {
    const char *dot = strchr(name, '.');
    if (!dot)
        return false;
    const char *at = strchr(dot, '@');
    const char *end = at ? at : dot + strlen(dot);
    size_t k = (size_t)(dot - name) + 1;
    if (k + 3 + (size_t)(end - dot) + (at ? strlen(at) : 0) + 1 > size)
        return false;
    memcpy(out, name, k);
    bool digits_only = true;
    for (const char *p = dot + 1; p < end; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
            digits_only = false;
    if (digits_only) {
        memcpy(out + k, "iso", 3);
        k += 3;
    }
    for (const char *p = dot + 1; p < end; p++) {
        if (*p >= 'A' && *p <= 'Z')
            out[k++] = (char)(*p - 'A' + 'a');
        else if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
            out[k++] = *p;
    }
    if (at) {
        memcpy(out + k, at, strlen(at));
        k += strlen(at);
    }
    out[k] = 0;
    return strcmp(out, name) != 0;
}

static const struct {
    int cat;
    const char *file;
} cats[] = {
    {LC_CTYPE, "LC_CTYPE"},
    {LC_NUMERIC, "LC_NUMERIC"},
    {LC_TIME, "LC_TIME"},
    {LC_COLLATE, "LC_COLLATE"},
    {LC_MONETARY, "LC_MONETARY"},
    {LC_MESSAGES, "LC_MESSAGES/SYS_LC_MESSAGES"},
    {LC_PAPER, "LC_PAPER"},
    {LC_NAME, "LC_NAME"},
    {LC_ADDRESS, "LC_ADDRESS"},
    {LC_TELEPHONE, "LC_TELEPHONE"},
    {LC_MEASUREMENT, "LC_MEASUREMENT"},
    {LC_IDENTIFICATION, "LC_IDENTIFICATION"},
};

static void join3(char *out, const char *a, const char *b, const char *c) {
    size_t na = strlen(a), nb = strlen(b), nc = strlen(c);
    if (na + 1 + nb + 1 + nc + 1 > PATH_MAX) {
        out[0] = 0;
        return;
    }
    memcpy(out, a, na);
    out[na] = '/';
    memcpy(out + na + 1, b, nb);
    out[na + 1 + nb] = '/';
    memcpy(out + na + 2 + nb, c, nc + 1);
}

static void category_event(const char *root, const char *name, const char *file) {
    char path[PATH_MAX], norm[256];
    join3(path, root, name, file);
    if (path[0] && hook_sys6(SYS_faccessat, AT_FDCWD, (long)path, F_OK, 0, 0, 0) == 0) {
        file_event(path);
        return;
    }
    if (path[0])
        file_event(path); /* a probe */
    if (normalised(name, norm, sizeof norm)) {
        join3(path, root, norm, file);
        if (path[0])
            file_event(path);
    }
}

static void gconv_event(void) {
    Dl_info info;
    char path[PATH_MAX];
    if (!dladdr((void *)hook_real(HOOK_ID_setlocale), &info) || !info.dli_fname)
        return;
    const char *slash = strrchr(info.dli_fname, '/');
    static const char tail[] = "/gconv/gconv-modules.cache";
    if (!slash || (size_t)(slash - info.dli_fname) + sizeof tail > sizeof path)
        return;
    memcpy(path, info.dli_fname, (size_t)(slash - info.dli_fname));
    memcpy(path + (slash - info.dli_fname), tail, sizeof tail);
    file_event(path);
}

/* The archive and the alias file: glibc reads them first, and a locale
 * that was not found was looked for there. */
static void failed_event(void) {
    const char *root = hook_environ_get("LOCPATH");
    char archive[PATH_MAX];
    if (!root || !root[0])
        root = "/usr/lib/locale";
    size_t n = strlen(root);
    if (n + sizeof "/locale-archive" <= sizeof archive) {
        memcpy(archive, root, n);
        memcpy(archive + n, "/locale-archive", sizeof "/locale-archive");
        file_event(archive);
    }
    file_event("/usr/share/locale/locale.alias");
}

/* `mask` has bit 1 << c for each category c glibc set. */
static void locale_event(int mask, locale_t loc) {
    if (!hook_active())
        return;
    const char *root = hook_environ_get("LOCPATH");
    bool any = false;
    if (!root || !root[0])
        root = "/usr/lib/locale";
    for (size_t i = 0; i < sizeof cats / sizeof cats[0]; i++) {
        if (!(mask & (1 << cats[i].cat)))
            continue;
        const char *name = loc ? nl_langinfo_l(NL_LOCALE_NAME(cats[i].cat), loc)
                               : REAL(setlocale)(cats[i].cat, NULL);
        if (!name || !name[0] || !strcmp(name, "C") || !strcmp(name, "POSIX") || strchr(name, '/'))
            continue;
        if (!any) {
            failed_event(); /* the same two files, read first */
            any = true;
        }
        category_event(root, name, cats[i].file);
        if (cats[i].cat == LC_CTYPE)
            gconv_event();
    }
}

HOOK_EXPORT char *setlocale(int cat, const char *locale) {
    __typeof__(&setlocale) real = REAL(setlocale);
    if (!real)
        return NULL;
    char *r = real(cat, locale);
    int err = errno;
    if (r && !hook_isnull(locale))
        locale_event(cat == LC_ALL ? ~(1 << LC_ALL) : 1 << cat, NULL);
    else if (!r && !hook_isnull(locale) && hook_active())
        failed_event();
    errno = err;
    return r;
}

HOOK_EXPORT locale_t newlocale(int mask, const char *locale, locale_t base) {
    __typeof__(&newlocale) real = REAL(newlocale);
    if (!real)
        return errno = ENOSYS, (locale_t)0;
    locale_t r = real(mask, locale, base);
    int err = errno;
    if (r) {
        /* LC_*_MASK is 1 << LC_*, and LC_ALL_MASK every one of them. */
        locale_event(mask, r);
    }
    errno = err;
    return r;
}
