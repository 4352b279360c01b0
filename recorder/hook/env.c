/* Environment doctoring for exec: a program that ran `env -i` or clearenv()
 * must not shake the recording off, so every exec carries the contract
 * variables over from the snapshot taken at load. Pure (no system call, no
 * allocation), so the unit tests call it directly. */
#include <string.h>

#include "enforce.h"
#include "hook.h"

/* Does the colon- or space-separated `list` name `item`? */
static bool list_has(const char *list, size_t llen, const char *item) {
    size_t n = strlen(item);
    const char *end = list + llen;
    for (const char *p = list; p < end;) {
        const char *q = p;
        while (q < end && *q != ':' && *q != ' ')
            q++;
        if ((size_t)(q - p) == n && !memcmp(p, item, n))
            return true;
        p = q + 1;
    }
    return false;
}

static bool has_prefix(const char *s, const char *name, size_t n) {
    return !strncmp(s, name, n) && s[n] == '=';
}

/* "NAME=hook:old" into buf (2 * PATH_MAX), or NULL if it does not fit. */
static char *prepend(char *buf, const char *name, const char *hook, const char *old) {
    size_t nn = strlen(name), hn = strlen(hook), on = strlen(old);
    if (nn + 1 + hn + 1 + on + 1 > 2 * PATH_MAX)
        return NULL;
    char *p = buf;
    memcpy(p, name, nn);
    p += nn;
    *p++ = '=';
    memcpy(p, hook, hn);
    p += hn;
    if (on) {
        *p++ = ':';
        memcpy(p, old, on);
        p += on;
    }
    *p = 0;
    return buf;
}

char *const *hook_env_fix(const struct hook_env *snap, char *const *envp, char **out, char *ld,
                          char *la) {
    static const char preload[] = "LD_PRELOAD", audit[] = "LD_AUDIT";
    if (!snap->hook_path || !snap->hook_path[0])
        return envp;
    size_t n = 0;
    int i_log = -1, i_hook = -1, i_ld = -1, i_la = -1, i_pol = -1, i_not = -1, i_tun = -1;
    bool want_tun = snap->audit && snap->tunables && snap->tunables[0];
    bool want_pol = snap->policy && snap->policy[0], want_not = snap->notify && snap->notify[0];
    bool want_log = snap->log && snap->log[0];
    for (; envp && envp[n]; n++) {
        if (n >= HOOK_ENV_MAX)
            return envp; /* too many to copy: leave them be */
        const char *e = envp[n];
        if (has_prefix(e, CORDON_ENV_LOG, sizeof CORDON_ENV_LOG - 1))
            i_log = (int)n;
        else if (has_prefix(e, CORDON_ENV_HOOK, sizeof CORDON_ENV_HOOK - 1))
            i_hook = (int)n;
        else if (has_prefix(e, preload, sizeof preload - 1))
            i_ld = (int)n;
        else if (has_prefix(e, audit, sizeof audit - 1))
            i_la = (int)n;
        else if (has_prefix(e, CORDON_ENV_POLICY, sizeof CORDON_ENV_POLICY - 1))
            i_pol = (int)n;
        else if (has_prefix(e, CORDON_ENV_NOTIFY, sizeof CORDON_ENV_NOTIFY - 1))
            i_not = (int)n;
        else if (has_prefix(e, "GLIBC_TUNABLES", sizeof "GLIBC_TUNABLES" - 1))
            i_tun = (int)n;
    }
    const char *hook = snap->hook_path;
    bool ld_ok = i_ld >= 0 &&
                 list_has(envp[i_ld] + sizeof preload, strlen(envp[i_ld] + sizeof preload), hook);
    const char *module = snap->audit_path && snap->audit_path[0] ? snap->audit_path : hook;
    bool la_ok = !snap->audit || (i_la >= 0 && list_has(envp[i_la] + sizeof audit,
                                                        strlen(envp[i_la] + sizeof audit), module));
    /* A program that unsets the policy must not shake it off either. */
    if ((i_log >= 0 || !want_log) && i_hook >= 0 && ld_ok && la_ok && (i_pol >= 0 || !want_pol) &&
        (i_not >= 0 || !want_not) && (i_tun >= 0 || !want_tun))
        return envp;

    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        out[k++] = envp[i];
    if (i_log < 0 && want_log)
        out[k++] = (char *)snap->log;
    if (i_pol < 0 && want_pol)
        out[k++] = (char *)snap->policy;
    if (i_not < 0 && want_not)
        out[k++] = (char *)snap->notify;
    /* A program's own GLIBC_TUNABLES stands; a dropped one comes back. */
    if (i_tun < 0 && want_tun)
        out[k++] = (char *)snap->tunables;
    if (i_hook < 0 && snap->hook && snap->hook[0])
        out[k++] = (char *)snap->hook;
    if (!ld_ok) {
        const char *old = i_ld >= 0 ? envp[i_ld] + sizeof preload : "";
        char *v = prepend(ld, preload, hook, old);
        if (v && i_ld >= 0)
            out[i_ld] = v;
        else if (v)
            out[k++] = v;
    }
    if (!la_ok) {
        const char *old = i_la >= 0 ? envp[i_la] + sizeof audit : "";
        char *v = prepend(la, audit, module, old);
        if (v && i_la >= 0)
            out[i_la] = v;
        else if (v)
            out[k++] = v;
    }
    out[k] = NULL;
    return out;
}
