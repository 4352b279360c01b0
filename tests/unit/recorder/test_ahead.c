/* The work done while the build runs (recorder/ahead.c): files the log
 * names are hashed as the log grows, kept only while their identity holds,
 * and never when they are too fresh to be judged by it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <cordon/hash.h>
#include <cordon/trace.h>
#include <cordon/util.h>

#include "../../../recorder/ahead.h"

#include "log_fixture.h"

static void setup(void) {
    log_fixture_open("ahead");
}

TestSuite(recorder_ahead, .init = setup, .fini = log_fixture_close);

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A thread that keeps what it hashes however fresh (settle 0), at normal
 * priority, without the package databases. The work tree is elsewhere. */
static struct ahead *start(int64_t settle_ns) {
    struct ahead *a = ahead_start(&(struct ahead_options){.log = logpath,
                                                          .worktree = "/nonexistent-work-tree",
                                                          .settle_ns = settle_ns,
                                                          .no_owners = true,
                                                          .no_idle = true});
    cr_assert(a != NULL);
    return a;
}

/* Wait (at most 20 s: never a timing assertion) until `n` paths were dealt
 * with. */
static void wait_considered(struct ahead *a, uint64_t n) {
    struct ahead_stats st;
    for (int i = 0; i < 2000; i++) {
        ahead_stats(a, &st);
        if (st.considered >= n)
            return;
        sleep_ms(10);
    }
    cr_fail("the thread dealt with %llu paths of %llu", (unsigned long long)st.considered,
            (unsigned long long)n);
}

static bool looked_up(struct ahead *a, const char *path, struct cordon_hash *h) {
    struct stat st;
    cr_assert(lstat(path, &st) == 0);
    return ahead_lookup(a, path, &st, h);
}

static void assert_hash_of(const char *path, const struct cordon_hash *h) {
    struct cordon_hash want;
    cr_assert(eq(int, cordon_hash_file(AT_FDCWD, path, &want, NULL), 0));
    cr_assert(cordon_hash_equal(h, &want), "the hash kept for %s is not its content's", path);
}

Test(recorder_ahead, files_read_executed_and_loaded_are_hashed_as_the_log_grows) {
    char read_f[PATH_MAX], exec_f[PATH_MAX], load_f[PATH_MAX], written[PATH_MAX];
    path_in(read_f, "input.h");
    path_in(exec_f, "tool");
    path_in(load_f, "libx.so");
    path_in(written, "out.o");
    write_file(read_f, "#define X 1\n");
    write_file(exec_f, "#!/bin/sh\n");
    write_file(load_f, "ELF or not\n");
    write_file(written, "object\n");
    sleep_ms(20); /* past the coarse clock's tick: ctime < now */
    struct ahead *a = start(0);
    /* Records arrive after the thread started: it follows the log. */
    emit(CORDON_TRACE_OPEN, 100, 0, O_RDONLY, read_f, NULL);
    emit(CORDON_TRACE_EXEC, 100, 0, 0, exec_f, NULL);
    emit(CORDON_TRACE_LA_OPEN, 100, 0, 0, load_f, NULL);
    emit(CORDON_TRACE_OPEN, 100, 0, O_WRONLY | O_CREAT, written, NULL); /* a write: not hashed */
    emit(CORDON_TRACE_OPEN, 100, ENOENT, O_RDONLY, "/nonexistent/x.h", NULL);
    wait_considered(a, 3);
    ahead_stop(a);
    struct cordon_hash h;
    cr_assert(looked_up(a, read_f, &h));
    assert_hash_of(read_f, &h);
    cr_assert(looked_up(a, exec_f, &h));
    assert_hash_of(exec_f, &h);
    cr_assert(looked_up(a, load_f, &h));
    assert_hash_of(load_f, &h);
    cr_assert(not(looked_up(a, written, &h)));
    struct ahead_stats st;
    ahead_stats(a, &st);
    cr_assert(eq(u64, st.hashed_files, 3));
    ahead_free(a);
}

Test(recorder_ahead, a_record_split_across_writes_is_read_whole) {
    char f[PATH_MAX];
    path_in(f, "split.h");
    write_file(f, "split\n");
    sleep_ms(20);
    struct ahead *a = start(0);
    char buf[CORDON_TRACE_MAX];
    size_t n = encode(buf, CORDON_TRACE_OPEN, 100, 0, O_RDONLY, f, NULL);
    /* Half a head, then the rest: what a reader sees mid-append. */
    cr_assert(write(logfd, buf, 20) == 20);
    sleep_ms(150); /* the thread reads the torn tail and waits */
    cr_assert(write(logfd, buf + 20, n - 20) == (ssize_t)(n - 20));
    wait_considered(a, 1);
    ahead_stop(a);
    struct cordon_hash h;
    cr_assert(looked_up(a, f, &h));
    assert_hash_of(f, &h);
    ahead_free(a);
}

Test(recorder_ahead, a_file_changed_after_hashing_is_not_reused) {
    char f[PATH_MAX];
    path_in(f, "config.h");
    write_file(f, "#define V 1\n");
    sleep_ms(20);
    struct ahead *a = start(0);
    emit(CORDON_TRACE_OPEN, 100, 0, O_RDONLY, f, NULL);
    wait_considered(a, 1);
    ahead_stop(a);
    struct stat before;
    cr_assert(lstat(f, &before) == 0);
    /* Same size, the old mtime put back: only the ctime tells. */
    sleep_ms(20);
    write_file(f, "#define V 2\n");
    struct timespec times[2] = {before.st_atim, before.st_mtim};
    cr_assert(utimensat(AT_FDCWD, f, times, 0) == 0);
    struct stat after;
    cr_assert(lstat(f, &after) == 0);
    cr_assert(eq(i64, (int64_t)after.st_size, (int64_t)before.st_size));
    cr_assert(eq(i64, (int64_t)after.st_mtim.tv_nsec, (int64_t)before.st_mtim.tv_nsec));
    struct cordon_hash h;
    cr_assert(not(ahead_lookup(a, f, &after, &h)), "a rewritten file answered with its old hash");
    /* Replaced by another file (a new inode): not reused either. */
    char tmp[PATH_MAX];
    path_in(tmp, "config.h.new");
    write_file(tmp, "#define V 1\n");
    cr_assert(rename(tmp, f) == 0);
    cr_assert(not(looked_up(a, f, &h)));
    ahead_free(a);
}

Test(recorder_ahead, a_fresh_file_is_not_kept) {
    char f[PATH_MAX];
    path_in(f, "generated.h");
    write_file(f, "fresh\n");
    /* The real settle time: a file changed in the last two seconds can
     * change again within one clock tick without its identity moving. */
    struct ahead *a = start(AHEAD_SETTLE_NS);
    emit(CORDON_TRACE_OPEN, 100, 0, O_RDONLY, f, NULL);
    wait_considered(a, 1);
    ahead_stop(a);
    struct cordon_hash h;
    cr_assert(not(looked_up(a, f, &h)));
    struct ahead_stats st;
    ahead_stats(a, &st);
    cr_assert(eq(u64, st.hashed_files, 0));
    ahead_free(a);
}

Test(recorder_ahead, a_symlink_chain_is_hashed_at_its_end) {
    char target[PATH_MAX], mid[PATH_MAX], link[PATH_MAX];
    path_in(target, "gcc-12");
    path_in(mid, "cc-alt");
    path_in(link, "cc");
    write_file(target, "compiler\n");
    cr_assert(symlink("gcc-12", mid) == 0);
    cr_assert(symlink(mid, link) == 0);
    sleep_ms(20);
    struct ahead *a = start(0);
    emit(CORDON_TRACE_EXEC, 100, 0, 0, link, NULL);
    wait_considered(a, 1);
    ahead_stop(a);
    struct cordon_hash h;
    cr_assert(not(looked_up(a, link, &h)), "a symlink has no content hash");
    cr_assert(looked_up(a, target, &h));
    assert_hash_of(target, &h);
    ahead_free(a);
}

Test(recorder_ahead, the_work_tree_the_recorders_files_and_virtual_paths_are_skipped) {
    char tree[PATH_MAX], in_tree[PATH_MAX], own[PATH_MAX];
    path_in(tree, "src");
    cr_assert(mkdir(tree, 0755) == 0);
    path_in(in_tree, "src/main.c");
    path_in(own, "libcordon-hook.so");
    write_file(in_tree, "int main;\n");
    write_file(own, "hook\n");
    sleep_ms(20);
    const char *ignore[] = {own};
    struct ahead *a = ahead_start(&(struct ahead_options){.log = logpath,
                                                          .worktree = tree,
                                                          .ignore = ignore,
                                                          .n_ignore = 1,
                                                          .no_owners = true,
                                                          .no_idle = true});
    cr_assert(a != NULL);
    emit(CORDON_TRACE_OPEN, 100, 0, O_RDONLY, in_tree, NULL);
    emit(CORDON_TRACE_LA_OPEN, 100, 0, 0, own, NULL);
    emit(CORDON_TRACE_OPEN, 100, 0, O_RDONLY, "/proc/self/status", NULL);
    wait_considered(a, 3);
    ahead_stop(a);
    struct ahead_stats st;
    ahead_stats(a, &st);
    cr_assert(eq(u64, st.hashed_files, 0));
    ahead_free(a);
}

Test(recorder_ahead, garbage_in_the_log_stops_the_following_not_the_recording) {
    char f[PATH_MAX], g[PATH_MAX];
    path_in(f, "a.h");
    path_in(g, "b.h");
    write_file(f, "a\n");
    write_file(g, "b\n");
    sleep_ms(20);
    struct ahead *a = start(0);
    emit(CORDON_TRACE_OPEN, 100, 0, O_RDONLY, f, NULL);
    wait_considered(a, 1);
    static const char junk[64] = "not a record, written by someone else";
    cr_assert(write(logfd, junk, sizeof junk) == (ssize_t)sizeof junk);
    emit(CORDON_TRACE_OPEN, 100, 0, O_RDONLY, g, NULL);
    sleep_ms(200);
    ahead_stop(a);
    struct cordon_hash h;
    cr_assert(looked_up(a, f, &h));
    cr_assert(not(looked_up(a, g, &h)));
    ahead_free(a);
}

Test(recorder_ahead, stop_before_any_work_and_free_without_stop) {
    struct ahead *a = start(0);
    ahead_stop(a);
    ahead_stop(a); /* idempotent */
    struct cordon_hash h;
    struct stat st = {.st_mode = S_IFREG};
    cr_assert(not(ahead_lookup(a, "/bin/sh", &st, &h)));
    cr_assert(ahead_take_owners(a) == NULL);
    ahead_free(a);
    ahead_free(start(0)); /* running: freeing stops it */
    ahead_free(NULL);
}

Test(recorder_ahead, a_missing_log_is_no_thread) {
    cr_assert(ahead_start(&(struct ahead_options){.log = "/nonexistent/events.log"}) == NULL);
}
