/* Time zone data: glibc's tzset_internal reads the zone file with its
 * internal fopen, which no wrapper sees; `date` in zlib's configure reads
 * /etc/localtime -> /usr/share/zoneinfo/Etc/UTC that way (strace shows it;
 * bench/zlib-acceptance.sh checks). Every public function that runs
 * tzset_internal (the first gmtime too) is wrapped; after the call, record
 * the file as glibc's __tzfile_read names it: TZ unset -> /etc/localtime,
 * TZ="" -> "Universal", a leading ':' dropped, a relative name under $TZDIR
 * (default /usr/share/zoneinfo). An OPEN record if it exists, else a STAT
 * probe (a rule string such as "UTC0" is looked up as a file first). Once
 * per value of TZ and TZDIR in a process: localtime is called in loops. */
#include <string.h>
#include <time.h>

#include "hook.h"

static void tz_file_event(const char *path) {
    struct stat sb;
    long r = hook_sys6(SYS_newfstatat, AT_FDCWD, (long)path, (long)&sb, 0, 0, 0);
    if (r < 0)
        hook_path_event(CORDON_TRACE_STAT, AT_FDCWD, path, (int)-r, 0, NULL, true);
    else
        hook_path_event(CORDON_TRACE_OPEN, AT_FDCWD, path, 0, O_RDONLY, &sb, true);
}

static unsigned long fnv(unsigned long h, const char *s) {
    if (!s)
        return h * 31 + 7;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211UL;
    return h * 31 + 11;
}

static void tz_event(void) {
    /* Threads may race here: the worst is a record written twice. */
    static unsigned long last;
    if (!hook_active())
        return;
    const char *tz = hook_environ_get("TZ");
    const char *dir = hook_environ_get("TZDIR");
    unsigned long key = fnv(fnv(14695981039346656037UL, tz), dir) | 1;
    if (__atomic_load_n(&last, __ATOMIC_RELAXED) == key)
        return;
    __atomic_store_n(&last, key, __ATOMIC_RELAXED);

    if (!tz)
        tz = "/etc/localtime";
    else if (!*tz)
        tz = "Universal";
    if (*tz == ':')
        tz++;
    if (*tz == '/') {
        tz_file_event(tz);
        return;
    }
    if (!dir || !*dir)
        dir = "/usr/share/zoneinfo";
    char path[PATH_MAX];
    size_t nd = strlen(dir), nt = strlen(tz);
    if (nd + 1 + nt + 1 > sizeof path)
        return;
    memcpy(path, dir, nd);
    path[nd] = '/';
    memcpy(path + nd + 1, tz, nt + 1);
    tz_file_event(path);
}

/* Call the real function, then record; errno as the real call left it. */
#define AFTER(expr)                                                                                \
    do {                                                                                           \
        expr;                                                                                      \
        int err_ = errno;                                                                          \
        tz_event();                                                                                \
        errno = err_;                                                                              \
    } while (0)

HOOK_EXPORT void tzset(void) {
    __typeof__(&tzset) real = REAL(tzset);
    if (!real)
        errno = ENOSYS;
    else
        AFTER(real());
}

HOOK_EXPORT struct tm *localtime(const time_t *t) {
    __typeof__(&localtime) real = REAL(localtime);
    struct tm *r = NULL;
    if (!real)
        errno = ENOSYS;
    else
        AFTER(r = real(t));
    return r;
}

HOOK_EXPORT struct tm *localtime_r(const time_t *t, struct tm *tm) {
    __typeof__(&localtime_r) real = REAL(localtime_r);
    struct tm *r = NULL;
    if (!real)
        errno = ENOSYS;
    else
        AFTER(r = real(t, tm));
    return r;
}

HOOK_EXPORT struct tm *gmtime(const time_t *t) {
    __typeof__(&gmtime) real = REAL(gmtime);
    struct tm *r = NULL;
    if (!real)
        errno = ENOSYS;
    else
        AFTER(r = real(t));
    return r;
}

HOOK_EXPORT struct tm *gmtime_r(const time_t *t, struct tm *tm) {
    __typeof__(&gmtime_r) real = REAL(gmtime_r);
    struct tm *r = NULL;
    if (!real)
        errno = ENOSYS;
    else
        AFTER(r = real(t, tm));
    return r;
}

HOOK_EXPORT time_t mktime(struct tm *tm) {
    __typeof__(&mktime) real = REAL(mktime);
    time_t r = (time_t)-1;
    if (!real)
        errno = ENOSYS;
    else
        AFTER(r = real(tm));
    return r;
}

HOOK_EXPORT char *ctime(const time_t *t) {
    __typeof__(&ctime) real = REAL(ctime);
    char *r = NULL;
    if (!real)
        errno = ENOSYS;
    else
        AFTER(r = real(t));
    return r;
}

HOOK_EXPORT char *ctime_r(const time_t *t, char *buf) {
    __typeof__(&ctime_r) real = REAL(ctime_r);
    char *r = NULL;
    if (!real)
        errno = ENOSYS;
    else
        AFTER(r = real(t, buf));
    return r;
}

/* fmt is the caller's: the real strftime checks it as much as it can. */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
HOOK_EXPORT size_t strftime(char *s, size_t max, const char *fmt, const struct tm *tm) {
    __typeof__(&strftime) real = REAL(strftime);
    size_t r = 0;
    if (!real)
        errno = ENOSYS;
    else
        AFTER(r = real(s, max, fmt, tm));
    return r;
}
