/* The hook's exec environment doctoring (recorder/hook/env.c): the contract
 * variables survive `env -i` and a rewritten LD_PRELOAD. */
#include <limits.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "hook.h"

static const struct hook_env snap = {
    .log = "CORDON_LOG=/tmp/run.log",
    .hook = "CORDON_HOOK=/opt/cordon/libcordon-hook.so",
    .hook_path = "/opt/cordon/libcordon-hook.so",
    .audit = true,
};

static char *out[HOOK_ENV_MAX + HOOK_ENV_EXTRA + 1];
static char ld[2 * PATH_MAX], la[2 * PATH_MAX];

static size_t len(char *const *v) {
    size_t n = 0;
    while (v[n])
        n++;
    return n;
}

static bool has(char *const *v, const char *entry) {
    for (; *v; v++)
        if (!strcmp(*v, entry))
            return true;
    return false;
}

Test(recorder_hook_env, complete_environment_is_left_alone) {
    char *env[] = {"PATH=/bin",
                   "CORDON_LOG=/tmp/other.log",
                   "CORDON_HOOK=/opt/cordon/libcordon-hook.so",
                   "LD_PRELOAD=/lib/x.so:/opt/cordon/libcordon-hook.so",
                   "LD_AUDIT=/opt/cordon/libcordon-hook.so",
                   NULL};
    cr_assert(eq(ptr, (void *)hook_env_fix(&snap, env, out, ld, la), (void *)env));
}

Test(recorder_hook_env, empty_environment_gets_every_variable) {
    char *env[] = {NULL};
    char *const *got = hook_env_fix(&snap, env, out, ld, la);
    cr_assert(eq(sz, len(got), 4));
    cr_assert(has(got, "CORDON_LOG=/tmp/run.log"));
    cr_assert(has(got, "CORDON_HOOK=/opt/cordon/libcordon-hook.so"));
    cr_assert(has(got, "LD_PRELOAD=/opt/cordon/libcordon-hook.so"));
    cr_assert(has(got, "LD_AUDIT=/opt/cordon/libcordon-hook.so"));
}

Test(recorder_hook_env, null_envp_is_an_empty_one) {
    char *const *got = hook_env_fix(&snap, NULL, out, ld, la);
    cr_assert(eq(sz, len(got), 4));
}

Test(recorder_hook_env, foreign_preload_keeps_its_place_behind_the_hook) {
    char *env[] = {"A=1", "LD_PRELOAD=/lib/libfake.so", "B=2", NULL};
    char *const *got = hook_env_fix(&snap, env, out, ld, la);
    cr_assert(eq(str, got[0], "A=1"));
    cr_assert(eq(str, got[1], "LD_PRELOAD=/opt/cordon/libcordon-hook.so:/lib/libfake.so"));
    cr_assert(eq(str, got[2], "B=2"));
    cr_assert(eq(sz, len(got), 6));
}

Test(recorder_hook_env, hook_as_a_prefix_of_another_name_does_not_count) {
    char *env[] = {"LD_PRELOAD=/opt/cordon/libcordon-hook.so.old",
                   "LD_AUDIT=/opt/cordon/libcordon-hook.so", "CORDON_LOG=/x", "CORDON_HOOK=/y",
                   NULL};
    char *const *got = hook_env_fix(&snap, env, out, ld, la);
    cr_assert(eq(str, got[0],
                 "LD_PRELOAD=/opt/cordon/libcordon-hook.so:/opt/cordon/libcordon-hook.so.old"));
}

Test(recorder_hook_env, no_audit_when_the_recording_had_none) {
    struct hook_env s = snap;
    s.audit = false;
    char *env[] = {"CORDON_LOG=/x", "CORDON_HOOK=/y", "LD_PRELOAD=/opt/cordon/libcordon-hook.so",
                   NULL};
    cr_assert(eq(ptr, (void *)hook_env_fix(&s, env, out, ld, la), (void *)env));
}

Test(recorder_hook_env, inert_without_a_hook_path) {
    struct hook_env s = {.log = "", .hook = "", .hook_path = ""};
    char *env[] = {NULL};
    cr_assert(eq(ptr, (void *)hook_env_fix(&s, env, out, ld, la), (void *)env));
}

/* `cordon record` audits with the libc-free module beside the hook: an exec
 * that dropped LD_AUDIT gets that module back, not the hook. */
Test(recorder_hook_env, the_recorders_audit_module_is_put_back) {
    struct hook_env s = snap;
    s.audit_path = "/opt/cordon/libcordon-audit.so";
    char *env[] = {"LD_PRELOAD=/opt/cordon/libcordon-hook.so", "CORDON_LOG=/x", "CORDON_HOOK=/y",
                   NULL};
    char *const *got = hook_env_fix(&s, env, out, ld, la);
    cr_assert(has(got, "LD_AUDIT=/opt/cordon/libcordon-audit.so"));
    cr_assert(not(has(got, "LD_AUDIT=/opt/cordon/libcordon-hook.so")));
    char *kept[] = {"LD_PRELOAD=/opt/cordon/libcordon-hook.so", "CORDON_LOG=/x", "CORDON_HOOK=/y",
                    "LD_AUDIT=/opt/cordon/libcordon-audit.so", NULL};
    cr_assert(eq(ptr, (void *)hook_env_fix(&s, kept, out, ld, la), (void *)kept));
}

/* The static TLS room the audit module needs survives `env -i`; a program's
 * own GLIBC_TUNABLES stands. */
Test(recorder_hook_env, the_audit_tunables_are_put_back) {
    struct hook_env s = snap;
    s.tunables = "GLIBC_TUNABLES=glibc.rtld.optional_static_tls=40960";
    char *env[] = {NULL};
    char *const *got = hook_env_fix(&s, env, out, ld, la);
    cr_assert(has(got, "GLIBC_TUNABLES=glibc.rtld.optional_static_tls=40960"));
    char *own[] = {"GLIBC_TUNABLES=glibc.malloc.check=3", NULL};
    got = hook_env_fix(&s, own, out, ld, la);
    cr_assert(has(got, "GLIBC_TUNABLES=glibc.malloc.check=3"));
    cr_assert(not(has(got, "GLIBC_TUNABLES=glibc.rtld.optional_static_tls=40960")));
}
