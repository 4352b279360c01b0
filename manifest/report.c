/* cordon report: classify a manifest's inputs and outputs, explain the
 * breaches, and write them as text, Markdown or JSON (HTML: report_html.c).
 *
 * A breach is an input that exists and is neither declared (the work tree,
 * --declare prefixes) nor the system's (the distribution's files, the C
 * library and the compiler), or an output written outside the work tree and
 * the scratch directories. The explanation and the fix come from the
 * knowledge base where an entry matches, else from the category. Owners are
 * looked up for breaches and for the system files (the packages section,
 * which `diff` compares across hosts).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cordon/error.h>
#include <cordon/manifest.h>
#include <cordon/report.h>
#include <cordon/util.h>

/* ---- steering variables ---------------------------------------------------- */

bool cordon_report_env_steers(const char *name) {
    /* Search paths, compilers and flags, tool configuration: what decides
     * where a build looks for its inputs and how it builds them. */
    static const char *const names[] = {"PATH",
                                        "LD_LIBRARY_PATH",
                                        "LD_PRELOAD",
                                        "LD_RUN_PATH",
                                        "LIBRARY_PATH",
                                        "CPATH",
                                        "C_INCLUDE_PATH",
                                        "CPLUS_INCLUDE_PATH",
                                        "OBJC_INCLUDE_PATH",
                                        "PKG_CONFIG_PATH",
                                        "PKG_CONFIG_LIBDIR",
                                        "PKG_CONFIG_SYSROOT_DIR",
                                        "CMAKE_PREFIX_PATH",
                                        "CMAKE_MODULE_PATH",
                                        "ACLOCAL_PATH",
                                        "PYTHONPATH",
                                        "PYTHONHOME",
                                        "PYTHONUSERBASE",
                                        "PYTHONNOUSERSITE",
                                        "PYTHONSTARTUP",
                                        "PERL5LIB",
                                        "PERLLIB",
                                        "RUBYLIB",
                                        "GEM_HOME",
                                        "GEM_PATH",
                                        "NODE_PATH",
                                        "R_LIBS",
                                        "R_LIBS_USER",
                                        "R_LIBS_SITE",
                                        "CC",
                                        "CXX",
                                        "CPP",
                                        "FC",
                                        "F77",
                                        "LD",
                                        "AR",
                                        "AS",
                                        "NM",
                                        "RANLIB",
                                        "STRIP",
                                        "CFLAGS",
                                        "CXXFLAGS",
                                        "CPPFLAGS",
                                        "FFLAGS",
                                        "FCFLAGS",
                                        "LDFLAGS",
                                        "LIBS",
                                        "MAKEFLAGS",
                                        "RUSTFLAGS",
                                        "GOPATH",
                                        "GOFLAGS",
                                        "GOROOT",
                                        "JAVA_HOME",
                                        "CLASSPATH",
                                        "SOURCE_DATE_EPOCH",
                                        "CCACHE_DIR",
                                        "DISTCC_HOSTS",
                                        "GNUPGHOME",
                                        "XDG_CONFIG_HOME",
                                        "XDG_CACHE_HOME",
                                        "XDG_DATA_HOME",
                                        "XDG_CONFIG_DIRS",
                                        "XDG_DATA_DIRS",
                                        "SSL_CERT_FILE",
                                        "SSL_CERT_DIR",
                                        "REQUESTS_CA_BUNDLE",
                                        "CURL_CA_BUNDLE",
                                        "http_proxy",
                                        "https_proxy",
                                        "HTTP_PROXY",
                                        "HTTPS_PROXY",
                                        "NETRC",
                                        "DOCKER_CONFIG",
                                        "CONDA_PREFIX",
                                        "VIRTUAL_ENV"};
    static const char *const prefixes[] = {
        "GIT_",   "PIP_",   "NPM_CONFIG_", "npm_config_", "CARGO_",  "RUSTUP_", "SPACK_",
        "CMAKE_", "PYTHON", "CONDA_",      "UV_",         "POETRY_", "MAVEN_",  "GRADLE_"};
    static const char *const suffixes[] = {"_ROOT", "_DIR", "_HOME"};
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(names); i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(prefixes); i++)
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    size_t n = strlen(name);
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(suffixes); i++) {
        size_t k = strlen(suffixes[i]);
        if (n > k && strcmp(name + n - k, suffixes[i]) == 0 && strcmp(name, "HOME") != 0)
            return true;
    }
    return false;
}

/* ---- processes ---------------------------------------------------------- */

static const struct cordon_process *find_proc(const struct cordon_manifest *m, int pid) {
    size_t lo = 0, hi = m->n_processes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->processes[mid].pid == pid)
            return &m->processes[mid];
        if (m->processes[mid].pid < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const char *proc_name(const struct cordon_process *p, char *buf, size_t size) {
    /* argv[0] names the program as the build called it (gcc, not
     * x86_64-linux-gnu-gcc-12); the executable when there is none. */
    const char *e = p->argv && p->argv[0] && *p->argv[0] ? p->argv[0]
                    : p->exe && *p->exe                  ? p->exe
                                                         : NULL;
    if (!e) {
        snprintf(buf, size, "%d", p->pid);
        return buf;
    }
    const char *s = strrchr(e, '/');
    return s && s[1] ? s + 1 : e;
}

const char *cordon_report_ancestry(const struct cordon_report *r, int pid, char *out, size_t size) {
    const struct cordon_process *chain[64];
    size_t n = 0;
    for (const struct cordon_process *p = find_proc(r->m, pid); p && n < CORDON_ARRAY_SIZE(chain);
         p = p->ppid != p->pid ? find_proc(r->m, p->ppid) : NULL)
        chain[n++] = p;
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    if (n == CORDON_ARRAY_SIZE(chain))
        cordon_strbuf_adds(&sb, "... > ");
    for (size_t i = n; i-- > 0;) {
        char buf[16];
        cordon_strbuf_adds(&sb, proc_name(chain[i], buf, sizeof buf));
        if (i)
            cordon_strbuf_adds(&sb, " > ");
    }
    if (n == 0) {
        if (pid)
            cordon_strbuf_addf(&sb, "pid %d", pid);
        else
            cordon_strbuf_adds(&sb, "an unknown process");
    }
    snprintf(out, size, "%s", sb.failed ? "" : sb.buf);
    cordon_strbuf_release(&sb);
    return out;
}

/* ---- building ------------------------------------------------------------- */

static const char *use_word(unsigned uses) {
    if (uses & CORDON_USE_EXEC)
        return "exec";
    if (uses & CORDON_USE_LOAD)
        return "load";
    if (uses & CORDON_USE_READ)
        return "read";
    if (uses & CORDON_USE_LIST)
        return "list";
    if (uses & CORDON_USE_READLINK)
        return "readlink";
    return "stat";
}

static const char *default_tool(enum cordon_category c, const char *path) {
    switch (c) {
    case CORDON_CAT_SYSTEM_HEADER:
        return "cc";
    case CORDON_CAT_SYSTEM_LIBRARY: {
        size_t n = strlen(path);
        return (n > 3 && strcmp(path + n - 3, ".so") == 0) || (n > 2 && !strcmp(path + n - 2, ".a"))
                   ? "ld"
                   : "ld.so";
    }
    case CORDON_CAT_DECLARED:
    case CORDON_CAT_SYSTEM:
    case CORDON_CAT_USER_CONFIG:
    case CORDON_CAT_SITE_CONFIG:
    case CORDON_CAT_CREDENTIALS:
    case CORDON_CAT_CACHE:
    case CORDON_CAT_USER_PACKAGE_REGISTRY:
    case CORDON_CAT_USER_SITE_PACKAGES:
    case CORDON_CAT_UNDECLARED:
    case CORDON_CAT_VIRTUAL:
    case CORDON_CAT_WRITE_OUTSIDE:
    case CORDON_CAT_MAX:
    case CORDON_CAT_INVALID:
    default:
        return "build";
    }
}

/* "zlib1g-dev 1:1.2.13.dfsg-1 (dpkg)" or "no package". */
static void owner_words(const struct cordon_report_breach *b, char *out, size_t size) {
    if (!b->has_owner) {
        snprintf(out, size, "no package");
        return;
    }
    char o[300];
    snprintf(out, size, "%s (%s)", cordon_owner_format(&b->owner, o, sizeof o), b->owner.manager);
}

/* The explanation of a breach no knowledge-base entry describes. */
static char *explain(const struct cordon_report_breach *b, const char *shadowed) {
    char *s = NULL;
    char own[400];
    owner_words(b, own, sizeof own);
    const char *p = b->path;
    int r = -1;
    switch (b->category) {
    case CORDON_CAT_SYSTEM_HEADER:
        if (b->has_owner)
            r = asprintf(&s,
                         "the compiler found this header in the default include path; it belongs "
                         "to %s, a system package the build does not declare, so the result "
                         "depends on whether and in which version this machine has it.",
                         own);
        else
            r = asprintf(&s,
                         "the compiler found %s in the default include path; it is not part of "
                         "the C library or the compiler and no package manager owns it, so the "
                         "build uses a header installed by hand on this machine.",
                         p);
        break;
    case CORDON_CAT_SYSTEM_LIBRARY:
        if (shadowed)
            r = asprintf(&s,
                         "the dynamic loader found %s (%s) in a default library directory before "
                         "the declared %s of the same name, so the program runs against this "
                         "machine's copy instead of the one it was built with.",
                         p, own, shadowed);
        else if (!b->has_owner)
            r = asprintf(&s,
                         "%s was used from a default library directory; no package manager owns "
                         "it, so it was installed by hand on this machine.",
                         p);
        else
            r = asprintf(&s,
                         "the linker used this library from a default library directory; it "
                         "belongs to %s, a system package the build does not declare, so what "
                         "gets linked depends on this machine.",
                         own);
        break;
    case CORDON_CAT_USER_CONFIG:
        r = asprintf(&s,
                     "a program read %s, per-user configuration that changes what it does and "
                     "exists only for this user on this machine.",
                     p);
        break;
    case CORDON_CAT_SITE_CONFIG:
        r = asprintf(&s,
                     "a program read %s, configuration this machine's administrator set, so the "
                     "build behaves differently on another machine.",
                     p);
        break;
    case CORDON_CAT_CREDENTIALS:
        r = asprintf(&s,
                     "a program read %s, a secret of this user: the build succeeds only with "
                     "these credentials, and an archive of it would leak them.",
                     p);
        break;
    case CORDON_CAT_CACHE:
        r = asprintf(&s,
                     "a program reused %s from an earlier run's cache, so the result depends "
                     "on what ran on this machine before.",
                     p);
        break;
    case CORDON_CAT_USER_PACKAGE_REGISTRY:
        r = asprintf(&s,
                     "a tool found a package through %s, the user's package registry, so a "
                     "dependency may come from a stale or unrelated build.",
                     p);
        break;
    case CORDON_CAT_USER_SITE_PACKAGES:
        r = asprintf(&s,
                     "%s was installed for this user outside any declared environment and is "
                     "found by default, so the build uses packages only this user has.",
                     p);
        break;
    case CORDON_CAT_WRITE_OUTSIDE:
        r = asprintf(&s,
                     "the build wrote %s, outside its work tree and the scratch directories, "
                     "which changes the host (under a sandbox the write fails).",
                     p);
        break;
    case CORDON_CAT_UNDECLARED:
    case CORDON_CAT_DECLARED:
    case CORDON_CAT_SYSTEM:
    case CORDON_CAT_VIRTUAL:
    case CORDON_CAT_MAX:
    case CORDON_CAT_INVALID:
    default:
        if (b->has_owner)
            r = asprintf(&s,
                         "%s was read although nothing declares it (it belongs to %s), so the "
                         "build depends on a file that would not exist elsewhere.",
                         p, own);
        else
            r = asprintf(&s,
                         "%s was read although nothing declares it, so the build depends on a "
                         "file that would not exist elsewhere.",
                         p);
        break;
    }
    return r < 0 ? NULL : s;
}

/* A fix for a breach without a knowledge-base entry: a policy line. */
static char *default_fix(const struct cordon_kb *kb, const struct cordon_report_breach *b) {
    char abs[PATH_MAX], area[PATH_MAX];
    cordon_kb_abstract_path(kb, b->path, abs, sizeof abs);
    char *s = NULL;
    int r;
    switch (b->category) {
    case CORDON_CAT_SYSTEM_HEADER: {
        /* The header's top-level name: /usr/include/foo/bar.h -> /usr/include/foo. */
        const char *inc = strncmp(b->path, "/usr/local/include/", 19) == 0 ? "/usr/local/include"
                                                                           : "/usr/include";
        const char *rest = b->path + strlen(inc) + 1;
        size_t n = strcspn(rest, "/");
        if (rest[n] && (memmem(rest, n, "-linux-", 7) != NULL))
            n += 1 + strcspn(rest + n + 1, "/");
        snprintf(area, sizeof area, "%s/%.*s", inc, (int)n, rest);
        r = asprintf(&s, "hide %s", area);
        break;
    }
    case CORDON_CAT_WRITE_OUTSIDE: {
        snprintf(area, sizeof area, "%s", abs);
        char *slash = strrchr(area, '/');
        if (slash && slash != area)
            *slash = '\0';
        r = asprintf(&s, "tmpfs %s", area);
        break;
    }
    case CORDON_CAT_UNDECLARED:
        r = asprintf(&s, "ro %s", abs);
        break;
    case CORDON_CAT_DECLARED:
    case CORDON_CAT_SYSTEM:
    case CORDON_CAT_USER_CONFIG:
    case CORDON_CAT_SITE_CONFIG:
    case CORDON_CAT_CREDENTIALS:
    case CORDON_CAT_CACHE:
    case CORDON_CAT_USER_PACKAGE_REGISTRY:
    case CORDON_CAT_USER_SITE_PACKAGES:
    case CORDON_CAT_SYSTEM_LIBRARY:
    case CORDON_CAT_VIRTUAL:
    case CORDON_CAT_MAX:
    case CORDON_CAT_INVALID:
    default:
        r = asprintf(&s, "hide %s", abs);
        break;
    }
    return r < 0 ? NULL : s;
}

static int breach_cmp(const void *pa, const void *pb) {
    const struct cordon_report_breach *a = pa, *b = pb;
    int c = strcmp(cordon_category_name(a->category), cordon_category_name(b->category));
    if (c)
        return c;
    if ((c = strcmp(a->group, b->group)))
        return c;
    return strcmp(a->path, b->path);
}

static int package_cmp(const void *pa, const void *pb) {
    const struct cordon_report_package *a = pa, *b = pb;
    int c = strcmp(a->manager, b->manager);
    if (c)
        return c;
    if ((c = strcmp(a->name, b->name)))
        return c;
    return strcmp(a->version ? a->version : "", b->version ? b->version : "");
}

static bool is_scratch(const char *p) {
    return cordon_path_under(p, "/tmp") || cordon_path_under(p, "/var/tmp") ||
           cordon_path_under(p, "/dev/shm") || cordon_path_is_virtual(p);
}

struct builder {
    struct cordon_report *r;
    struct cordon_kb *kb;
    struct cordon_map *pkgs; /* "manager\tname\tversion" -> index+1 */
    struct cordon_report_package *pv;
    size_t pn, pcap;
};

static int count_package(struct builder *bd, const struct cordon_owner *o) {
    char key[600];
    snprintf(key, sizeof key, "%s\t%s\t%s", o->manager, o->name, o->version ? o->version : "");
    uintptr_t idx = (uintptr_t)cordon_map_get(bd->pkgs, key);
    if (idx) {
        bd->pv[idx - 1].files++;
        return 0;
    }
    if (cordon_grow((void **)&bd->pv, &bd->pcap, bd->pn + 1, sizeof *bd->pv) < 0)
        return -ENOMEM;
    bd->pv[bd->pn++] = (struct cordon_report_package){o->manager, o->name, o->version, 1};
    return cordon_map_put(bd->pkgs, key, (void *)(uintptr_t)bd->pn);
}

static int add_breach(struct builder *bd, const char *path, enum cordon_category cat,
                      const struct cordon_verdict *v, unsigned uses, const char *use, int pid,
                      const struct cordon_owner *owner) {
    struct cordon_report *r = bd->r;
    if (cordon_grow((void **)&r->breaches, &r->cap_breaches, r->n_breaches + 1,
                    sizeof *r->breaches) < 0)
        return -ENOMEM;
    struct cordon_report_breach *b = &r->breaches[r->n_breaches];
    *b = (struct cordon_report_breach){.path = path, .category = cat, .use = use, .pid = pid};
    (void)uses;
    if (owner) {
        b->has_owner = true;
        b->owner = *owner;
    }
    const struct cordon_kb_entry *e = v ? v->entry : NULL;
    if (e && cat == CORDON_CAT_WRITE_OUTSIDE) {
        /* A write where a tool keeps its files: a tmpfs over the area the
         * entry names (else the file's directory), and why the tool cares. */
        char area[PATH_MAX], abs[PATH_MAX];
        snprintf(area, sizeof area, "%.*s", (int)v->anchor_len, path);
        if (strcmp(area, path) == 0) {
            char *slash = strrchr(area, '/');
            if (slash && slash != area)
                *slash = '\0';
        }
        cordon_kb_abstract_path(bd->kb, area, abs, sizeof abs);
        char *base = explain(b, NULL);
        b->tool = e->tool;
        b->pattern = e->pattern;
        if (asprintf(&b->fix, "tmpfs %s", abs) < 0)
            b->fix = NULL;
        if (!base ||
            asprintf(&b->explanation, "%.*s; %s", (int)strlen(base) - 1, base, e->explanation) < 0)
            b->explanation = NULL;
        free(base);
    } else if (e) {
        char matched[PATH_MAX];
        snprintf(matched, sizeof matched, "%.*s", (int)v->anchor_len, path);
        b->tool = e->tool;
        b->pattern = e->pattern;
        b->fix = cordon_kb_fix(bd->kb, e->fix, matched);
        b->explanation = strdup(e->explanation);
    } else {
        b->tool = default_tool(cat, path);
        b->fix = default_fix(bd->kb, b);
        b->explanation = explain(b, v ? v->shadowed : NULL);
    }
    b->group = b->fix;
    if (b->has_owner &&
        (cat == CORDON_CAT_SYSTEM_HEADER || (cat == CORDON_CAT_SYSTEM_LIBRARY && !e)))
        b->group = b->owner.name;
    if (!b->fix || !b->explanation) {
        free(b->fix);
        free(b->explanation);
        return -ENOMEM;
    }
    r->n_breaches++;
    return 0;
}

struct cordon_report *cordon_report_free(struct cordon_report *r) {
    if (!r)
        return NULL;
    for (size_t i = 0; i < r->n_breaches; i++) {
        free(r->breaches[i].fix);
        free(r->breaches[i].explanation);
    }
    free(r->breaches);
    free(r->packages);
    free(r->env);
    free(r);
    return NULL;
}

int cordon_report_build(const struct cordon_manifest *m, const char *source, struct cordon_kb *kb,
                        struct cordon_owners *owners, char *const *declared,
                        struct cordon_report **ret, struct cordon_error *err) {
    struct cordon_report *r = calloc(1, sizeof *r);
    struct builder bd = {.r = r, .kb = kb};
    struct cordon_classifier *c = NULL;
    int res = -ENOMEM;
    if (!r || cordon_kb_bind(kb, m->command.env) < 0 || !(bd.pkgs = cordon_map_new(256)))
        goto out;
    r->m = m;
    r->source = source;
    c = cordon_classifier_new(m, kb, owners, declared);
    if (!c)
        goto out;
    for (size_t i = 0; i < m->n_inputs; i++) {
        const struct cordon_input *in = &m->inputs[i];
        struct cordon_verdict v;
        if ((res = cordon_classify_input(c, in, &v)) < 0)
            goto out;
        res = -ENOMEM;
        /* A probe that found nothing consumed nothing. */
        if (in->type == CORDON_FT_MISSING) {
            r->n_missing++;
            continue;
        }
        if (v.category == CORDON_CAT_VIRTUAL || v.category == CORDON_CAT_DECLARED) {
            *(v.category == CORDON_CAT_VIRTUAL ? &r->n_virtual : &r->n_declared) += 1;
            continue;
        }
        struct cordon_owner o;
        int found = in->type == CORDON_FT_DIR ? 0 : cordon_owners_lookup(owners, in->path, &o);
        if (found < 0)
            goto out;
        if (found > 0 && count_package(&bd, &o) < 0)
            goto out;
        if (!cordon_category_is_breach(v.category)) {
            r->n_system++;
            continue;
        }
        /* Metadata alone (a stat, a directory walked through) says little;
         * a breach is something whose bytes or listing the build used. */
        if (!(in->uses & (CORDON_USE_READ | CORDON_USE_EXEC | CORDON_USE_LOAD | CORDON_USE_LIST |
                          CORDON_USE_READLINK))) {
            r->n_metadata++;
            continue;
        }
        r->by_category[v.category]++;
        if (add_breach(&bd, in->path, v.category, &v, in->uses, use_word(in->uses), in->first_pid,
                       found > 0 ? &o : NULL) < 0)
            goto out;
    }
    for (size_t i = 0; i < m->n_outputs; i++) {
        const struct cordon_output *o = &m->outputs[i];
        if (!o->path || o->path[0] != '/' || is_scratch(o->path))
            continue;
        if (m->worktree && m->worktree[0] == '/' && cordon_path_under(o->path, m->worktree))
            continue;
        bool decl = false;
        for (size_t k = 0; declared && declared[k]; k++)
            decl |= cordon_path_under(o->path, declared[k]);
        if (decl)
            continue;
        struct cordon_verdict v = {.category = CORDON_CAT_WRITE_OUTSIDE};
        v.entry = cordon_kb_match(kb, o->path, &v.anchor_len);
        r->by_category[CORDON_CAT_WRITE_OUTSIDE]++;
        if (add_breach(&bd, o->path, CORDON_CAT_WRITE_OUTSIDE, &v, 0,
                       o->type == CORDON_FT_MISSING ? "delete" : "write", o->pid, NULL) < 0)
            goto out;
    }
    if (r->n_breaches)
        qsort(r->breaches, r->n_breaches, sizeof *r->breaches, breach_cmp);
    if (bd.pn)
        qsort(bd.pv, bd.pn, sizeof *bd.pv, package_cmp);
    r->packages = TAKE_PTR(bd.pv);
    r->n_packages = bd.pn;
    r->env = calloc(m->n_env_reads + 1, sizeof *r->env);
    if (!r->env)
        goto out;
    for (size_t i = 0; i < m->n_env_reads; i++)
        if (m->env_reads[i].value && cordon_report_env_steers(m->env_reads[i].name))
            r->env[r->n_env++] = i;
    res = 0;
out:
    cordon_classifier_free(c);
    cordon_map_free(bd.pkgs);
    free(bd.pv);
    if (res < 0) {
        cordon_report_free(r);
        return cordon_error_set(err, -res, source, 0, 0, "cannot build the report");
    }
    *ret = r;
    return 0;
}

/* ---- shared by the writers -------------------------------------------------- */

static char *join_argv(char *const *v) {
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    for (size_t i = 0; v && v[i]; i++) {
        if (i)
            cordon_strbuf_adds(&sb, " ");
        cordon_strbuf_adds(&sb, v[i]);
    }
    return cordon_strbuf_detach(&sb);
}

static size_t total_breach_categories(const struct cordon_report *r) {
    size_t n = 0;
    for (int c = 0; c < CORDON_CAT_MAX; c++)
        n += cordon_category_is_breach((enum cordon_category)c) && r->by_category[c];
    return n;
}

/* The end (exclusive) of the group of breaches that share breaches[i]'s
 * category and group. */
static size_t group_end(const struct cordon_report *r, size_t i) {
    size_t j = i + 1;
    while (j < r->n_breaches && r->breaches[j].category == r->breaches[i].category &&
           strcmp(r->breaches[j].group, r->breaches[i].group) == 0)
        j++;
    return j;
}

/* The distinct fixes of a group, "; "-separated, at most `max` then "...". */
static char *group_fix(const struct cordon_report *r, size_t i, size_t end, size_t max) {
    struct cordon_strbuf sb = CORDON_STRBUF_INIT;
    size_t shown = 0;
    for (size_t k = i; k < end; k++) {
        bool seen = false;
        for (size_t q = i; q < k && !seen; q++)
            seen = strcmp(r->breaches[q].fix, r->breaches[k].fix) == 0;
        if (seen)
            continue;
        if (shown == max) {
            cordon_strbuf_adds(&sb, "; ...");
            break;
        }
        if (shown++)
            cordon_strbuf_adds(&sb, "; ");
        cordon_strbuf_adds(&sb, r->breaches[k].fix);
    }
    return cordon_strbuf_detach(&sb);
}

static size_t category_end(const struct cordon_report *r, size_t i) {
    size_t j = i + 1;
    while (j < r->n_breaches && r->breaches[j].category == r->breaches[i].category)
        j++;
    return j;
}

static const char *status_words(const struct cordon_manifest *m, char *buf, size_t size) {
    if (!m->command.finished)
        snprintf(buf, size, "did not finish");
    else if (WIFSIGNALED(m->command.status))
        snprintf(buf, size, "died of signal %d", WTERMSIG(m->command.status));
    else
        snprintf(buf, size, "exited with %d", WEXITSTATUS(m->command.status));
    return buf;
}

/* The end (exclusive) of the run of gaps of gaps[i]'s kind (gaps are sorted by kind). */
static size_t gap_kind_end(const struct cordon_manifest *m, size_t i) {
    size_t j = i + 1;
    const char *k = m->gaps[i].kind ? m->gaps[i].kind : "";
    while (j < m->n_gaps && strcmp(m->gaps[j].kind ? m->gaps[j].kind : "", k) == 0)
        j++;
    return j;
}

static int exit_code_of(int status) {
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return status;
}

/* ---- text ------------------------------------------------------------------- */

int cordon_report_write_text(const struct cordon_report *r, FILE *out) {
    const struct cordon_manifest *m = r->m;
    _cleanup_free_ char *argv = join_argv(m->command.argv);
    char st[64];
    fprintf(out, "%s: %zu inputs, %zu processes, %zu breaches; the command %s\n", argv ? argv : "",
            m->n_inputs, m->n_processes, r->n_breaches, status_words(m, st, sizeof st));
    for (size_t i = 0; i < r->n_breaches;) {
        size_t end = group_end(r, i);
        const struct cordon_report_breach *b = &r->breaches[i];
        char own[400], chain[2048];
        owner_words(b, own, sizeof own);
        fprintf(out, "%-22s %s  [%s; %s; %s]\n", cordon_category_name(b->category), b->path,
                b->tool, own, b->use);
        for (size_t k = i + 1; k < end; k++) {
            owner_words(&r->breaches[k], own, sizeof own);
            fprintf(out, "%-22s %s  [%s; %s]\n", "", r->breaches[k].path, own, r->breaches[k].use);
        }
        fprintf(out, "%-22s by %s\n", "", cordon_report_ancestry(r, b->pid, chain, sizeof chain));
        fprintf(out, "%-22s why: %s\n", "", b->explanation);
        _cleanup_free_ char *fix = group_fix(r, i, end, 4);
        /* An output is not in an archive: only the policy line helps. */
        if (b->category == CORDON_CAT_WRITE_OUTSIDE)
            fprintf(out, "%-22s fix: %s (cordon run)\n", "", fix ? fix : b->fix);
        else
            fprintf(out, "%-22s fix: %s (cordon run), or cordon pack --drop %s\n", "",
                    fix ? fix : b->fix, cordon_category_name(b->category));
        i = end;
    }
    for (size_t i = 0; i < r->n_env; i++) {
        const struct cordon_env_read *e = &m->env_reads[r->env[i]];
        fprintf(out, "%-22s %s=%s\n", "environment", e->name,
                e->redacted ? "<redacted>" : e->value);
    }
    if (r->n_packages) {
        fprintf(out, "%-22s %zu packages:", "system packages", r->n_packages);
        for (size_t i = 0; i < r->n_packages; i++)
            fprintf(out, "%s %s %s (%zu)", i ? "," : "", r->packages[i].name,
                    r->packages[i].version ? r->packages[i].version : "?", r->packages[i].files);
        fputc('\n', out);
    }
    fprintf(out,
            "coverage: %zu inputs (%zu declared, %zu system, %zu breaches, %zu only stat'ed, %zu "
            "missing, %zu virtual), %zu processes, %zu gap%s\n",
            m->n_inputs, r->n_declared, r->n_system, r->n_breaches, r->n_metadata, r->n_missing,
            r->n_virtual, m->n_processes, m->n_gaps, m->n_gaps == 1 ? "" : "s");
    for (size_t i = 0, j; i < m->n_gaps; i = j) {
        j = gap_kind_end(m, i);
        const struct cordon_gap *g = &m->gaps[i];
        fprintf(out, "  %s: %zu%s%s%s%s\n", g->kind ? g->kind : "?", j - i, g->path ? " (" : "",
                g->path ? g->path : "", g->path && j - i > 1 ? ", ..." : "", g->path ? ")" : "");
    }
    return ferror(out) ? -EIO : 0;
}

/* ---- Markdown ---------------------------------------------------------------- */

/* A Markdown code span that holds any text: enough backticks. */
static void md_code(FILE *out, const char *s) {
    const char *fence = strstr(s, "``") ? "```" : strchr(s, '`') ? "``" : "`";
    bool pad = fence[1] != '\0';
    fprintf(out, "%s%s%s%s%s", fence, pad ? " " : "", s, pad ? " " : "", fence);
}

/* How many groups of a category the Markdown shows before folding. */
#define MD_SHOWN 5
/* How many paths of one group it names. */
#define MD_PATHS 3

int cordon_report_write_markdown(const struct cordon_report *r, FILE *out) {
    const struct cordon_manifest *m = r->m;
    _cleanup_free_ char *argv = join_argv(m->command.argv);
    char st[64];
    fputs("## cordon report: ", out);
    md_code(out, argv ? argv : "");
    fprintf(out,
            "\n\n%zu inputs, %zu processes; **%zu breach%s** of the declared view in %zu "
            "categor%s; the command %s.\n\n",
            m->n_inputs, m->n_processes, r->n_breaches, r->n_breaches == 1 ? "" : "es",
            total_breach_categories(r), total_breach_categories(r) == 1 ? "y" : "ies",
            status_words(m, st, sizeof st));
    for (size_t i = 0; i < r->n_breaches;) {
        size_t cend = category_end(r, i);
        /* The heading carries the count and the archive's fix: no summary
         * table, so that a report fits one page of an issue. */
        const char *cn = cordon_category_name(r->breaches[i].category);
        fprintf(out, "### %s (%zu)", cn, cend - i);
        if (r->breaches[i].category != CORDON_CAT_WRITE_OUTSIDE)
            fprintf(out, ": `cordon pack --drop %s`", cn);
        fputs("\n\n", out);
        size_t shown = 0;
        for (size_t g = i; g < cend; g = group_end(r, g), shown++) {
            size_t gend = group_end(r, g);
            const struct cordon_report_breach *b = &r->breaches[g];
            if (shown == MD_SHOWN) {
                size_t more = 0;
                for (size_t k = g; k < cend; k = group_end(r, k))
                    more++;
                fprintf(out, "<details><summary>%zu more</summary>\n\n", more);
            }
            char own[400], chain[2048];
            owner_words(b, own, sizeof own);
            fputs("- ", out);
            for (size_t k = g; k < gend && k < g + MD_PATHS; k++) {
                if (k > g)
                    fputs(", ", out);
                md_code(out, r->breaches[k].path);
            }
            if (gend - g > MD_PATHS)
                fprintf(out, " and %zu more", gend - g - MD_PATHS);
            fprintf(out, " (%s, %s) by ", own, b->use);
            md_code(out, cordon_report_ancestry(r, b->pid, chain, sizeof chain));
            fprintf(out, ": %s **Fix:** ", b->explanation);
            _cleanup_free_ char *fix = group_fix(r, g, gend, 3);
            md_code(out, fix ? fix : b->fix);
            fputc('\n', out);
        }
        if (shown > MD_SHOWN)
            fputs("\n</details>\n", out);
        fputc('\n', out);
        i = cend;
    }
    if (r->n_env) {
        fputs("**Environment that steers the build:** ", out);
        for (size_t i = 0; i < r->n_env; i++) {
            const struct cordon_env_read *e = &m->env_reads[r->env[i]];
            char line[600];
            snprintf(line, sizeof line, "%s=%s", e->name, e->redacted ? "<redacted>" : e->value);
            if (i)
                fputs(", ", out);
            md_code(out, line);
        }
        fputs("\n\n", out);
    }
    if (r->n_packages) {
        fprintf(out, "<details><summary>%zu system packages</summary>\n\n", r->n_packages);
        for (size_t i = 0; i < r->n_packages; i++)
            fprintf(out, "%s%s %s (%zu)", i ? ", " : "", r->packages[i].name,
                    r->packages[i].version ? r->packages[i].version : "?", r->packages[i].files);
        fputs("\n\n</details>\n\n", out);
    }
    fputs("<details><summary>Coverage</summary>\n\n", out);
    fprintf(out,
            "- %zu inputs: %zu declared, %zu system, %zu breaches, %zu only stat'ed, %zu "
            "missing, %zu virtual\n",
            m->n_inputs, r->n_declared, r->n_system, r->n_breaches, r->n_metadata, r->n_missing,
            r->n_virtual);
    fprintf(out, "- recorded by %s on %s %s (%s)\n", m->tool ? m->tool : "?",
            m->host.distro ? m->host.distro
            : m->host.os   ? m->host.os
                           : "?",
            m->host.arch ? m->host.arch : "", m->host.libc ? m->host.libc : "?");
    if (!m->n_gaps)
        fputs("- not seen: nothing the recording knows of\n", out);
    for (size_t i = 0, j; i < m->n_gaps; i = j) {
        j = gap_kind_end(m, i);
        const struct cordon_gap *g = &m->gaps[i];
        fprintf(out, "- not seen: %s (%zu)%s%s\n", g->kind ? g->kind : "?", j - i,
                g->detail ? ": " : "", g->detail ? g->detail : "");
    }
    fputs("\n</details>\n", out);
    return ferror(out) ? -EIO : 0;
}

/* ---- JSON -------------------------------------------------------------------- */

/* Written straight to the stream, in the bytes jansson's JSON_INDENT(2)
 * would give: a tree of every breach (ancestry included) cost more time
 * and memory than reading the manifest, and jansson refuses strings that
 * are not UTF-8 while paths are bytes. Bytes that are not UTF-8 are
 * written as the manifest writes them (docs/manifest-schema.md, "Strings":
 * U+10FF00 plus the byte). The same writer as manifest/json.c's, which is
 * private to it. */
struct jw {
    FILE *f;
    int depth;
    bool empty[16];
    bool after_key;
};

static void jw_indent(struct jw *w, int depth) {
    fputc('\n', w->f);
    for (int i = 0; i < depth; i++)
        fputs("  ", w->f);
}

/* Before a value: after a key nothing, else the element's separator. */
static void jw_value(struct jw *w) {
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth == 0)
        return;
    if (!w->empty[w->depth])
        fputc(',', w->f);
    w->empty[w->depth] = false;
    jw_indent(w, w->depth);
}

static void jw_open(struct jw *w, char c) {
    jw_value(w);
    fputc(c, w->f);
    if (w->depth + 1 < (int)CORDON_ARRAY_SIZE(w->empty))
        w->empty[++w->depth] = true;
}

static void jw_close(struct jw *w, char c) {
    if (!w->empty[w->depth])
        jw_indent(w, w->depth - 1);
    w->depth--;
    fputc(c, w->f);
}

static void jw_key(struct jw *w, const char *key) {
    jw_value(w);
    fprintf(w->f, "\"%s\": ", key);
    w->after_key = true;
}

static size_t utf8_seq(const unsigned char *s, uint32_t *cp) {
    unsigned char c = s[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        n = 2, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3, v = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

static void put_byte_escape(FILE *f, unsigned char b) {
    uint32_t cp = 0x10ff00u + b;
    char u[4] = {(char)0xf4, (char)(0x80 | ((cp >> 12) & 0x3f)), (char)(0x80 | ((cp >> 6) & 0x3f)),
                 (char)(0x80 | (cp & 0x3f))};
    fwrite(u, 1, 4, f);
}

static void jw_str(struct jw *w, const char *s) {
    jw_value(w);
    if (!s) {
        fputs("null", w->f);
        return;
    }
    FILE *f = w->f;
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    while (*p) {
        const unsigned char *run = p;
        while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        if (p > run)
            fwrite(run, 1, (size_t)(p - run), f);
        unsigned char c = *p;
        if (!c)
            break;
        if (c < 0x80) {
            static const char esc[] = {['"'] = '"',  ['\\'] = '\\', ['\b'] = 'b', ['\f'] = 'f',
                                       ['\n'] = 'n', ['\r'] = 'r',  ['\t'] = 't'};
            if (c < sizeof esc && esc[c])
                fprintf(f, "\\%c", esc[c]);
            else
                fprintf(f, "\\u%04X", c);
            p++;
            continue;
        }
        uint32_t cp;
        size_t n = utf8_seq(p, &cp);
        if (n && !(cp >= 0x10ff80 && cp <= 0x10ffff)) {
            fwrite(p, 1, n, f);
            p += n;
        } else if (n) {
            for (size_t i = 0; i < n; i++)
                put_byte_escape(f, p[i]);
            p += n;
        } else {
            put_byte_escape(f, *p++);
        }
    }
    fputc('"', f);
}

static void jw_int(struct jw *w, long long v) {
    jw_value(w);
    fprintf(w->f, "%lld", v);
}

static void jw_null(struct jw *w) {
    jw_value(w);
    fputs("null", w->f);
}

static void jw_bool(struct jw *w, bool v) {
    jw_value(w);
    fputs(v ? "true" : "false", w->f);
}

static void jw_strv(struct jw *w, char *const *v) {
    jw_open(w, '[');
    for (size_t i = 0; v && v[i]; i++)
        jw_str(w, v[i]);
    jw_close(w, ']');
}

static void key_str(struct jw *w, const char *k, const char *s) {
    jw_key(w, k);
    jw_str(w, s);
}

static void key_int(struct jw *w, const char *k, long long v) {
    jw_key(w, k);
    jw_int(w, v);
}

static void write_breach(struct jw *w, const struct cordon_report *r,
                         const struct cordon_report_breach *b) {
    char chain[2048];
    jw_open(w, '{');
    key_str(w, "path", b->path);
    key_str(w, "category", cordon_category_name(b->category));
    key_str(w, "tool", b->tool);
    key_str(w, "use", b->use);
    jw_key(w, "owner");
    if (b->has_owner) {
        jw_open(w, '{');
        key_str(w, "manager", b->owner.manager);
        key_str(w, "name", b->owner.name);
        key_str(w, "version", b->owner.version);
        jw_close(w, '}');
    } else {
        jw_null(w);
    }
    key_int(w, "pid", b->pid);
    key_str(w, "chain", cordon_report_ancestry(r, b->pid, chain, sizeof chain));
    jw_key(w, "ancestry");
    const struct cordon_process *procs[64];
    size_t n = 0;
    for (const struct cordon_process *p = find_proc(r->m, b->pid); p && n < 64;
         p = p->ppid != p->pid ? find_proc(r->m, p->ppid) : NULL)
        procs[n++] = p;
    jw_open(w, '[');
    for (size_t i = n; i-- > 0;) {
        jw_open(w, '{');
        key_int(w, "pid", procs[i]->pid);
        key_str(w, "exe", procs[i]->exe);
        jw_key(w, "argv");
        jw_strv(w, procs[i]->argv);
        jw_close(w, '}');
    }
    jw_close(w, ']');
    key_str(w, "explanation", b->explanation);
    jw_key(w, "fix");
    jw_open(w, '[');
    for (const char *s = b->fix; s;) {
        const char *e = strstr(s, "; ");
        char line[2048];
        snprintf(line, sizeof line, "%.*s", (int)(e ? (size_t)(e - s) : strlen(s)), s);
        jw_str(w, line);
        s = e ? e + 2 : NULL;
    }
    jw_close(w, ']');
    key_str(w, "drop",
            b->category == CORDON_CAT_WRITE_OUTSIDE ? NULL : cordon_category_name(b->category));
    key_str(w, "pattern", b->pattern);
    if (b->group != b->fix)
        key_str(w, "group", b->group);
    jw_close(w, '}');
}

int cordon_report_write_json(const struct cordon_report *r, FILE *out) {
    const struct cordon_manifest *m = r->m;
    struct jw w = {.f = out};
    jw_open(&w, '{');
    key_int(&w, "cordon_report", CORDON_REPORT_SCHEMA);
    key_str(&w, "tool", "cordon " CORDON_VERSION);
    key_str(&w, "manifest", r->source);
    jw_key(&w, "command");
    jw_open(&w, '{');
    jw_key(&w, "argv");
    jw_strv(&w, m->command.argv);
    key_str(&w, "cwd", m->command.cwd);
    jw_key(&w, "status");
    if (m->command.finished)
        jw_int(&w, exit_code_of(m->command.status));
    else
        jw_null(&w);
    jw_close(&w, '}');
    jw_key(&w, "summary");
    jw_open(&w, '{');
    key_int(&w, "inputs", (long long)m->n_inputs);
    key_int(&w, "processes", (long long)m->n_processes);
    key_int(&w, "breaches", (long long)r->n_breaches);
    jw_key(&w, "by_category");
    jw_open(&w, '{');
    for (int c = 0; c < CORDON_CAT_MAX; c++)
        if (r->by_category[c])
            key_int(&w, cordon_category_name((enum cordon_category)c),
                    (long long)r->by_category[c]);
    jw_close(&w, '}');
    jw_key(&w, "inputs_by_class");
    jw_open(&w, '{');
    key_int(&w, "declared", (long long)r->n_declared);
    key_int(&w, "system", (long long)r->n_system);
    key_int(&w, "metadata_only", (long long)r->n_metadata);
    key_int(&w, "missing", (long long)r->n_missing);
    key_int(&w, "virtual", (long long)r->n_virtual);
    jw_close(&w, '}');
    jw_close(&w, '}');
    jw_key(&w, "breaches");
    jw_open(&w, '[');
    for (size_t i = 0; i < r->n_breaches; i++)
        write_breach(&w, r, &r->breaches[i]);
    jw_close(&w, ']');
    jw_key(&w, "packages");
    jw_open(&w, '[');
    for (size_t i = 0; i < r->n_packages; i++) {
        const struct cordon_report_package *p = &r->packages[i];
        jw_open(&w, '{');
        key_str(&w, "manager", p->manager);
        key_str(&w, "name", p->name);
        key_str(&w, "version", p->version);
        key_int(&w, "files", (long long)p->files);
        jw_close(&w, '}');
    }
    jw_close(&w, ']');
    jw_key(&w, "environment");
    jw_open(&w, '[');
    for (size_t i = 0; i < r->n_env; i++) {
        const struct cordon_env_read *e = &m->env_reads[r->env[i]];
        jw_open(&w, '{');
        key_str(&w, "name", e->name);
        key_str(&w, "value", e->redacted ? "<redacted>" : e->value);
        jw_key(&w, "redacted");
        jw_bool(&w, e->redacted);
        jw_close(&w, '}');
    }
    jw_close(&w, ']');
    jw_key(&w, "coverage");
    jw_open(&w, '{');
    key_str(&w, "recorded_by", m->tool);
    jw_key(&w, "host");
    jw_open(&w, '{');
    key_str(&w, "os", m->host.os);
    key_str(&w, "arch", m->host.arch);
    key_str(&w, "distro", m->host.distro);
    key_str(&w, "libc", m->host.libc);
    jw_close(&w, '}');
    jw_key(&w, "gaps");
    jw_open(&w, '[');
    for (size_t i = 0; i < m->n_gaps; i++) {
        const struct cordon_gap *g = &m->gaps[i];
        jw_open(&w, '{');
        key_str(&w, "kind", g->kind);
        key_str(&w, "path", g->path);
        key_int(&w, "pid", g->pid);
        key_str(&w, "detail", g->detail);
        jw_close(&w, '}');
    }
    jw_close(&w, ']');
    jw_close(&w, '}');
    jw_close(&w, '}');
    fputc('\n', out);
    return ferror(out) ? -EIO : 0;
}
