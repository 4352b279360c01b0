/* libFuzzer: any text given to the policy parser must give a policy or an
 * error that says why and where, never a crash; a policy that loads must
 * write, the written text must load again, and writing that must give the
 * same bytes (write's form is a fixed point). Lookups of the rules' own
 * paths must find a rule. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cordon/error.h>
#include <cordon/policy.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fixed, so that a run does not depend on the fuzzing machine's HOME or
 * cwd; relative includes are looked for in a directory that does not
 * exist. */
static const struct cordon_policy_vars vars = {
    .home = "/home/fuzz",
    .xdg_config_home = "/home/fuzz/.config",
    .xdg_cache_home = "/home/fuzz/.cache",
    .xdg_data_home = "/home/fuzz/.local/share",
    .xdg_state_home = "/home/fuzz/.local/state",
    .cwd = "/nonexistent/fuzz",
    .uid = "1000",
};

static char *write_policy(const struct cordon_policy *p) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        abort();
    if (cordon_policy_write(p, f) < 0)
        abort();
    fclose(f);
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct cordon_error err;
    struct cordon_policy *p = cordon_policy_new();
    int r = cordon_policy_load_string(p, text, "fuzz", "/nonexistent/fuzz", &vars, &err);
    free(text);
    if (r < 0) {
        if (!err.text[0] || !err.path[0])
            abort(); /* every failure must say why and where */
        cordon_policy_free(p);
        return 0;
    }
    for (size_t i = 0; i < p->n_rules; i++) {
        const struct cordon_rule *rule = cordon_policy_lookup(p, p->rules[i].path);
        if (!rule || strcmp(rule->path, p->rules[i].path) != 0)
            abort(); /* a rule's own path is decided by a rule on that path */
    }
    char *a = write_policy(p);
    struct cordon_policy *back = cordon_policy_new();
    if (cordon_policy_load_string(back, a, "written", NULL, &vars, &err) < 0) {
        fprintf(stderr, "the written policy does not load: %s (line %d)\n%s\n", err.text, err.line,
                a);
        abort();
    }
    if (back->n_rules != p->n_rules || back->n_env != p->n_env) {
        fprintf(stderr, "the written policy has other rules:\n%s\n", a);
        abort();
    }
    char *b = write_policy(back);
    if (strcmp(a, b) != 0) {
        fprintf(stderr, "the written form is not a fixed point:\n%s\n---\n%s\n", a, b);
        abort();
    }
    char **env = NULL;
    char *envp[] = {"PATH=/bin", "HOME=/home/fuzz", "GIT_DIR=/x", NULL};
    if (cordon_policy_apply_env(p, envp, "/fresh", &env) == 0) {
        for (size_t i = 0; env[i]; i++)
            free(env[i]);
        free(env);
    }
    free(a);
    free(b);
    cordon_policy_free(p);
    cordon_policy_free(back);
    return 0;
}
