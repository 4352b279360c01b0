/* Policies: the line format, includes, lookup precedence, the environment a
 * policy makes, the built-in profiles, write() round trips and the invalid
 * corpus under tests/data/policy/invalid. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cordon/error.h>
#include <cordon/policy.h>
#include <cordon/util.h>

static const struct cordon_policy_vars vars = {
    .home = "/home/u",
    .xdg_config_home = "/home/u/.config",
    .xdg_cache_home = "/home/u/.cache",
    .xdg_data_home = "/home/u/.local/share",
    .xdg_state_home = "/home/u/.local/state",
    .cwd = "/work/tree",
    .uid = "1000",
};

static struct cordon_policy *load(const char *text) {
    struct cordon_policy *p = cordon_policy_new();
    cr_assert(p != NULL);
    struct cordon_error err;
    int r = cordon_policy_load_string(p, text, "test.policy", NULL, &vars, &err);
    char msg[PATH_MAX + 1024];
    cr_assert(eq(int, r, 0), "%s", cordon_error_format(&err, msg, sizeof msg));
    return p;
}

/* The message load_string gives for `text`. */
static const char *load_error(const char *text, char *msg, size_t size) {
    struct cordon_policy *p = cordon_policy_new();
    struct cordon_error err;
    int r = cordon_policy_load_string(p, text, "p.policy", NULL, &vars, &err);
    cr_assert(lt(int, r, 0), "'%s' was accepted", text);
    cordon_policy_free(p);
    return cordon_error_format(&err, msg, size);
}

static const char *kind_at(const struct cordon_policy *p, const char *path) {
    const struct cordon_rule *r = cordon_policy_lookup(p, path);
    return r ? cordon_rule_kind_name(r->kind) : "none";
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        cordon_strbuf_addn(&sb, buf, n);
    fclose(f);
    return cordon_strbuf_detach(&sb);
}

Test(replayer_policy, kind_names_round_trip) {
    for (int k = 0; k < CORDON_RULE_MAX; k++) {
        const char *n = cordon_rule_kind_name((enum cordon_rule_kind)k);
        cr_assert(n != NULL);
        cr_expect(eq(int, (int)cordon_rule_kind_from_name(n), k));
    }
    cr_expect(eq(str, (char *)cordon_rule_kind_name(CORDON_RULE_REDIRECT), "redirect"));
    cr_expect(eq(int, (int)cordon_rule_kind_from_name("hyde"), (int)CORDON_RULE_INVALID));
    cr_expect(cordon_rule_kind_name(CORDON_RULE_MAX) == NULL);
    cr_expect(cordon_rule_kind_name(CORDON_RULE_INVALID) == NULL);
}

Test(replayer_policy, longest_component_prefix_wins) {
    struct cordon_policy *p = load("rw /usr/lib\n"
                                   "ro /\n"
                                   "hide /usr\n"
                                   "deny /usr/lib/secret\n");
    cr_expect(eq(str, (char *)kind_at(p, "/"), "ro"));
    cr_expect(eq(str, (char *)kind_at(p, "/etc/passwd"), "ro"));
    cr_expect(eq(str, (char *)kind_at(p, "/usr"), "hide"));
    cr_expect(eq(str, (char *)kind_at(p, "/usr/bin/cc"), "hide"));
    cr_expect(eq(str, (char *)kind_at(p, "/usr/lib"), "rw"));
    cr_expect(eq(str, (char *)kind_at(p, "/usr/lib/x.so"), "rw"));
    /* By component: /usr/lib64 is not under /usr/lib. */
    cr_expect(eq(str, (char *)kind_at(p, "/usr/lib64/x.so"), "hide"));
    cr_expect(eq(str, (char *)kind_at(p, "/usr/lib/secret"), "deny"));
    cr_expect(eq(str, (char *)kind_at(p, "/usr/lib/secret/key"), "deny"));
    cr_expect(eq(str, (char *)kind_at(p, "/usr/lib/secretive"), "rw"));
    cordon_policy_free(p);
}

Test(replayer_policy, uncovered_path_has_no_rule) {
    struct cordon_policy *p = load("ro /usr\nrw /work\n");
    cr_expect(cordon_policy_lookup(p, "/etc/passwd") == NULL);
    cr_expect(cordon_policy_lookup(p, "/") == NULL);
    cr_expect(cordon_policy_lookup(p, "/work2") == NULL);
    cr_expect(eq(str, (char *)kind_at(p, "/work"), "rw"));
    struct cordon_policy *empty = cordon_policy_new();
    cr_expect(cordon_policy_lookup(empty, "/x") == NULL);
    cordon_policy_free(empty);
    cordon_policy_free(p);
}

Test(replayer_policy, later_rule_on_same_path_wins) {
    struct cordon_policy *p = load("ro /\nhide /etc/gitconfig # profile\nro /etc\n");
    struct cordon_error err;
    /* A command-line flag, loaded after the profile, overrides it. */
    cr_assert(
        eq(int, cordon_policy_add_rule(p, CORDON_RULE_RW, "/etc/gitconfig", NULL, &vars, &err), 0));
    const struct cordon_rule *r = cordon_policy_lookup(p, "/etc/gitconfig");
    cr_assert(r != NULL);
    cr_expect(eq(int, (int)r->kind, (int)CORDON_RULE_RW));
    cr_expect(eq(str, r->origin, "command line"));
    cr_expect(eq(int, r->line, 0));
    cr_expect(r->why == NULL);
    cordon_policy_free(p);
}

Test(replayer_policy, hide_one_file_inside_a_read_only_dir) {
    struct cordon_policy *p = load("ro /\nro /home/u\nhide ${HOME}/.gitconfig  # identity\n");
    const struct cordon_rule *r = cordon_policy_lookup(p, "/home/u/.gitconfig");
    cr_assert(r != NULL);
    cr_expect(eq(int, (int)r->kind, (int)CORDON_RULE_HIDE));
    cr_expect(eq(str, r->path, "/home/u/.gitconfig"));
    cr_expect(eq(str, r->why, "identity"));
    cr_expect(eq(str, r->origin, "test.policy"));
    cr_expect(eq(int, r->line, 3));
    cr_expect(eq(str, (char *)kind_at(p, "/home/u/.gitconfig.bak"), "ro"));
    cr_expect(eq(str, (char *)kind_at(p, "/home/u/src"), "ro"));
    cordon_policy_free(p);
}

Test(replayer_policy, redirect_keeps_its_normalised_target) {
    struct cordon_policy *p = load("redirect /etc/pip.conf /dev/./null # no global pip.conf\n"
                                   "redirect //etc//x/ ${HOME}/../u/y\n");
    cr_assert(eq(sz, p->n_rules, 2));
    cr_expect(eq(str, p->rules[0].path, "/etc/pip.conf"));
    cr_expect(eq(str, p->rules[0].to, "/dev/null"));
    cr_expect(eq(str, p->rules[0].why, "no global pip.conf"));
    cr_expect(eq(str, p->rules[1].path, "/etc/x"));
    cr_expect(eq(str, p->rules[1].to, "/home/u/y"));
    const struct cordon_rule *r = cordon_policy_lookup(p, "/etc/pip.conf");
    cr_assert(r != NULL);
    cr_expect(eq(int, (int)r->kind, (int)CORDON_RULE_REDIRECT));
    cr_expect(p->rules[0].to != NULL);
    cordon_policy_free(p);
}

Test(replayer_policy, quoting_and_variables) {
    struct cordon_policy *p = load("hide \"${HOME}/a b\"      # in quotes\n"
                                   "hide /x\" y\"z\n"
                                   "hide \"/q\\\"uote\\\\back\"\n"
                                   "hide \"/lit\\${HOME}\"\n"
                                   "rw ${CWD}/out/${UID}\n"
                                   "hide ${XDG_STATE_HOME}/git\n"
                                   "\thide\t/tabbed#not-a-comment\r\n");
    cr_assert(eq(sz, p->n_rules, 7));
    cr_expect(eq(str, p->rules[0].path, "/home/u/a b"));
    cr_expect(eq(str, p->rules[0].why, "in quotes"));
    cr_expect(eq(str, p->rules[1].path, "/x yz"));
    cr_expect(eq(str, p->rules[2].path, "/q\"uote\\back"));
    cr_expect(eq(str, p->rules[3].path, "/lit${HOME}"));
    cr_expect(eq(str, p->rules[4].path, "/work/tree/out/1000"));
    cr_expect(eq(str, p->rules[5].path, "/home/u/.local/state/git"));
    cr_expect(eq(str, p->rules[6].path, "/tabbed#not-a-comment"));
    cr_expect(p->rules[6].why == NULL);
    cordon_policy_free(p);
}

Test(replayer_policy, two_paths_on_one_hide_are_an_error) {
    char msg[1024];
    cr_expect(eq(str, (char *)load_error("ro /\nhide /a /b\n", msg, sizeof msg),
                 "p.policy:2: 'hide' takes one path, not 2 arguments"));
}

Test(replayer_policy, errors_name_file_line_and_problem) {
    char msg[1024];
    cr_expect(eq(str, (char *)load_error("ro /\n\nhyde /x\n", msg, sizeof msg),
                 "p.policy:3: unknown rule 'hyde' (ro, rw, hide, deny, empty, redirect, tmpfs, "
                 "dev, proc, unset, keep, set, clearenv, home, network, include, description)"));
    cr_expect(eq(str, (char *)load_error("rw out\n", msg, sizeof msg),
                 "p.policy:1: relative path 'out' (paths must be absolute)"));
    cr_expect(eq(str, (char *)load_error("hide ${NOPE}\n", msg, sizeof msg),
                 "p.policy:1: unknown variable '${NOPE}' (HOME, XDG_CONFIG_HOME, XDG_CACHE_HOME, "
                 "XDG_DATA_HOME, XDG_STATE_HOME, CWD, UID)"));
}

Test(replayer_policy, xdg_variables_default_under_home) {
    unsetenv("XDG_CONFIG_HOME");
    unsetenv("XDG_CACHE_HOME");
    setenv("XDG_DATA_HOME", "relative/ignored", 1);
    setenv("XDG_STATE_HOME", "/state", 1);
    struct cordon_policy_vars v = {.home = "/h", .cwd = "/c", .uid = "7"};
    struct cordon_policy *p = cordon_policy_new();
    struct cordon_error err;
    cr_assert(eq(int,
                 cordon_policy_load_string(p,
                                           "hide ${XDG_CONFIG_HOME}\nhide ${XDG_CACHE_HOME}\n"
                                           "hide ${XDG_DATA_HOME}\nhide ${XDG_STATE_HOME}\n",
                                           "x", NULL, &v, &err),
                 0));
    cr_expect(eq(str, p->rules[0].path, "/h/.config"));
    cr_expect(eq(str, p->rules[1].path, "/h/.cache"));
    cr_expect(eq(str, p->rules[2].path, "/h/.local/share"));
    cr_expect(eq(str, p->rules[3].path, "/state"));
    cordon_policy_free(p);
}

Test(replayer_policy, home_comes_from_the_environment_by_default) {
    setenv("HOME", "/from/env", 1);
    struct cordon_policy *p = cordon_policy_new();
    struct cordon_error err;
    cr_assert(eq(int, cordon_policy_load_string(p, "hide ${HOME}/.x\n", "x", NULL, NULL, &err), 0));
    cr_expect(eq(str, p->rules[0].path, "/from/env/.x"));
    cordon_policy_free(p);
}

Test(replayer_policy, home_and_network) {
    struct cordon_policy *p = cordon_policy_new();
    cr_expect(eq(int, (int)p->home, (int)CORDON_HOME_UNSET));
    cr_expect(eq(int, p->network, -1));
    cordon_policy_free(p);
    p = load("home fresh\nnetwork off\n");
    cr_expect(eq(int, (int)p->home, (int)CORDON_HOME_FRESH));
    cr_expect(eq(int, p->network, 0));
    cordon_policy_free(p);
    p = load("home fresh\nhome ${CWD}/home/\nnetwork off\nnetwork on\n");
    cr_expect(eq(int, (int)p->home, (int)CORDON_HOME_PATH));
    cr_expect(eq(str, p->home_path, "/work/tree/home"));
    cr_expect(eq(int, p->network, 1));
    cordon_policy_free(p);
    p = load("home /x\nhome keep\n");
    cr_expect(eq(int, (int)p->home, (int)CORDON_HOME_KEEP));
    cr_expect(p->home_path == NULL);
    cordon_policy_free(p);
}

/* ---- environment ---------------------------------------------------------- */

static const char *env_of(char **env, const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; env[i]; i++)
        if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
            return env[i] + n + 1;
    return NULL;
}

static size_t env_count(char **env) {
    size_t n = 0;
    while (env[n])
        n++;
    return n;
}

static void env_free(char **env) {
    for (size_t i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}

Test(replayer_policy, env_unset_globs_spare_what_keep_matches) {
    /* keep protects whatever its position: a --keep on the command line
     * after a profile's unset, and a keep before an unset. */
    struct cordon_policy *p = load("keep GIT_CONFIG_NOSYSTEM\n"
                                   "unset GIT_* PYTHON?ATH\n"
                                   "keep GIT_AUTHOR_*\n");
    char *envp[] = {"PATH=/bin",         "GIT_DIR=/x",         "GIT_CONFIG_NOSYSTEM=1",
                    "GIT_AUTHOR_NAME=a", "PYTHONPATH=/p",      "PYTHONHOME=/h",
                    "XGIT_X=1",          "GIT_CONFIG_KEY_0=k", NULL};
    char **env = NULL;
    cr_assert(eq(int, cordon_policy_apply_env(p, envp, NULL, &env), 0));
    cr_expect(eq(str, (char *)env_of(env, "PATH"), "/bin"));
    cr_expect(env_of(env, "GIT_DIR") == NULL);
    cr_expect(env_of(env, "GIT_CONFIG_KEY_0") == NULL);
    cr_expect(eq(str, (char *)env_of(env, "GIT_CONFIG_NOSYSTEM"), "1"));
    cr_expect(eq(str, (char *)env_of(env, "GIT_AUTHOR_NAME"), "a"));
    cr_expect(env_of(env, "PYTHONPATH") == NULL);
    cr_expect(eq(str, (char *)env_of(env, "PYTHONHOME"), "/h"));
    cr_expect(eq(str, (char *)env_of(env, "XGIT_X"), "1"));
    cr_expect(eq(sz, env_count(env), 5));
    /* The order of what is left is the caller's. */
    cr_expect(eq(str, env[0], "PATH=/bin"));
    env_free(env);
    cordon_policy_free(p);
}

Test(replayer_policy, env_set_replaces_and_adds_in_load_order) {
    struct cordon_policy *p = load("set LC_ALL=C \"MSG=a b\" EMPTY=\n"
                                   "unset LANG\n"
                                   "set LANG=C.UTF-8 X=1=2\n"
                                   "set LC_ALL=POSIX\n");
    char *envp[] = {"LC_ALL=de_DE", "LANG=fr_FR", "TERM=xterm", NULL};
    char **env = NULL;
    cr_assert(eq(int, cordon_policy_apply_env(p, envp, NULL, &env), 0));
    cr_expect(eq(str, (char *)env_of(env, "LC_ALL"), "POSIX"));
    cr_expect(eq(str, (char *)env_of(env, "MSG"), "a b"));
    cr_expect(eq(str, (char *)env_of(env, "EMPTY"), ""));
    cr_expect(eq(str, (char *)env_of(env, "LANG"), "C.UTF-8"));
    cr_expect(eq(str, (char *)env_of(env, "X"), "1=2"));
    cr_expect(eq(str, (char *)env_of(env, "TERM"), "xterm"));
    cr_expect(eq(sz, env_count(env), 6));
    env_free(env);
    cordon_policy_free(p);
}

Test(replayer_policy, clearenv_empties_all_but_kept_names) {
    struct cordon_policy *p = load("set EARLY=1\nclearenv\nkeep PATH TERM\nset LC_ALL=C\n");
    char *envp[] = {"PATH=/bin", "HOME=/home/u", "TERM=dumb", "SECRET=x", NULL};
    char **env = NULL;
    cr_assert(eq(int, cordon_policy_apply_env(p, envp, NULL, &env), 0));
    cr_expect(eq(str, (char *)env_of(env, "PATH"), "/bin"));
    cr_expect(eq(str, (char *)env_of(env, "TERM"), "dumb"));
    cr_expect(eq(str, (char *)env_of(env, "LC_ALL"), "C"));
    cr_expect(env_of(env, "SECRET") == NULL);
    cr_expect(env_of(env, "EARLY") == NULL);
    cr_expect(env_of(env, "HOME") == NULL);
    cr_expect(eq(sz, env_count(env), 3));
    env_free(env);
    cordon_policy_free(p);
}

Test(replayer_policy, home_sets_HOME) {
    char *envp[] = {"HOME=/home/u", "A=1", NULL};
    char **env = NULL;
    struct cordon_policy *p = load("home fresh\n");
    cr_assert(eq(int, cordon_policy_apply_env(p, envp, "/tmp/fresh-home", &env), 0));
    cr_expect(eq(str, (char *)env_of(env, "HOME"), "/tmp/fresh-home"));
    cr_expect(eq(sz, env_count(env), 2));
    env_free(env);
    cordon_policy_free(p);

    p = load("home /srv/h\nclearenv\n");
    cr_assert(eq(int, cordon_policy_apply_env(p, envp, NULL, &env), 0));
    cr_expect(eq(str, (char *)env_of(env, "HOME"), "/srv/h"));
    cr_expect(eq(sz, env_count(env), 1));
    env_free(env);
    cordon_policy_free(p);

    p = load("home keep\n");
    cr_assert(eq(int, cordon_policy_apply_env(p, envp, "/ignored", &env), 0));
    cr_expect(eq(str, (char *)env_of(env, "HOME"), "/home/u"));
    env_free(env);
    cordon_policy_free(p);
}

Test(replayer_policy, empty_environment) {
    struct cordon_policy *p = load("unset X\n");
    char **env = NULL;
    cr_assert(eq(int, cordon_policy_apply_env(p, NULL, NULL, &env), 0));
    cr_assert(env != NULL);
    cr_expect(env[0] == NULL);
    env_free(env);
    cordon_policy_free(p);
}

/* ---- command-line rules ----------------------------------------------------- */

Test(replayer_policy, add_rule_makes_relative_paths_absolute) {
    struct cordon_policy *p = cordon_policy_new();
    struct cordon_error err;
    cr_assert(
        eq(int, cordon_policy_add_rule(p, CORDON_RULE_RW, "out/../build", NULL, &vars, &err), 0));
    cr_assert(
        eq(int, cordon_policy_add_rule(p, CORDON_RULE_REDIRECT, "/etc/x", "conf", &vars, &err), 0));
    cr_expect(eq(str, p->rules[0].path, "/work/tree/build"));
    cr_expect(eq(str, p->rules[1].to, "/work/tree/conf"));
    cr_expect(
        eq(int, cordon_policy_add_rule(p, CORDON_RULE_REDIRECT, "/a", NULL, &vars, &err), -EINVAL));
    cr_expect(
        eq(int, cordon_policy_add_rule(p, CORDON_RULE_HIDE, "/a", "/b", &vars, &err), -EINVAL));
    cr_expect(
        eq(int, cordon_policy_add_rule(p, CORDON_RULE_INVALID, "/a", NULL, &vars, &err), -EINVAL));
    cr_expect(eq(sz, p->n_rules, 2));
    cordon_policy_free(p);
}

/* ---- includes --------------------------------------------------------------- */

Test(replayer_policy, include_is_relative_to_the_including_file) {
    cr_assert(eq(int, chdir("/"), 0));
    struct cordon_policy *p = cordon_policy_new();
    struct cordon_error err;
    char msg[PATH_MAX + 1024];
    int r = cordon_policy_load_file(p, CORDON_TEST_DATA "/policy/include/main.policy", &vars, &err);
    cr_assert(eq(int, r, 0), "%s", cordon_error_format(&err, msg, sizeof msg));
    cr_expect(eq(str, (char *)kind_at(p, "/etc/sibling"), "deny"));
    cr_expect(eq(str, (char *)kind_at(p, "/etc/main-hidden"), "hide"));
    cr_expect(eq(str, (char *)kind_at(p, "/home/u/with space"), "hide"));
    cr_expect(eq(str, (char *)kind_at(p, "/work/tree/src"), "rw"));
    cr_expect(eq(str, p->description, "the main file's own description"));
    cr_assert(eq(sz, p->n_included, 3));
    cr_expect(strstr(p->included[1], "/include/sub/child.policy") != NULL);
    cr_expect(strstr(p->included[2], "/include/sibling.policy") != NULL);
    const struct cordon_rule *r2 = cordon_policy_lookup(p, "/etc/sibling");
    cr_expect(strstr(r2->origin, "/include/sibling.policy") != NULL);
    cr_expect(eq(int, r2->line, 1));
    cr_expect(eq(sz, p->n_env, 1));
    cordon_policy_free(p);
}

Test(replayer_policy, include_from_a_string_uses_dir) {
    struct cordon_policy *p = cordon_policy_new();
    struct cordon_error err;
    char msg[PATH_MAX + 1024];
    int r = cordon_policy_load_string(p, "include sibling.policy\n", "command line",
                                      CORDON_TEST_DATA "/policy/include", &vars, &err);
    cr_assert(eq(int, r, 0), "%s", cordon_error_format(&err, msg, sizeof msg));
    cr_expect(eq(str, (char *)kind_at(p, "/etc/sibling"), "deny"));
    cordon_policy_free(p);
}

Test(replayer_policy, include_from_a_relative_dir_is_made_absolute) {
    cr_assert(eq(int, chdir(CORDON_TEST_DATA "/policy"), 0));
    struct cordon_policy *p = cordon_policy_new();
    struct cordon_error err;
    struct cordon_policy_vars v = vars;
    v.cwd = NULL; /* getcwd */
    int r = cordon_policy_load_string(p, "include invalid/cycle-a.policy\n", "s", ".", &v, &err);
    cr_expect(eq(int, r, -EINVAL));
    cr_expect(strncmp(err.text, "include cycle: /", 16) == 0, "%s", err.text);
    cordon_policy_free(p);
    p = cordon_policy_new();
    r = cordon_policy_load_string(p, "include include/sibling.policy\n", "s", ".", &v, &err);
    cr_expect(eq(int, r, 0), "%s", err.text);
    cr_assert(eq(sz, p->n_included, 2));
    cr_expect(eq(chr, p->included[1][0], '/'));
    cordon_policy_free(p);
}

Test(replayer_policy, include_cycle_is_an_error) {
    struct cordon_policy *p = cordon_policy_new();
    struct cordon_error err;
    int r =
        cordon_policy_load_file(p, CORDON_TEST_DATA "/policy/invalid/cycle-a.policy", &vars, &err);
    cr_expect(eq(int, r, -EINVAL));
    cr_expect(strncmp(err.text, "include cycle: ", 15) == 0, "%s", err.text);
    cr_expect(strstr(err.text, "cycle-a.policy -> ") != NULL, "%s", err.text);
    cordon_policy_free(p);
}

Test(replayer_policy, missing_include_is_enoent) {
    struct cordon_policy *p = cordon_policy_new();
    struct cordon_error err;
    int r = cordon_policy_load_string(p, "include /nonexistent/x.policy\n", "s", NULL, &vars, &err);
    cr_expect(eq(int, r, -ENOENT));
    cr_expect(eq(int, err.line, 1));
    cr_expect(eq(int, cordon_policy_load_file(p, "/nonexistent/y.policy", &vars, &err), -ENOENT));
    cordon_policy_free(p);
}

Test(replayer_policy, unknown_profile_lists_the_known_ones) {
    struct cordon_policy *p = cordon_policy_new();
    struct cordon_error err;
    cr_expect(eq(int, cordon_policy_load_profile(p, "gitt", &vars, &err), -ENOENT));
    cr_expect(strstr(err.text, "unknown profile 'gitt' (base, build, cmake, git, gpg, npm, pip, "
                               "python, ssh)") != NULL,
              "%s", err.text);
    cr_expect(eq(int, cordon_policy_load_profile(p, "../x", &vars, &err), -ENOENT));
    cordon_policy_free(p);
}

/* Every tests/data/policy/invalid/<case>.policy fails to load with exactly
 * <case>.error (@FILE@, @DIR@ and @DATA@ standing for the case's path, its
 * directory and tests/data/policy). */
Test(replayer_policy, invalid_corpus) {
    const char *dir = CORDON_TEST_DATA "/policy/invalid";
    char data[PATH_MAX], rdir[PATH_MAX];
    cr_assert(realpath(CORDON_TEST_DATA "/policy", data) != NULL);
    cr_assert(realpath(dir, rdir) != NULL);
    DIR *d = opendir(rdir);
    cr_assert(d != NULL, "cannot open %s", rdir);
    int cases = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n < 8 || strcmp(e->d_name + n - 7, ".policy") != 0)
            continue;
        char pp[PATH_MAX], ep[PATH_MAX];
        snprintf(pp, sizeof pp, "%s/%s", rdir, e->d_name);
        snprintf(ep, sizeof ep, "%s/%.*s.error", rdir, (int)(n - 7), e->d_name);
        char *want_raw = read_text(ep);
        cr_assert(want_raw != NULL, "%s has no .error file", pp);
        want_raw[strcspn(want_raw, "\n")] = '\0';
        struct cordon_strbuf want = CORDON_STRBUF_INIT;
        for (const char *c = want_raw; *c;) {
            if (strncmp(c, "@FILE@", 6) == 0)
                cordon_strbuf_adds(&want, pp), c += 6;
            else if (strncmp(c, "@DIR@", 5) == 0)
                cordon_strbuf_adds(&want, rdir), c += 5;
            else if (strncmp(c, "@DATA@", 6) == 0)
                cordon_strbuf_adds(&want, data), c += 6;
            else
                cordon_strbuf_addn(&want, c++, 1);
        }
        struct cordon_policy *p = cordon_policy_new();
        struct cordon_error err;
        int r = cordon_policy_load_file(p, pp, &vars, &err);
        cr_expect(lt(int, r, 0), "%s was accepted", e->d_name);
        char msg[PATH_MAX + 1024];
        cordon_error_format(&err, msg, sizeof msg);
        cr_expect(eq(str, msg, want.buf), "%s", e->d_name);
        cordon_policy_free(p);
        cordon_strbuf_release(&want);
        free(want_raw);
        cases++;
    }
    closedir(d);
    cr_assert(gt(int, cases, 20));
}

/* ---- the built-in profiles ------------------------------------------------- */

static const char *const builtin[] = {"build",  "git", "gpg", "cmake",
                                      "python", "pip", "ssh", "npm"};

Test(replayer_policy, every_builtin_profile_loads_and_says_why) {
    char dir[PATH_MAX];
    cr_assert(eq(int, cordon_profiles_dir(dir, sizeof dir), 0));
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(builtin); i++) {
        struct cordon_policy *p = cordon_policy_new();
        struct cordon_error err;
        char msg[PATH_MAX + 1024];
        int r = cordon_policy_load_profile(p, builtin[i], &vars, &err);
        cr_assert(eq(int, r, 0), "%s: %s", builtin[i], cordon_error_format(&err, msg, sizeof msg));
        cr_expect(p->description != NULL, "%s has no description", builtin[i]);
        cr_expect(gt(sz, p->n_rules, 0), "%s", builtin[i]);
        for (size_t j = 0; j < p->n_rules; j++)
            cr_expect(p->rules[j].why != NULL, "%s: rule on '%s' has no reason", builtin[i],
                      p->rules[j].path);
        for (size_t j = 0; j < p->n_env; j++)
            cr_expect(p->env[j].why != NULL, "%s: env rule on '%s' has no reason", builtin[i],
                      p->env[j].name);
        cordon_policy_free(p);
    }
}

Test(replayer_policy, build_profile_is_the_default_view) {
    struct cordon_policy *p = cordon_policy_new();
    struct cordon_error err;
    cr_assert(eq(int, cordon_policy_load_profile(p, "build", &vars, &err), 0));
    cr_expect(eq(str, (char *)kind_at(p, "/usr/bin/cc"), "ro"));
    cr_expect(eq(str, (char *)kind_at(p, "/work/tree/main.c"), "rw"));
    cr_expect(eq(str, (char *)kind_at(p, "/tmp/x"), "tmpfs"));
    cr_expect(eq(str, (char *)kind_at(p, "/var/tmp"), "tmpfs"));
    cr_expect(eq(str, (char *)kind_at(p, "/dev/null"), "dev"));
    cr_expect(eq(str, (char *)kind_at(p, "/proc/self"), "proc"));
    cr_expect(eq(str, (char *)kind_at(p, "/run/user/1000/gnupg"), "hide"));
    cr_expect(eq(str, (char *)kind_at(p, "/home/u/.gitconfig"), "hide"));
    cr_expect(eq(str, (char *)kind_at(p, "/home/u/.config/git/config"), "hide"));
    cr_expect(eq(str, (char *)kind_at(p, "/home/u/.gnupg/gpg.conf"), "hide"));
    cr_expect(eq(str, (char *)kind_at(p, "/home/u/.cmake/packages/Foo/1"), "hide"));
    cr_expect(eq(str, (char *)kind_at(p, "/home/u/.local/lib/python3.11/site-packages"), "hide"));
    cr_expect(eq(str, (char *)kind_at(p, "/etc/pip.conf"), "hide"));
    cr_expect(eq(str, (char *)kind_at(p, "/home/u/.ssh/id_ed25519"), "hide"));
    cr_expect(eq(str, (char *)kind_at(p, "/home/u/.npmrc"), "hide"));
    cr_expect(eq(int, (int)p->home, (int)CORDON_HOME_FRESH));
    cr_expect(eq(int, p->network, 1));
    cr_expect(eq(sz, p->n_included, 9));
    cr_expect(eq(str, p->included[0], "profile build"));
    cr_expect(strstr(p->description, "run a build") == p->description);
    /* A work tree under /tmp stays writable: rw ${CWD} comes last. */
    cordon_policy_free(p);
    struct cordon_policy_vars v = vars;
    v.cwd = "/tmp/build";
    p = cordon_policy_new();
    cr_assert(eq(int, cordon_policy_load_profile(p, "build", &v, &err), 0));
    cr_expect(eq(str, (char *)kind_at(p, "/tmp/build/x.o"), "rw"));
    cordon_policy_free(p);
}

Test(replayer_policy, profiles_dir_from_the_environment) {
    setenv("CORDON_PROFILES_DIR", CORDON_TEST_DATA "/policy/include", 1);
    char dir[PATH_MAX];
    cr_assert(eq(int, cordon_profiles_dir(dir, sizeof dir), 0));
    cr_expect(eq(str, dir, CORDON_TEST_DATA "/policy/include"));
    struct cordon_policy *p = cordon_policy_new();
    struct cordon_error err;
    cr_expect(eq(int, cordon_policy_load_profile(p, "sibling", &vars, &err), 0));
    cr_expect(eq(str, p->rules[0].origin, "profile sibling"));
    cordon_policy_free(p);
    setenv("CORDON_PROFILES_DIR", "/nonexistent", 1);
    cr_expect(eq(int, cordon_profiles_dir(dir, sizeof dir), -ENOENT));
}

/* ---- write ------------------------------------------------------------------- */

static bool same_str(const char *a, const char *b) {
    return a == b || (a && b && strcmp(a, b) == 0);
}

static void assert_same_policy(const struct cordon_policy *a, const struct cordon_policy *b) {
    cr_assert(eq(sz, a->n_rules, b->n_rules));
    for (size_t i = 0; i < a->n_rules; i++) {
        const struct cordon_rule *x = &a->rules[i], *y = &b->rules[i];
        cr_expect(eq(int, (int)x->kind, (int)y->kind), "rule %zu", i);
        cr_expect(eq(str, x->path, y->path), "rule %zu", i);
        cr_expect(same_str(x->to, y->to), "rule %zu", i);
        cr_expect(same_str(x->why, y->why), "rule %zu: '%s' vs '%s'", i, x->why, y->why);
    }
    cr_assert(eq(sz, a->n_env, b->n_env));
    for (size_t i = 0; i < a->n_env; i++) {
        const struct cordon_env_rule *x = &a->env[i], *y = &b->env[i];
        cr_expect(eq(int, (int)x->op, (int)y->op));
        cr_expect(same_str(x->name, y->name));
        cr_expect(same_str(x->value, y->value));
        cr_expect(same_str(x->why, y->why));
    }
    cr_expect(eq(int, (int)a->home, (int)b->home));
    cr_expect(same_str(a->home_path, b->home_path));
    cr_expect(eq(int, a->network, b->network));
    cr_expect(same_str(a->description, b->description));
}

static struct cordon_policy *reload(const struct cordon_policy *p, char **ret_text) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert(f != NULL);
    cr_assert(eq(int, cordon_policy_write(p, f), 0));
    fclose(f);
    struct cordon_policy *back = cordon_policy_new();
    struct cordon_error err;
    char msg[PATH_MAX + 1024];
    int r = cordon_policy_load_string(back, text, "written", NULL, &vars, &err);
    cr_assert(eq(int, r, 0), "%s\n%s", cordon_error_format(&err, msg, sizeof msg), text);
    *ret_text = text;
    return back;
}

Test(replayer_policy, write_round_trips_every_builtin_profile) {
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(builtin); i++) {
        struct cordon_policy *p = cordon_policy_new();
        struct cordon_error err;
        cr_assert(eq(int, cordon_policy_load_profile(p, builtin[i], &vars, &err), 0));
        char *text;
        struct cordon_policy *back = reload(p, &text);
        assert_same_policy(p, back);
        cr_expect(strstr(text, "\ninclude ") == NULL, "includes are flattened");
        /* And the written form is a fixed point. */
        char *text2;
        struct cordon_policy *again = reload(back, &text2);
        cr_expect(eq(str, text, text2));
        free(text);
        free(text2);
        cordon_policy_free(p);
        cordon_policy_free(back);
        cordon_policy_free(again);
    }
}

Test(replayer_policy, write_quotes_what_needs_it) {
    struct cordon_policy *p = load("description  two  spaces \"and\\\\ a \\\"quote\\\"\"\n"
                                   "home \"/h o/me\"\n"
                                   "network off\n"
                                   "hide \"/a b\"   # why\n"
                                   "hide \"/#hash\"\n"
                                   "hide \"/lit\\${HOME}\"\n"
                                   "redirect \"/x\ty\" /dev/null\n"
                                   "hide \"/new\\nline\"\n"
                                   "clearenv # all\n"
                                   "keep \"A B\"\n"
                                   "set \"V=a b\" W= \"Q=\\\"\"\n");
    struct cordon_error err;
    cr_assert(eq(int, cordon_policy_add_rule(p, CORDON_RULE_RO, "\"", NULL, &vars, &err), 0));
    char *text;
    struct cordon_policy *back = reload(p, &text);
    assert_same_policy(p, back);
    cr_expect(eq(str, back->rules[5].path, "/work/tree/\""));
    cr_expect(eq(str, back->home_path, "/h o/me"));
    free(text);
    cordon_policy_free(back);
    cordon_policy_free(p);
}

/* ---- many rules ------------------------------------------------------------------ */

/* learn and the hook runner look up every path a build touches, so lookup
 * is indexed; this checks the index gives the same answers as the rules on
 * a large policy. Its speed is the bench's business, never a test's. */
Test(replayer_policy, lookup_in_a_large_policy) {
    struct cordon_policy *p = cordon_policy_new();
    struct cordon_error err;
    cr_assert(eq(int, cordon_policy_load_profile(p, "build", &vars, &err), 0));
    for (int i = 0; i < 2000; i++) {
        char path[64];
        snprintf(path, sizeof path, "/opt/pkg%04d/lib", i);
        cr_assert(eq(int, cordon_policy_add_rule(p, CORDON_RULE_RO, path, NULL, &vars, &err), 0));
    }
    static const char *const paths[] = {
        "/usr/include/x86_64-linux-gnu/bits/types/struct_timespec.h",
        "/work/tree/src/lib/deep/dir/file.c",
        "/home/u/.local/lib/python3.11/site-packages/x.pth",
        "/opt/pkg1234/lib/libz.so.1",
        "/etc/ld.so.cache",
    };
    size_t hits = 0;
    for (int i = 0; i < 1000; i++)
        hits += cordon_policy_lookup(p, paths[i % 5]) != NULL;
    cr_expect(eq(sz, hits, 1000));
    cr_expect(eq(str, (char *)kind_at(p, "/opt/pkg0000/lib/x/y"), "ro"));
    cr_expect(eq(str, (char *)kind_at(p, "/tmp/a"), "tmpfs"));
    cr_expect(eq(str, (char *)kind_at(p, "/opt/pkg1234/lib/libz.so.1"), "ro"));
    cordon_policy_free(p);
}

/* Rules appended by hand (not through the API) are still found. */
Test(replayer_policy, lookup_sees_rules_appended_by_hand) {
    struct cordon_policy *p = load("ro /\n");
    cr_assert(eq(int, cordon_grow((void **)&p->rules, &p->cap_rules, 2, sizeof *p->rules), 0));
    p->rules[1] = (struct cordon_rule){.kind = CORDON_RULE_HIDE, .path = strdup("/secret")};
    p->n_rules = 2;
    cr_expect(eq(str, (char *)kind_at(p, "/secret/x"), "hide"));
    cr_expect(eq(str, (char *)kind_at(p, "/other"), "ro"));
    cordon_policy_free(p);
}
