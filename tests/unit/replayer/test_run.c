/* cordon run's pure parts: the namespace runner's mount plan and the
 * landlock runner's rules, computed from a policy over a temp dir. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cordon/error.h>
#include <cordon/policy.h>
#include <cordon/run.h>
#include <cordon/util.h>

static char tmp[64];
static struct cordon_policy *pol;
static struct cordon_mount_plan *plan;

static void setup(void) {
    snprintf(tmp, sizeof tmp, "/tmp/cordon-test-run.XXXXXX");
    cr_assert(mkdtemp(tmp) != NULL);
    /* The plan resolves symlinks: keep the canonical spelling. */
    char real[PATH_MAX];
    cr_assert(realpath(tmp, real) != NULL);
    snprintf(tmp, sizeof tmp, "%s", real);
    pol = cordon_policy_new();
    cr_assert(pol != NULL);
    plan = NULL;
}

static void teardown(void) {
    cordon_mount_plan_free(plan);
    cordon_policy_free(pol);
    cordon_rm_rf(tmp);
}

TestSuite(replayer_run, .init = setup, .fini = teardown);

static char *at(const char *rel) {
    static char bufs[8][PATH_MAX];
    static int n;
    char *b = bufs[n++ % 8];
    snprintf(b, PATH_MAX, "%s%s%s", tmp, rel[0] ? "/" : "", rel);
    return b;
}

static void make_file(const char *rel) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", tmp, rel);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", p);
    *strrchr(dir, '/') = '\0';
    cr_assert(eq(int, cordon_mkdir_p(dir, 0755), 0));
    FILE *f = fopen(p, "w");
    cr_assert(f != NULL);
    fputs("x\n", f);
    fclose(f);
}

static void make_dir(const char *rel) {
    cr_assert(eq(int, cordon_mkdir_p(at(rel), 0755), 0));
}

/* Load policy text where "@" stands for the temp dir. */
static void load(const char *text) {
    char buf[8192];
    size_t k = 0;
    for (const char *s = text; *s && k + sizeof tmp + 1 < sizeof buf; s++) {
        if (*s == '@') {
            k += (size_t)snprintf(buf + k, sizeof buf - k, "%s", tmp);
        } else {
            buf[k++] = *s;
        }
    }
    buf[k] = '\0';
    struct cordon_policy_vars vars = {.home = "/nonexistent-home", .cwd = tmp, .uid = "0"};
    struct cordon_error err;
    cordon_error_clear(&err);
    int r = cordon_policy_load_string(pol, buf, "test", NULL, &vars, &err);
    cr_assert(eq(int, r, 0), "cannot load the policy: %s", err.text);
}

static void build(const char *home) {
    struct cordon_error err;
    cordon_error_clear(&err);
    int r = cordon_mount_plan_build(pol, home, &plan, &err);
    cr_assert(eq(int, r, 0), "plan: %s", err.text);
}

/* The index of the first op of `kind` on `dst` (and from `src` if not
 * NULL), or -1. */
static ssize_t find_op(enum cordon_mount_op_kind kind, const char *dst, const char *src) {
    for (size_t i = 0; i < plan->n_ops; i++) {
        const struct cordon_mount_op *op = &plan->ops[i];
        if (op->kind == kind && !strcmp(op->dst, dst) &&
            (!src || (op->src && !strcmp(op->src, src))))
            return (ssize_t)i;
    }
    return -1;
}

static bool any_op_on(const char *dst) {
    for (size_t i = 0; i < plan->n_ops; i++)
        if (!strcmp(plan->ops[i].dst, dst))
            return true;
    return false;
}

Test(replayer_run, a_view_without_a_rule_for_the_root_starts_as_an_empty_tmpfs) {
    make_file("a/file");
    load("ro @/a\n");
    build(NULL);
    cr_assert(plan->root_tmpfs);
    cr_assert(eq(sz, (size_t)find_op(CORDON_MOP_TMPFS, "/", NULL), 0));
    ssize_t b = find_op(CORDON_MOP_BIND, at("a"), at("a"));
    cr_assert(b >= 0);
    cr_assert(plan->ops[b].readonly && plan->ops[b].recursive);
    /* Its mount point is made on our tmpfs, before the bind. */
    ssize_t m = find_op(CORDON_MOP_MKDIR, at("a"), NULL);
    cr_assert(m >= 0 && m < b);
    /* The root tmpfs is made read-only last. */
    cr_assert(eq(int, (int)plan->ops[plan->n_ops - 1].kind, (int)CORDON_MOP_READONLY));
    cr_assert(eq(str, plan->ops[plan->n_ops - 1].dst, "/"));
}

Test(replayer_run, a_hidden_file_in_a_readonly_directory_mirrors_the_directory) {
    make_file("d/a");
    make_file("d/secret");
    make_file("d/sub/deep");
    load("ro @\nhide @/d/secret\n");
    build(NULL);
    ssize_t t = find_op(CORDON_MOP_TMPFS, at("d"), NULL);
    cr_assert(t >= 0, "no mirror tmpfs on d");
    cr_assert(find_op(CORDON_MOP_BIND, at("d/a"), at("d/a")) > t);
    ssize_t sub = find_op(CORDON_MOP_BIND, at("d/sub"), at("d/sub"));
    cr_assert(sub > t && plan->ops[sub].recursive);
    cr_assert(any_op_on(at("d/secret")) == false, "the hidden file is in the mirror");
    ssize_t ro = find_op(CORDON_MOP_READONLY, at("d"), NULL);
    cr_assert(ro > sub && plan->ops[ro].recursive);
    /* The root bind is read-only and recursive. */
    ssize_t root = find_op(CORDON_MOP_BIND, "/", NULL);
    cr_assert(eq(int, (int)root, -1)); /* "/" is not the rule: @ is */
    cr_assert(find_op(CORDON_MOP_BIND, tmp, tmp) >= 0);
}

Test(replayer_run, a_hidden_file_in_a_writable_directory_becomes_unreadable) {
    make_file("d/secret");
    load("rw @\nhide @/d/secret\n");
    build(NULL);
    cr_assert(find_op(CORDON_MOP_BIND, at("d/secret"), "/.cordon/deny") >= 0);
    cr_assert(eq(int, (int)find_op(CORDON_MOP_TMPFS, at("d"), NULL), -1), "writable dir mirrored");
    bool noted = false;
    for (size_t i = 0; i < plan->n_notes; i++)
        noted |= strstr(plan->notes[i], "EACCES") != NULL;
    cr_assert(noted);
}

Test(replayer_run, a_rule_through_a_merged_usr_symlink_applies_to_its_target) {
    make_file("usr/lib/x/libz.so.1");
    make_file("usr/lib/x/libc.so.6");
    cr_assert(eq(int, symlink("usr/lib", at("lib")), 0));
    load("ro @\nhide @/lib/x/libz.so.1\n");
    build(NULL);
    cr_assert(find_op(CORDON_MOP_TMPFS, at("usr/lib/x"), NULL) >= 0, "usr/lib/x is not mirrored");
    cr_assert(find_op(CORDON_MOP_BIND, at("usr/lib/x/libc.so.6"), NULL) >= 0);
    cr_assert(any_op_on(at("usr/lib/x/libz.so.1")) == false);
    cr_assert(any_op_on(at("lib/x/libz.so.1")) == false);
}

Test(replayer_run, a_rule_below_a_symlink_keeps_the_link_in_an_empty_view) {
    make_file("usr/lib/x/libc.so.6");
    cr_assert(eq(int, symlink("usr/lib", at("lib")), 0));
    load("ro @/lib/x\n");
    build(NULL);
    cr_assert(find_op(CORDON_MOP_BIND, at("usr/lib/x"), at("usr/lib/x")) >= 0);
    ssize_t l = find_op(CORDON_MOP_SYMLINK, at("lib"), "usr/lib");
    cr_assert(l >= 0, "the /lib link is not recreated");
}

Test(replayer_run, a_path_the_host_lacks_gets_its_mount_point_in_a_mirror) {
    make_file("d/a");
    load("ro @/d\ntmpfs @/d/new/deep\n");
    build(NULL);
    ssize_t mirror = find_op(CORDON_MOP_TMPFS, at("d"), NULL);
    ssize_t point = find_op(CORDON_MOP_MKDIR, at("d/new/deep"), NULL);
    ssize_t t = find_op(CORDON_MOP_TMPFS, at("d/new/deep"), NULL);
    cr_assert(mirror >= 0 && point > mirror && t > point);
    struct stat st;
    cr_assert(lstat(at("d/new"), &st) < 0, "the plan made a path on the host");
}

Test(replayer_run, a_fresh_home_is_a_tmpfs_and_hides_inside_it_need_nothing) {
    make_file("home/.gitconfig");
    load("ro @\nhome fresh\nhide @/home/.gitconfig\n");
    build(at("home"));
    cr_assert(find_op(CORDON_MOP_TMPFS, at("home"), NULL) >= 0);
    cr_assert(any_op_on(at("home/.gitconfig")) == false);
}

Test(replayer_run, a_hidden_directory_with_visible_paths_inside_becomes_empty) {
    make_file("h/keep/f");
    make_file("h/other");
    load("ro @\nhide @/h\nro @/h/keep\n");
    build(NULL);
    ssize_t t = find_op(CORDON_MOP_TMPFS, at("h"), NULL);
    cr_assert(t >= 0);
    cr_assert(find_op(CORDON_MOP_BIND, at("h/keep"), at("h/keep")) > t);
    cr_assert(any_op_on(at("h/other")) == false);
}

Test(replayer_run, deny_binds_an_unreadable_file_or_mounts_an_unreadable_tmpfs) {
    make_file("f");
    make_dir("dir");
    load("ro @\ndeny @/f\ndeny @/dir\n");
    build(NULL);
    cr_assert(find_op(CORDON_MOP_BIND, at("f"), "/.cordon/deny") >= 0);
    ssize_t t = find_op(CORDON_MOP_TMPFS, at("dir"), NULL);
    cr_assert(t >= 0);
    cr_assert(eq(u32, plan->ops[t].mode, 0));
    cr_assert(find_op(CORDON_MOP_READONLY, at("dir"), NULL) > t);
}

Test(replayer_run, a_redirect_to_a_missing_path_names_the_rule) {
    load("ro @\nredirect @/x @/missing\n");
    struct cordon_error err;
    cordon_error_clear(&err);
    int r = cordon_mount_plan_build(pol, NULL, &plan, &err);
    cr_assert(eq(int, r, -EINVAL));
    cr_assert(strstr(err.text, "missing") != NULL, "%s", err.text);
    cr_assert(eq(int, err.line, 2));
}

Test(replayer_run, the_later_rule_for_the_same_path_wins) {
    make_file("d/f");
    load("ro @\nhide @/d/f\nro @/d/f\n");
    build(NULL);
    cr_assert(eq(int, (int)find_op(CORDON_MOP_TMPFS, at("d"), NULL), -1));
    cr_assert(find_op(CORDON_MOP_BIND, at("d/f"), at("d/f")) >= 0);
}

/* ---- landlock ----------------------------------------------------------- */

static struct cordon_landlock_rule *rules;
static size_t n_rules;

static const struct cordon_landlock_rule *rule_for(const char *path) {
    for (size_t i = 0; i < n_rules; i++)
        if (!strcmp(rules[i].path, path))
            return &rules[i];
    return NULL;
}

static void ll_rules(void) {
    cr_assert(eq(int, cordon_landlock_rules(pol, NULL, NULL, &rules, &n_rules), 0));
}

Test(replayer_run, landlock_carves_a_hidden_file_out_of_a_readonly_tree) {
    make_file("d/a");
    make_file("d/secret");
    make_file("e/b");
    load("ro @\nhide @/d/secret\n");
    ll_rules();
    const struct cordon_landlock_rule *r = rule_for(tmp);
    cr_assert(r && r->list_only, "the top is listable only");
    r = rule_for(at("d"));
    cr_assert(r && r->list_only);
    r = rule_for(at("d/a"));
    cr_assert(r && !r->list_only && !r->write);
    r = rule_for(at("e"));
    cr_assert(r && !r->list_only && !r->write, "a sibling is granted whole");
    cr_assert(rule_for(at("d/secret")) == NULL);
    cordon_landlock_rules_free(rules, n_rules);
}

Test(replayer_run, landlock_does_not_list_a_tree_holding_a_hidden_directory) {
    make_file("d/hidden/x");
    make_file("d/a");
    load("rw @\nhide @/d/hidden\n");
    ll_rules();
    cr_assert(rule_for(tmp) == NULL, "a right to list the top would list the hidden dir");
    cr_assert(rule_for(at("d")) == NULL);
    const struct cordon_landlock_rule *r = rule_for(at("d/a"));
    cr_assert(r && r->write);
    cr_assert(rule_for(at("d/hidden")) == NULL);
    cordon_landlock_rules_free(rules, n_rules);
}

Test(replayer_run, landlock_grants_a_writable_path_under_a_readonly_one) {
    make_file("src/f");
    make_file("sys/g");
    load("ro @\nrw @/src\n");
    ll_rules();
    const struct cordon_landlock_rule *r = rule_for(at("src"));
    cr_assert(r && r->write);
    /* The top needs no carving: a right added below only adds. */
    r = rule_for(tmp);
    cr_assert(r && !r->write && !r->list_only);
    cr_assert(rule_for(at("sys")) == NULL);
    cordon_landlock_rules_free(rules, n_rules);
}
