/* The runners' pure parts: backend names, the execvp candidates, the
 * environment edits, paths resolved inside a root, the loader probe. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cordon/manifest.h>
#include <cordon/replay.h>
#include <cordon/util.h>

static char tmp[64]; /* short: keeps -Wformat-truncation quiet */
static int rootfd = -1;

static void make_tmp(void) {
    snprintf(tmp, sizeof tmp, "/tmp/cordon-test-runner.XXXXXX");
    cr_assert(mkdtemp(tmp) != NULL);
    rootfd = open(tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
    cr_assert(rootfd >= 0);
}

static void remove_tmp(void) {
    if (rootfd >= 0)
        close(rootfd);
    rootfd = -1;
    cordon_rm_rf(tmp);
}

static void at(char *out, const char *rel) {
    snprintf(out, PATH_MAX, "%s/%s", tmp, rel);
}

static void write_at(const char *rel, const char *text) {
    char p[PATH_MAX];
    at(p, rel);
    FILE *f = fopen(p, "w");
    cr_assert(f != NULL, "cannot write %s", p);
    fputs(text, f);
    fclose(f);
}

static void mkdir_at(const char *rel) {
    char p[PATH_MAX];
    at(p, rel);
    cr_assert(eq(int, cordon_mkdir_p(p, 0755), 0));
}

static void symlink_at(const char *target, const char *rel) {
    char p[PATH_MAX];
    at(p, rel);
    cr_assert(eq(int, symlink(target, p), 0));
}

Test(replayer_runner, backend_names_round_trip) {
    for (int b = 0; b < CORDON_BACKEND_MAX; b++) {
        const char *name = cordon_backend_name((enum cordon_backend)b);
        cr_assert(name != NULL);
        cr_assert(eq(int, (int)cordon_backend_from_name(name), b));
    }
    cr_assert(eq(str, (char *)cordon_backend_name(CORDON_BACKEND_FAKECHROOT), "fakechroot"));
    cr_assert(eq(int, (int)cordon_backend_from_name("chroot"), (int)CORDON_BACKEND_INVALID));
    cr_assert(eq(int, (int)cordon_backend_from_name(NULL), (int)CORDON_BACKEND_INVALID));
    cr_assert(cordon_backend_name(CORDON_BACKEND_INVALID) == NULL);
    cr_assert(cordon_backend_name(CORDON_BACKEND_MAX) == NULL);
}

Test(replayer_runner, candidates_follow_path_in_order) {
    char *env[] = {"HOME=/root", "PATH=/usr/local/bin:/usr/bin/:/bin", NULL};
    char **c = NULL;
    cr_assert(eq(int, cordon_exec_candidates("make", env, &c), 0));
    cr_assert(eq(sz, cordon_strv_length(c), 3));
    cr_assert(eq(str, c[0], "/usr/local/bin/make"));
    cr_assert(eq(str, c[1], "/usr/bin/make"));
    cr_assert(eq(str, c[2], "/bin/make"));
    cordon_strv_free(c);
}

Test(replayer_runner, candidates_of_a_path_with_a_slash_are_itself) {
    char *env[] = {"PATH=/usr/bin", NULL};
    char **c = NULL;
    cr_assert(eq(int, cordon_exec_candidates("./configure", env, &c), 0));
    cr_assert(eq(sz, cordon_strv_length(c), 1));
    cr_assert(eq(str, c[0], "./configure"));
    cordon_strv_free(c);
}

Test(replayer_runner, empty_path_entries_are_the_cwd) {
    char *env[] = {"PATH=:/bin:", NULL};
    char **c = NULL;
    cr_assert(eq(int, cordon_exec_candidates("sh", env, &c), 0));
    cr_assert(eq(sz, cordon_strv_length(c), 3));
    cr_assert(eq(str, c[0], "./sh"));
    cr_assert(eq(str, c[1], "/bin/sh"));
    cr_assert(eq(str, c[2], "./sh"));
    cordon_strv_free(c);
}

Test(replayer_runner, no_path_uses_glibc_default) {
    char **c = NULL;
    cr_assert(eq(int, cordon_exec_candidates("sh", NULL, &c), 0));
    cr_assert(eq(sz, cordon_strv_length(c), 2));
    cr_assert(eq(str, c[0], "/bin/sh"));
    cr_assert(eq(str, c[1], "/usr/bin/sh"));
    cordon_strv_free(c);
    cr_assert(eq(int, cordon_exec_candidates("", NULL, &c), -EINVAL));
}

Test(replayer_runner, env_get_matches_whole_names) {
    char *env[] = {"PATHX=no", "PATH=/bin", "EMPTY=", NULL};
    cr_assert(eq(str, (char *)cordon_env_get(env, "PATH"), "/bin"));
    cr_assert(eq(str, (char *)cordon_env_get(env, "EMPTY"), ""));
    cr_assert(cordon_env_get(env, "PAT") == NULL);
    cr_assert(cordon_env_get(NULL, "PATH") == NULL);
}

Test(replayer_runner, env_set_replaces_then_appends) {
    char *init[] = {"A=1", "LD_PRELOAD=/x.so", NULL};
    char **env = cordon_strv_copy(init);
    cr_assert(env != NULL);
    cr_assert(eq(int, cordon_env_set(&env, "LD_PRELOAD", "/y.so:/x.so"), 0));
    cr_assert(eq(int, cordon_env_set(&env, "B", "two words"), 0));
    cr_assert(eq(sz, cordon_strv_length(env), 3));
    cr_assert(eq(str, env[0], "A=1"));
    cr_assert(eq(str, env[1], "LD_PRELOAD=/y.so:/x.so"));
    cr_assert(eq(str, env[2], "B=two words"));
    cordon_strv_free(env);
}

Test(replayer_runner, redacted_variables_are_dropped_and_named) {
    char *rec[] = {"API_TOKEN=<redacted>", "CC=gcc", "PASSWORD=<redacted>", "TITLE=a <redacted> b",
                   NULL};
    char **env = NULL, **dropped = NULL;
    cr_assert(eq(int, cordon_replay_env(rec, &env, &dropped), 0));
    cr_assert(eq(sz, cordon_strv_length(env), 2));
    cr_assert(eq(str, env[0], "CC=gcc"));
    cr_assert(eq(str, env[1], "TITLE=a <redacted> b"));
    cr_assert(eq(sz, cordon_strv_length(dropped), 2));
    cr_assert(eq(str, dropped[0], "API_TOKEN"));
    cr_assert(eq(str, dropped[1], "PASSWORD"));
    cordon_strv_free(env);
    cordon_strv_free(dropped);
}

Test(replayer_runner, no_recorded_environment_is_empty) {
    char **env = NULL;
    cr_assert(eq(int, cordon_replay_env(NULL, &env, NULL), 0));
    cr_assert(env != NULL);
    cr_assert(env[0] == NULL);
    cordon_strv_free(env);
}

Test(replayer_runner, absolute_symlinks_resolve_inside_the_root, .init = make_tmp,
     .fini = remove_tmp) {
    /* Debian's /lib64/ld-linux-x86-64.so.2 is an absolute link. */
    mkdir_at("usr/lib/x86_64-linux-gnu");
    mkdir_at("usr/lib64");
    write_at("usr/lib/x86_64-linux-gnu/ld.so", "loader");
    symlink_at("usr/lib", "lib");
    symlink_at("usr/lib64", "lib64");
    symlink_at("/lib/x86_64-linux-gnu/ld.so", "usr/lib64/ld-linux-x86-64.so.2");
    char got[PATH_MAX], want[PATH_MAX + 64], real[PATH_MAX];
    cr_assert(realpath(tmp, real) != NULL);
    cr_assert(
        eq(int, cordon_root_resolve(rootfd, "/lib64/ld-linux-x86-64.so.2", got, sizeof got), 0));
    snprintf(want, sizeof want, "%s/usr/lib/x86_64-linux-gnu/ld.so", real);
    cr_assert(eq(str, got, want));
}

Test(replayer_runner, dotdot_and_links_never_leave_the_root, .init = make_tmp, .fini = remove_tmp) {
    mkdir_at("etc");
    write_at("etc/passwd", "root inside\n");
    symlink_at("/etc/passwd", "escape");
    symlink_at("../../../../../../etc/passwd", "up");
    char real[PATH_MAX], want[PATH_MAX + 64], got[PATH_MAX];
    cr_assert(realpath(tmp, real) != NULL);
    snprintf(want, sizeof want, "%s/etc/passwd", real);
    const char *paths[] = {"/escape", "up", "/../../etc/passwd", "/etc/../../etc/passwd"};
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(paths); i++) {
        cr_assert(eq(int, cordon_root_resolve(rootfd, paths[i], got, sizeof got), 0), "%s",
                  paths[i]);
        cr_assert(eq(str, got, want), "%s", paths[i]);
    }
    int fd = cordon_root_open(rootfd, "/escape", O_RDONLY);
    cr_assert(fd >= 0);
    char buf[32] = "";
    cr_assert(read(fd, buf, sizeof buf - 1) > 0);
    close(fd);
    cr_assert(eq(str, buf, "root inside\n"));
    cr_assert(eq(int, cordon_root_resolve(rootfd, "/nope", got, sizeof got), -ENOENT));
    cr_assert(eq(int, cordon_root_open(rootfd, "/escape", O_RDONLY | O_NOFOLLOW), -ELOOP));
}

Test(replayer_runner, mkdir_p_inside_follows_links_inside, .init = make_tmp, .fini = remove_tmp) {
    mkdir_at("real");
    /* An absolute link to "/real": inside the root, not the host's /real. */
    symlink_at("/real", "work");
    cr_assert(eq(int, cordon_root_mkdir_p(rootfd, "/work/a/b"), 0));
    char p[PATH_MAX];
    at(p, "real/a/b");
    struct stat st;
    cr_assert(eq(int, stat(p, &st), 0));
    bool is_dir = S_ISDIR(st.st_mode);
    cr_assert(is_dir);
    cr_assert(eq(int, cordon_root_mkdir_p(rootfd, "/work/a/b"), 0), "existing is fine");
    write_at("file", "x");
    cr_assert(eq(int, cordon_root_mkdir_p(rootfd, "/file/sub"), -ENOTDIR));
}

Test(replayer_runner, loader_argv0_is_found_in_its_text, .init = make_tmp, .fini = remove_tmp) {
    write_at("new", "\177ELF...usage: --argv0 STRING\n");
    write_at("old", "\177ELF...usage: --list --verify\n");
    char p[PATH_MAX];
    at(p, "new");
    cr_assert(cordon_loader_has_argv0(p));
    at(p, "old");
    cr_assert(not(cordon_loader_has_argv0(p)));
    at(p, "missing");
    cr_assert(not(cordon_loader_has_argv0(p)));
}

Test(replayer_runner, userns_reason_names_the_errno) {
    char buf[512];
    cordon_userns_reason(ENOSPC, buf, sizeof buf);
    cr_assert(eq(int, strncmp(buf, strerror(ENOSPC), strlen(strerror(ENOSPC))), 0), "%s", buf);
}
