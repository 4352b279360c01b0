/* The hook's policy enforcement (recorder/hook/enforce.c): the compiled
 * format, longest-prefix matching with the last rule winning, the ancestors
 * of a visible rule, the reverse mapping of redirects, listings, and the
 * path walk that reads links after mapping their prefix; the policy's
 * variables across an exec (env.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "enforce.h"
#include "hook.h"

static struct hook_rules rules;
static char text[8192];
static char tmp[PATH_MAX];

/* Parse `src` (tabs written as '|' for legibility). */
static int load(const char *src) {
    size_t n = strlen(src);
    cr_assert(n < sizeof text);
    for (size_t i = 0; i <= n; i++)
        text[i] = src[i] == '|' ? '\t' : src[i];
    unsigned line = 0;
    return hook_rules_parse(&rules, text, n, &line);
}

static enum hook_access match(const char *view) {
    char host[PATH_MAX];
    return hook_rules_match(&rules, view, strlen(view), host);
}

Test(recorder_enforce, longest_prefix_decides_and_the_last_rule_on_a_path_wins) {
    cr_assert(eq(int,
                 load("ro|/|/\nrw|/home/u|/home/u\nhide|/home/u/.gitconfig|/home/u/.gitconfig\n"
                      "deny|/etc/shadow|/etc/shadow\nro|/etc/shadow|/etc/shadow\n"),
                 0));
    cr_assert(eq(int, match("/usr/bin/git"), HOOK_ACC_RO));
    cr_assert(eq(int, match("/home/u/src/a.c"), HOOK_ACC_RW));
    cr_assert(eq(int, match("/home/u/.gitconfig"), HOOK_ACC_HIDE));
    cr_assert(eq(int, match("/home/u/.gitconfig/x"), HOOK_ACC_HIDE));
    /* by component: /home/u2 is not under /home/u */
    cr_assert(eq(int, match("/home/u2"), HOOK_ACC_RO));
    cr_assert(eq(int, match("/etc/shadow"), HOOK_ACC_RO));
}

Test(recorder_enforce, no_rule_is_hidden_but_ancestors_of_a_visible_rule_are_read_only) {
    cr_assert(eq(int, load("rw|/work/proj|/work/proj\nhide|/opt/secret|/opt/secret\n"), 0));
    cr_assert(eq(int, match("/etc/passwd"), HOOK_ACC_NONE));
    cr_assert(eq(int, match("/"), HOOK_ACC_RO));
    cr_assert(eq(int, match("/work"), HOOK_ACC_RO));
    cr_assert(eq(int, match("/work/other"), HOOK_ACC_NONE));
    /* a hidden rule below does not make its ancestors visible */
    cr_assert(eq(int, match("/opt"), HOOK_ACC_NONE));
}

Test(recorder_enforce, redirect_maps_the_host_path_and_back) {
    cr_assert(
        eq(int, load("ro|/|/\nrw|/tmp|/run/cordon/tmpfs-1\nro|/etc/pip.conf|/dev/null\n"), 0));
    char host[PATH_MAX], view[PATH_MAX];
    cr_assert(eq(int, hook_rules_match(&rules, "/tmp/a/b", 8, host), HOOK_ACC_RW));
    cr_assert(eq(str, host, "/run/cordon/tmpfs-1/a/b"));
    cr_assert(eq(int, hook_rules_match(&rules, "/tmp", 4, host), HOOK_ACC_RW));
    cr_assert(eq(str, host, "/run/cordon/tmpfs-1"));
    cr_assert(eq(int, hook_rules_match(&rules, "/etc/pip.conf", 13, host), HOOK_ACC_RO));
    cr_assert(eq(str, host, "/dev/null"));
    size_t n = hook_rules_unmap(&rules, "/run/cordon/tmpfs-1/a", 21, view);
    cr_assert(eq(str, view, "/tmp/a"));
    cr_assert(eq(sz, n, 6));
    /* identity rules never move a path back */
    hook_rules_unmap(&rules, "/usr/lib", 8, view);
    cr_assert(eq(str, view, "/usr/lib"));
}

Test(recorder_enforce, bad_lines_fail_closed_with_their_number) {
    unsigned line = 0;
    strcpy(text, "ro\t/\t/\nwhat\t/x\t/x\n");
    cr_assert(eq(int, hook_rules_parse(&rules, text, strlen(text), &line), -EINVAL));
    cr_assert(eq(u32, line, 2));
    cr_assert(eq(sz, rules.n, 0));
    strcpy(text, "ro\t/\t/\nro\trelative\t/x\n");
    cr_assert(eq(int, hook_rules_parse(&rules, text, strlen(text), &line), -EINVAL));
    strcpy(text, "ro\t/\t/");
    cr_assert(eq(int, hook_rules_parse(&rules, text, strlen(text), &line), -EINVAL),
              "a last line without its newline is a cut file");
    strcpy(text, "ro\t/\t/\textra\n");
    cr_assert(eq(int, hook_rules_parse(&rules, text, strlen(text), &line), -EINVAL));
}

Test(recorder_enforce, listing_leaves_out_hidden_and_uncovered_names) {
    cr_assert(eq(int, load("ro|/d|/d\nhide|/d/secret|/d/secret\n"), 0));
    cr_assert(hook_rules_entry_hidden(&rules, "/d", 2, "secret"));
    cr_assert(not(hook_rules_entry_hidden(&rules, "/d", 2, "visible")));
    cr_assert(not(hook_rules_entry_hidden(&rules, "/d", 2, ".")));
    cr_assert(not(hook_rules_entry_hidden(&rules, "/d", 2, "..")));
    cr_assert(hook_rules_entry_hidden(&rules, "/", 1, "etc"));
    cr_assert(not(hook_rules_entry_hidden(&rules, "/", 1, "d")));
}

Test(recorder_enforce, open_flags_say_what_an_open_does) {
    cr_assert(eq(int, hook_enforce_open_flags(O_RDONLY), 0));
    cr_assert(eq(int, hook_enforce_open_flags(O_WRONLY), HOOK_ENF_WRITE | HOOK_ENF_DATA));
    cr_assert(eq(int, hook_enforce_open_flags(O_RDONLY | O_CREAT), HOOK_ENF_CREATE));
    cr_assert(eq(int, hook_enforce_open_flags(O_WRONLY | O_CREAT | O_EXCL),
                 HOOK_ENF_WRITE | HOOK_ENF_DATA | HOOK_ENF_CREATE | HOOK_ENF_NOFOLLOW));
    cr_assert(eq(int, hook_enforce_open_flags(O_RDONLY | O_NOFOLLOW), HOOK_ENF_NOFOLLOW));
}

/* ---- the walk, on a real tree ------------------------------------------- */

static void mk_tree(void) {
    strcpy(tmp, "/tmp/cordon-test-enforce-XXXXXX");
    cr_assert(mkdtemp(tmp) != NULL);
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/ro", tmp);
    cr_assert(eq(int, mkdir(p, 0755), 0));
    snprintf(p, sizeof p, "%s/rw", tmp);
    cr_assert(eq(int, mkdir(p, 0755), 0));
    snprintf(p, sizeof p, "%s/ro/secret", tmp);
    FILE *f = fopen(p, "w");
    cr_assert(f != NULL);
    fclose(f);
    snprintf(p, sizeof p, "%s/ro/visible", tmp);
    f = fopen(p, "w");
    cr_assert(f != NULL);
    fclose(f);
    char target[PATH_MAX + 64];
    snprintf(target, sizeof target, "%s/ro/secret", tmp);
    snprintf(p, sizeof p, "%s/rw/abs-link", tmp);
    cr_assert(eq(int, symlink(target, p), 0));
    snprintf(p, sizeof p, "%s/rw/rel-link", tmp);
    cr_assert(eq(int, symlink("../ro/secret", p), 0));
    snprintf(p, sizeof p, "%s/rw/dir-link", tmp);
    cr_assert(eq(int, symlink("../ro", p), 0));
    char src[4 * PATH_MAX];
    snprintf(src, sizeof src, "ro|%s|%s\nrw|%s/rw|%s/rw\nhide|%s/ro/secret|%s/ro/secret\n", tmp,
             tmp, tmp, tmp, tmp, tmp);
    cr_assert(eq(int, load(src), 0));
}

static void rm_tree(void) {
    char cmd[PATH_MAX + 16];
    const char *names[] = {"rw/abs-link", "rw/rel-link", "rw/dir-link", "rw/new",
                           "ro/secret",   "ro/visible",  "rw",          "ro"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(cmd, sizeof cmd, "%s/%s", tmp, names[i]);
        if (unlink(cmd) < 0)
            (void)rmdir(cmd);
    }
    (void)rmdir(tmp);
}

static int resolve(const char *rel, int flags, struct hook_resolved *r) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", tmp, rel);
    return hook_enforce_resolve(&rules, NULL, p, flags, 0, r);
}

Test(recorder_enforce, links_to_a_hidden_file_are_refused_like_the_file, .init = mk_tree,
     .fini = rm_tree) {
    static struct hook_resolved r;
    cr_assert(eq(int, resolve("ro/secret", 0, &r), ENOENT));
    cr_assert(eq(int, resolve("rw/abs-link", 0, &r), ENOENT));
    cr_assert(eq(int, resolve("rw/rel-link", 0, &r), ENOENT));
    cr_assert(eq(int, resolve("rw/dir-link/secret", 0, &r), ENOENT));
    cr_assert(eq(int, resolve("rw/../ro/./secret", HOOK_ENF_LOOK, &r), ENOENT));
    /* the link itself, not followed, is the writable directory's */
    cr_assert(eq(int, resolve("rw/abs-link", HOOK_ENF_LOOK | HOOK_ENF_NOFOLLOW, &r), 0));
    /* through a directory link the visible file resolves to its real path */
    cr_assert(eq(int, resolve("rw/dir-link/visible", 0, &r), 0));
    char want[PATH_MAX];
    snprintf(want, sizeof want, "%s/ro/visible", tmp);
    cr_assert(eq(str, r.host, want));
    /* relative to a base */
    char base[PATH_MAX];
    snprintf(base, sizeof base, "%s/rw", tmp);
    cr_assert(eq(int, hook_enforce_resolve(&rules, base, "../ro/secret", 0, 0, &r), ENOENT));
    cr_assert(eq(int, hook_enforce_resolve(&rules, base, "../ro/visible", 0, 0, &r), 0));
    /* /proc/self/root leads back to / */
    char via_proc[PATH_MAX];
    snprintf(via_proc, sizeof via_proc, "/proc/self/root%s/ro/secret", tmp);
    cr_assert(eq(int, hook_enforce_resolve(&rules, NULL, via_proc, 0, 0, &r), ENOENT));
}

Test(recorder_enforce, read_only_refuses_writes_and_creation, .init = mk_tree, .fini = rm_tree) {
    static struct hook_resolved r;
    cr_assert(eq(int, resolve("ro/visible", 0, &r), 0));
    cr_assert(eq(int, resolve("ro/visible", HOOK_ENF_WRITE | HOOK_ENF_DATA, &r), EROFS));
    cr_assert(eq(int, resolve("ro/new", HOOK_ENF_CREATE | HOOK_ENF_NOFOLLOW, &r), EROFS));
    /* creating what exists is the real call's EEXIST, not EROFS */
    cr_assert(eq(int, resolve("ro/visible", HOOK_ENF_CREATE, &r), 0));
    cr_assert(eq(int, resolve("rw/new", HOOK_ENF_CREATE | HOOK_ENF_WRITE, &r), 0));
    /* /dev/null is a device: writing to it under ro writes no file */
    cr_assert(eq(int, load("ro|/|/\n"), 0));
    cr_assert(eq(
        int, hook_enforce_resolve(&rules, NULL, "/dev/null", HOOK_ENF_WRITE | HOOK_ENF_DATA, 0, &r),
        0));
}

Test(recorder_enforce, denied_is_there_for_a_look_and_refused_otherwise, .init = mk_tree,
     .fini = rm_tree) {
    static struct hook_resolved r;
    char src[4 * PATH_MAX];
    snprintf(src, sizeof src, "ro|/|/\ndeny|%s/ro|%s/ro\n", tmp, tmp);
    cr_assert(eq(int, load(src), 0));
    cr_assert(eq(int, resolve("ro", HOOK_ENF_LOOK, &r), 0));
    cr_assert(eq(int, resolve("ro", 0, &r), EACCES));
    cr_assert(eq(int, resolve("ro/visible", HOOK_ENF_LOOK, &r), EACCES));
}

Test(recorder_enforce, proc_self_is_the_target_process_for_the_supervisor) {
    static struct hook_resolved r;
    cr_assert(eq(int, load("ro|/|/\nhide|/proc/4242|/proc/4242\n"), 0));
    cr_assert(
        eq(int, hook_enforce_resolve(&rules, NULL, "/proc/self/status", 0, 4242, &r), ENOENT));
    cr_assert(eq(int,
                 hook_enforce_resolve(&rules, NULL, "/proc/thread-self", HOOK_ENF_LOOK, 4242, &r),
                 ENOENT));
}

Test(recorder_enforce, empty_or_missing_path_is_enoent) {
    static struct hook_resolved r;
    cr_assert(eq(int, load("ro|/|/\n"), 0));
    cr_assert(eq(int, hook_enforce_resolve(&rules, NULL, "", 0, 0, &r), ENOENT));
    cr_assert(eq(int, hook_enforce_resolve(&rules, NULL, "rel", 0, 0, &r), ENOENT));
    cr_assert(eq(int, hook_enforce_resolve(&rules, "pipe:[3]", "rel", 0, 0, &r), ENOTDIR));
}

/* ---- the policy across exec (env.c) -------------------------------------- */

Test(recorder_enforce, policy_and_supervisor_survive_a_cleared_environment) {
    const struct hook_env snap = {
        .log = "",
        .hook = "CORDON_HOOK=/opt/cordon/libcordon-hook.so",
        .hook_path = "/opt/cordon/libcordon-hook.so",
        .policy = "CORDON_POLICY=/tmp/cordon-run-x/policy",
        .notify = "CORDON_NOTIFY=/tmp/cordon-notify-x/sock",
    };
    static char *out[HOOK_ENV_MAX + HOOK_ENV_EXTRA + 1];
    static char ld[2 * PATH_MAX], la[2 * PATH_MAX];
    char *empty[] = {NULL};
    char *const *got = hook_env_fix(&snap, empty, out, ld, la);
    bool policy = false, notify = false, preload = false, log = false;
    for (char *const *e = got; *e; e++) {
        policy |= !strcmp(*e, snap.policy);
        notify |= !strcmp(*e, snap.notify);
        preload |= !strcmp(*e, "LD_PRELOAD=/opt/cordon/libcordon-hook.so");
        log |= !strncmp(*e, "CORDON_LOG=", 11);
    }
    cr_assert(policy && notify && preload);
    cr_assert(not(log), "no recording: no CORDON_LOG is made up");
    /* a complete environment is left as it is */
    char *full[] = {"CORDON_POLICY=/tmp/cordon-run-x/policy",
                    "CORDON_NOTIFY=/tmp/cordon-notify-x/sock",
                    "CORDON_HOOK=/opt/cordon/libcordon-hook.so",
                    "LD_PRELOAD=/opt/cordon/libcordon-hook.so", NULL};
    cr_assert(eq(ptr, (void *)hook_env_fix(&snap, full, out, ld, la), (void *)full));
}
