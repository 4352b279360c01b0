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
#include <stdio.h>
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

/* "MANAGER:NAME VERSION" for an owner; new, NULL on ENOMEM. */
static char *package_string(const struct cordon_owner *o) {
    char *s = NULL;
    int r = o->version ? asprintf(&s, "%s:%s %s", o->manager, o->name, o->version)
                       : asprintf(&s, "%s:%s", o->manager, o->name);
    return r < 0 ? NULL : s;
}

static bool shadows_declared(const struct cordon_classifier *c, const struct cordon_input *in);

int cordon_classify_manifest_owners(struct cordon_manifest *m, struct cordon_owners *owners) {
    const char *home = recorded_home(m);
    /* The one rule beyond the path rules that needs no knowledge base: a
     * library the loader took from a system directory while the work tree
     * has one of the same name (so that pack --drop system-library leaves
     * it out and a replay fails loudly instead of running the wrong one). */
    struct cordon_classifier *shadow = cordon_classifier_new(m, NULL, NULL, NULL);
    if (!shadow)
        return -ENOMEM;
    int res = 0;
    /* The paths that will be looked up, said first: the databases then
     * keep those alone (the lookup's cost was most of a short recording). */
    for (size_t i = 0; i < m->n_inputs && owners && res == 0; i++) {
        const struct cordon_input *in = &m->inputs[i];
        enum cordon_category cat = cordon_classify_path(in->path, home, m->worktree);
        if (!in->package && cat != CORDON_CAT_DECLARED && cat != CORDON_CAT_VIRTUAL &&
            in->type != CORDON_FT_MISSING && in->type != CORDON_FT_DIR)
            res = cordon_owners_want(owners, in->path);
    }
    for (size_t i = 0; i < m->n_inputs && res == 0; i++) {
        struct cordon_input *in = &m->inputs[i];
        enum cordon_category cat = cordon_classify_path(in->path, home, m->worktree);
        if (cat == CORDON_CAT_SYSTEM && shadows_declared(shadow, in))
            cat = CORDON_CAT_SYSTEM_LIBRARY;
        const char *name = cordon_category_name(cat);
        if (!in->category || strcmp(in->category, name) != 0) {
            char *c = strdup(name);
            if (!c) {
                res = -ENOMEM;
                break;
            }
            free(in->category);
            in->category = c;
        }
        /* Owners of what a package manager may own: not the work tree, not
         * the kernel's views, not what was not there. */
        if (!owners || in->package || cat == CORDON_CAT_DECLARED || cat == CORDON_CAT_VIRTUAL ||
            in->type == CORDON_FT_MISSING || in->type == CORDON_FT_DIR)
            continue;
        struct cordon_owner o;
        int r = cordon_owners_lookup(owners, in->path, &o);
        if (r < 0)
            res = r;
        else if (r > 0 && !(in->package = package_string(&o)))
            res = -ENOMEM;
    }
    cordon_classifier_free(shadow);
    return res;
}

int cordon_classify_manifest(struct cordon_manifest *m) {
    struct cordon_owners *owners = cordon_owners_new_host();
    if (!owners)
        return -ENOMEM;
    int r = cordon_classify_manifest_owners(m, owners);
    cordon_owners_free(owners);
    return r;
}

bool cordon_category_is_breach(enum cordon_category c) {
    return c >= 0 && c < CORDON_CAT_MAX && c != CORDON_CAT_DECLARED && c != CORDON_CAT_SYSTEM &&
           c != CORDON_CAT_VIRTUAL;
}

/* ---- classification for reports ------------------------------------------ */

struct cordon_classifier {
    const struct cordon_manifest *m;
    const struct cordon_kb *kb;
    struct cordon_owners *owners;
    char **declared;
    const char *home;
    /* Library stems ("libpython3.11") of libraries below a declared prefix
     * or the work tree: a system copy the loader picks instead shadows one. */
    struct cordon_map *declared_libs;
};

/* Directories the compiler searches for headers, the linker and loader for
 * libraries, by default. */
static const char *const include_dirs[] = {"/usr/include", "/usr/local/include"};
static const char *const library_dirs[] = {
    "/lib",       "/lib32",     "/lib64",      "/libx32",        "/usr/lib",
    "/usr/lib32", "/usr/lib64", "/usr/libx32", "/usr/local/lib", "/usr/local/lib64"};

/* `rest` after one of `dirs` when `path` is strictly below it. */
static const char *under_one(const char *path, const char *const *dirs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(dirs[i]);
        if (strncmp(path, dirs[i], k) == 0 && path[k] == '/' && path[k + 1])
            return path + k + 1;
    }
    return NULL;
}

static bool is_library_name(const char *b) {
    size_t n = strlen(b);
    return strncmp(b, "lib", 3) == 0 &&
           ((n > 3 && strcmp(b + n - 3, ".so") == 0) || (n > 2 && strcmp(b + n - 2, ".a") == 0) ||
            strstr(b, ".so."));
}

/* libz.so.1.3 -> libz, libm-2.36.a -> libm-2.36. */
static void library_stem(const char *b, char *out, size_t size) {
    size_t n = strlen(b);
    const char *so = strstr(b, ".so.");
    if (so)
        n = (size_t)(so - b);
    else if (n > 3 && strcmp(b + n - 3, ".so") == 0)
        n -= 3;
    else if (n > 2 && strcmp(b + n - 2, ".a") == 0)
        n -= 2;
    snprintf(out, size, "%.*s", (int)n, b);
}

static const char *base_of(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static bool is_declared(const struct cordon_classifier *c, const char *path) {
    for (size_t i = 0; c->declared && c->declared[i]; i++)
        if (cordon_path_under(path, c->declared[i]))
            return true;
    return false;
}

struct cordon_classifier *cordon_classifier_free(struct cordon_classifier *c) {
    if (!c)
        return NULL;
    cordon_strv_free(c->declared);
    cordon_map_free(c->declared_libs);
    free(c);
    return NULL;
}

struct cordon_classifier *cordon_classifier_new(const struct cordon_manifest *m,
                                                const struct cordon_kb *kb,
                                                struct cordon_owners *owners,
                                                char *const *declared) {
    struct cordon_classifier *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->m = m;
    c->kb = kb;
    c->owners = owners;
    c->home = recorded_home(m);
    size_t n = cordon_strv_length(declared);
    c->declared = calloc(n + 1, sizeof *c->declared);
    c->declared_libs = cordon_map_new(64);
    if (!c->declared || !c->declared_libs)
        return cordon_classifier_free(c);
    for (size_t i = 0; declared && i < n; i++) {
        char buf[4096];
        if (!(c->declared[i] = strdup(declared[i])))
            return cordon_classifier_free(c);
        if (declared[i][0] == '/' && strlen(declared[i]) < sizeof buf) {
            strcpy(buf, declared[i]);
            cordon_path_normalize(buf);
            strcpy(c->declared[i], buf);
        }
    }
    for (size_t i = 0; i < m->n_inputs; i++) {
        const struct cordon_input *in = &m->inputs[i];
        const char *b = base_of(in->path);
        if (in->type == CORDON_FT_MISSING || !is_library_name(b))
            continue;
        if (!is_declared(c, in->path) &&
            !(m->worktree && m->worktree[0] == '/' && strcmp(m->worktree, "/") != 0 &&
              cordon_path_under(in->path, m->worktree)))
            continue;
        char stem[256];
        library_stem(b, stem, sizeof stem);
        if (!cordon_map_get(c->declared_libs, stem) &&
            cordon_map_put(c->declared_libs, stem, in->path) < 0)
            return cordon_classifier_free(c);
    }
    return c;
}

/* Below an include directory: the C library's or the compiler's, or a
 * system header. */
static int header_category(struct cordon_classifier *c, const char *path, const char *rest,
                           enum cordon_category *ret) {
    *ret = CORDON_CAT_SYSTEM;
    if (c->kb && cordon_kb_toolchain_path(c->kb, path))
        return 0;
    struct cordon_owner o;
    int r = cordon_owners_lookup(c->owners, path, &o);
    if (r < 0)
        return r;
    bool toolchain = r > 0 ? (c->kb && cordon_kb_toolchain_package(c->kb, o.name))
                           : (c->kb && cordon_kb_libc_header(c->kb, rest));
    if (!toolchain)
        *ret = CORDON_CAT_SYSTEM_HEADER;
    return 0;
}

static int library_category(struct cordon_classifier *c, const struct cordon_input *in,
                            struct cordon_verdict *ret) {
    const char *b = base_of(in->path);
    ret->category = CORDON_CAT_SYSTEM;
    if (!is_library_name(b) || (c->kb && cordon_kb_toolchain_path(c->kb, in->path)))
        return 0;
    char stem[256];
    library_stem(b, stem, sizeof stem);
    /* The loader picked this copy although a declared prefix has one of the
     * same name (Spack #20159: the system libpython before the prefix's). */
    const char *shadowed = cordon_map_get(c->declared_libs, stem);
    if (shadowed && in->uses & CORDON_USE_LOAD) {
        ret->category = CORDON_CAT_SYSTEM_LIBRARY;
        ret->shadowed = shadowed;
        return 0;
    }
    /* A versioned name is what the loader opens to run a program: the
     * tools' own runtime, not an input of the build. The linker reads the
     * unversioned name or the archive: what a build links against. */
    if (strstr(b, ".so.") || !(in->uses & CORDON_USE_READ))
        return 0;
    struct cordon_owner o;
    int r = cordon_owners_lookup(c->owners, in->path, &o);
    if (r < 0)
        return r;
    bool toolchain = r > 0 ? (c->kb && cordon_kb_toolchain_package(c->kb, o.name))
                           : (c->kb && cordon_kb_libc_library(c->kb, stem));
    if (!toolchain)
        ret->category = CORDON_CAT_SYSTEM_LIBRARY;
    return 0;
}

static bool shadows_declared(const struct cordon_classifier *c, const struct cordon_input *in) {
    const char *b = base_of(in->path);
    if (!(in->uses & CORDON_USE_LOAD) || in->type == CORDON_FT_MISSING || !is_library_name(b) ||
        !under_one(in->path, library_dirs, CORDON_ARRAY_SIZE(library_dirs)))
        return false;
    char stem[256];
    library_stem(b, stem, sizeof stem);
    return cordon_map_get(c->declared_libs, stem) != NULL;
}

int cordon_classify_input(struct cordon_classifier *c, const struct cordon_input *in,
                          struct cordon_verdict *ret) {
    *ret = (struct cordon_verdict){.category = CORDON_CAT_UNDECLARED};
    const char *path = in->path;
    enum cordon_category builtin = cordon_classify_path(path, c->home, c->m->worktree);
    if (builtin == CORDON_CAT_VIRTUAL || builtin == CORDON_CAT_DECLARED || is_declared(c, path)) {
        ret->category = builtin == CORDON_CAT_VIRTUAL ? builtin : CORDON_CAT_DECLARED;
        return 0;
    }
    if (c->kb) {
        const struct cordon_kb_entry *e = cordon_kb_match(c->kb, path, &ret->anchor_len);
        if (e) {
            ret->category = e->category;
            ret->entry = e;
            return 0;
        }
    }
    ret->category = builtin;
    if (builtin != CORDON_CAT_SYSTEM || in->type == CORDON_FT_MISSING)
        return 0;
    const char *rest = under_one(path, include_dirs, CORDON_ARRAY_SIZE(include_dirs));
    if (rest)
        return header_category(c, path, rest, &ret->category);
    if (under_one(path, library_dirs, CORDON_ARRAY_SIZE(library_dirs)))
        return library_category(c, in, ret);
    return 0;
}
