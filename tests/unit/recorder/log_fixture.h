/* Shared by the recorder's unit tests that write an event log: a fresh
 * directory per test with the log in it, records written as the hook
 * writes them, and small file helpers. */
#pragma once

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <cordon/trace.h>
#include <cordon/util.h>

static char dir[PATH_MAX];
static char logpath[PATH_MAX];
static int logfd = -1;

/* `name` tells the tests' directories apart: /tmp/cordon-test-NAME-XXXXXX. */
static inline void log_fixture_open(const char *name) {
    snprintf(dir, sizeof dir, "/tmp/cordon-test-%s-XXXXXX", name);
    cr_assert(mkdtemp(dir) != NULL);
    snprintf(logpath, sizeof logpath, "%s/events.log", dir);
    logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    cr_assert(logfd >= 0);
}

static inline void log_fixture_close(void) {
    if (logfd >= 0)
        close(logfd);
    logfd = -1;
    cordon_rm_rf(dir);
}

/* A record as the hook makes it: a successful open or load carries the
 * file's identity. Its length, in `buf` (CORDON_TRACE_MAX bytes). */
static inline size_t encode(char *buf, unsigned kind, int pid, int err, unsigned arg,
                            const char *s1, const char *s2) {
    struct cordon_trace_rec head = {.kind = (uint16_t)kind, .pid = pid, .err = err, .arg = arg};
    if (s1 && s1[0] == '/' && !err && (kind == CORDON_TRACE_OPEN || kind == CORDON_TRACE_LA_OPEN)) {
        struct stat st;
        if (stat(s1, &st) == 0) {
            head.dev = st.st_dev;
            head.ino = st.st_ino;
            head.size = (uint64_t)st.st_size;
            head.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
            head.mode = st.st_mode;
        }
    }
    return cordon_trace_encode(buf, &head, s1, s1 ? strlen(s1) : 0, s2, s2 ? strlen(s2) : 0);
}

static inline void emit(unsigned kind, int pid, int err, unsigned arg, const char *s1,
                        const char *s2) {
    char buf[CORDON_TRACE_MAX];
    size_t n = encode(buf, kind, pid, err, arg, s1, s2);
    cr_assert(write(logfd, buf, n) == (ssize_t)n);
}

static inline void path_in(char *out, const char *name) {
    snprintf(out, PATH_MAX, "%s/%s", dir, name);
}

static inline void write_file(const char *path, const char *content) {
    FILE *f = fopen(path, "w");
    cr_assert(f != NULL);
    fputs(content, f);
    cr_assert(fclose(f) == 0);
}
