/* Classification of inputs into categories, by built-in path rules.
 *
 * "DIR/..." is DIR and everything below it. The rules, first match wins
 * (HOME is the recording's, W the work tree):
 *   virtual        /proc, /sys, /dev and everything below them
 *   declared       W and everything below it
 *   credentials    /etc/ssh/ssh_host_*, /run/user/N/{gnupg,keyring,gcr}/...,
 *                  /run/user/N/ssh-agent*, /run/user/N/bus, /tmp/ssh-XXX/agent.N
 *   below HOME (the table `home_rules`):
 *     user-config  ~/.ssh/config, ~/.ssh/known_hosts (before the rest of ~/.ssh)
 *     credentials  ~/.ssh/..., ~/.gnupg/private-keys-v1.d/..., ~/.gnupg/secring.gpg,
 *                  ~/.gnupg/S.* (agent sockets), ~/.netrc, ~/_netrc, ~/.pgpass,
 *                  ~/.git-credentials, ~/.git-credential-cache/..., ~/.aws/..., ~/.azure/...,
 *                  ~/.kube/..., ~/.docker/config.json, ~/.npmrc, ~/.pypirc,
 *                  ~/.cargo/credentials{,.toml}, ~/.gem/credentials,
 *                  ~/.m2/settings-security.xml, ~/.config/gh/hosts.yml,
 *                  ~/.config/git/credentials, ~/.config/containers/auth.json,
 *                  ~/.config/gcloud/..., ~/.local/share/keyrings/...,
 *                  ~/.local/share/python_keyring/..., ~/.cache/git/credential/...
 *     cache        ~/.cache/..., ~/.ccache/..., ~/.npm/_cacache/...
 *     user-package-registry  ~/.cmake/packages/...
 *     user-site-packages     ~/.local/lib/pythonX.Y/site-packages/...
 *     user-config  ~/.gnupg/... (the rest), ~/.config/..., ~/.docker/..., and any
 *                  dot-entry directly in HOME (~/.gitconfig, ~/.bashrc, ~/.vimrc)
 *     undeclared-read  anything else below HOME, HOME itself included
 *   site-config    /etc/gitconfig, /etc/gitattributes, /etc/pip.conf, /etc/npmrc,
 *                  /etc/wgetrc, /etc/xdg/...
 *   system-header  /usr/local/include/...
 *   system-library /usr/local/lib/..., /usr/local/lib64/...
 *   undeclared-read  the rest of /usr/local, /opt/...
 *   system         /, /usr/..., /lib* (lib, lib64, lib32, libx32), /bin/..., /sbin/..., /etc/...
 *   undeclared-read  everything else (/tmp, /var, /srv, /home of other users, ...)
 * These agree with the knowledge base (the knowledge directory) where both speak;
 * the knowledge base adds the explanations. A HOME of "/" is ignored.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include <cordon/classify.h>
#include <cordon/manifest.h>
#include <cordon/util.h>

static const char *const category_names[CORDON_CAT_MAX] = {
#define CORDON_CAT_NAME(id, name) [CORDON_CAT_##id] = name,
    CORDON_CATEGORIES(CORDON_CAT_NAME)
#undef CORDON_CAT_NAME
};

const char *cordon_category_name(enum cordon_category c) {
    if ((int)c < 0 || c >= CORDON_CAT_MAX)
        return NULL;
    return category_names[c];
}

enum cordon_category cordon_category_from_name(const char *name) {
    if (!name)
        return CORDON_CAT_INVALID;
    for (int i = 0; i < CORDON_CAT_MAX; i++)
        if (strcmp(name, category_names[i]) == 0)
            return (enum cordon_category)i;
    return CORDON_CAT_INVALID;
}

struct rule {
    /* fnmatch(3) with FNM_PATHNAME; a final slash-star-star matches the
     * directory itself and everything below it. */
    const char *pattern;
    enum cordon_category cat;
};

/* True if `rel` matches `pattern`. */
static bool match(const char *pattern, const char *rel) {
    size_t pn = strlen(pattern);
    if (pn >= 3 && strcmp(pattern + pn - 3, "/**") == 0) {
        /* Compare the prefix against as many leading components of `rel`. */
        char prefix[256], head[4096];
        if (pn - 3 >= sizeof prefix)
            return false;
        memcpy(prefix, pattern, pn - 3);
        prefix[pn - 3] = '\0';
        size_t comps = 1;
        for (const char *c = prefix; *c; c++)
            comps += *c == '/';
        const char *end = rel;
        for (size_t i = 0; i < comps; i++) {
            end = strchrnul(end, '/');
            if (i + 1 < comps) {
                if (!*end)
                    return false;
                end++;
            }
        }
        size_t hn = (size_t)(end - rel);
        if (hn >= sizeof head)
            return false;
        memcpy(head, rel, hn);
        head[hn] = '\0';
        return fnmatch(prefix, head, FNM_PATHNAME) == 0;
    }
    return fnmatch(pattern, rel, FNM_PATHNAME) == 0;
}

static enum cordon_category first_match(const struct rule *rules, size_t n, const char *rel,
                                        enum cordon_category dflt) {
    for (size_t i = 0; i < n; i++)
        if (match(rules[i].pattern, rel))
            return rules[i].cat;
    return dflt;
}

/* Relative to HOME, without the leading "/". */
static const struct rule home_rules[] = {
    {".ssh/config", CORDON_CAT_USER_CONFIG},
    {".ssh/known_hosts", CORDON_CAT_USER_CONFIG},
    {".ssh/**", CORDON_CAT_CREDENTIALS},
    {".gnupg/private-keys-v1.d/**", CORDON_CAT_CREDENTIALS},
    {".gnupg/secring.gpg", CORDON_CAT_CREDENTIALS},
    {".gnupg/S.*", CORDON_CAT_CREDENTIALS},
    {".gnupg/**", CORDON_CAT_USER_CONFIG},
    {".netrc", CORDON_CAT_CREDENTIALS},
    {"_netrc", CORDON_CAT_CREDENTIALS},
    {".pgpass", CORDON_CAT_CREDENTIALS},
    {".git-credentials", CORDON_CAT_CREDENTIALS},
    {".git-credential-cache/**", CORDON_CAT_CREDENTIALS},
    {".aws/**", CORDON_CAT_CREDENTIALS},
    {".azure/**", CORDON_CAT_CREDENTIALS},
    {".kube/**", CORDON_CAT_CREDENTIALS},
    {".docker/config.json", CORDON_CAT_CREDENTIALS},
    {".npmrc", CORDON_CAT_CREDENTIALS},
    {".pypirc", CORDON_CAT_CREDENTIALS},
    {".cargo/credentials", CORDON_CAT_CREDENTIALS},
    {".cargo/credentials.toml", CORDON_CAT_CREDENTIALS},
    {".gem/credentials", CORDON_CAT_CREDENTIALS},
    {".m2/settings-security.xml", CORDON_CAT_CREDENTIALS},
    {".config/gh/hosts.yml", CORDON_CAT_CREDENTIALS},
    {".config/git/credentials", CORDON_CAT_CREDENTIALS},
    {".config/containers/auth.json", CORDON_CAT_CREDENTIALS},
    {".config/gcloud/**", CORDON_CAT_CREDENTIALS},
    {".local/share/keyrings/**", CORDON_CAT_CREDENTIALS},
    {".local/share/python_keyring/**", CORDON_CAT_CREDENTIALS},
    {".cache/git/credential/**", CORDON_CAT_CREDENTIALS},
    {".cache/**", CORDON_CAT_CACHE},
    {".ccache/**", CORDON_CAT_CACHE},
    {".npm/_cacache/**", CORDON_CAT_CACHE},
    {".cmake/packages/**", CORDON_CAT_USER_PACKAGE_REGISTRY},
    {".local/lib/python*/site-packages/**", CORDON_CAT_USER_SITE_PACKAGES},
    {".config/**", CORDON_CAT_USER_CONFIG},
    {".docker/**", CORDON_CAT_USER_CONFIG},
    {".*", CORDON_CAT_USER_CONFIG}, /* a dot-entry directly in HOME */
};

/* Absolute, without the leading "/"; after HOME's rules. */
static const struct rule system_rules[] = {
    {"etc/ssh/ssh_host_*", CORDON_CAT_CREDENTIALS},
    {"run/user/*/gnupg/**", CORDON_CAT_CREDENTIALS},
    {"run/user/*/keyring/**", CORDON_CAT_CREDENTIALS},
    {"run/user/*/gcr/**", CORDON_CAT_CREDENTIALS},
    {"run/user/*/ssh-agent*", CORDON_CAT_CREDENTIALS},
    {"run/user/*/bus", CORDON_CAT_CREDENTIALS},
    {"tmp/ssh-*/agent.*", CORDON_CAT_CREDENTIALS},
    {"etc/gitconfig", CORDON_CAT_SITE_CONFIG},
    {"etc/gitattributes", CORDON_CAT_SITE_CONFIG},
    {"etc/pip.conf", CORDON_CAT_SITE_CONFIG},
    {"etc/npmrc", CORDON_CAT_SITE_CONFIG},
    {"etc/wgetrc", CORDON_CAT_SITE_CONFIG},
    {"etc/xdg/**", CORDON_CAT_SITE_CONFIG},
    {"usr/local/include/**", CORDON_CAT_SYSTEM_HEADER},
    {"usr/local/lib/**", CORDON_CAT_SYSTEM_LIBRARY},
    {"usr/local/lib64/**", CORDON_CAT_SYSTEM_LIBRARY},
    {"usr/local/**", CORDON_CAT_UNDECLARED},
    {"opt/**", CORDON_CAT_UNDECLARED},
    {"usr/**", CORDON_CAT_SYSTEM},
    {"lib*/**", CORDON_CAT_SYSTEM},
    {"bin/**", CORDON_CAT_SYSTEM},
    {"sbin/**", CORDON_CAT_SYSTEM},
    {"etc/**", CORDON_CAT_SYSTEM},
};

enum cordon_category cordon_classify_path(const char *path, const char *home,
                                          const char *worktree) {
    if (!path || path[0] != '/')
        return CORDON_CAT_UNDECLARED;
    if (cordon_path_is_virtual(path))
        return CORDON_CAT_VIRTUAL;
    bool in_worktree = worktree && worktree[0] == '/' && cordon_path_under(path, worktree);
    char h[4096];
    if (home && home[0] == '/' && strlen(home) < sizeof h) {
        strcpy(h, home);
        home = cordon_path_normalize(h) > 1 ? h : NULL;
    } else {
        home = NULL;
    }
    if (home && cordon_path_under(path, home)) {
        size_t n = strlen(home);
        if (!path[n])
            return in_worktree ? CORDON_CAT_DECLARED : CORDON_CAT_UNDECLARED; /* HOME itself */
        /* The user's configuration, credentials and caches stay what they
         * are even when the work tree holds HOME (or HOME the work tree). */
        enum cordon_category c = first_match(home_rules, CORDON_ARRAY_SIZE(home_rules),
                                             path + n + 1, CORDON_CAT_INVALID);
        if (c != CORDON_CAT_INVALID)
            return c;
        return in_worktree ? CORDON_CAT_DECLARED : CORDON_CAT_UNDECLARED;
    }
    if (in_worktree)
        return CORDON_CAT_DECLARED;
    if (!path[1])
        return CORDON_CAT_SYSTEM;
    return first_match(system_rules, CORDON_ARRAY_SIZE(system_rules), path + 1,
                       CORDON_CAT_UNDECLARED);
}

/* HOME as the recording saw it: from the command's environment. */
static const char *recorded_home(const struct cordon_manifest *m) {
    for (size_t i = 0; m->command.env && m->command.env[i]; i++)
        if (strncmp(m->command.env[i], "HOME=", 5) == 0)
            return m->command.env[i] + 5;
    return NULL;
}

int cordon_classify_manifest(struct cordon_manifest *m) {
    const char *home = recorded_home(m);
    for (size_t i = 0; i < m->n_inputs; i++) {
        struct cordon_input *in = &m->inputs[i];
        const char *name = cordon_category_name(cordon_classify_path(in->path, home, m->worktree));
        if (in->category && strcmp(in->category, name) == 0)
            continue;
        char *c = strdup(name);
        if (!c)
            return -ENOMEM;
        free(in->category);
        in->category = c;
    }
    return 0;
}
