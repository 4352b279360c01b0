/* doctor's picks: the runner `auto` chooses for run and replay given what a
 * machine allows, and the reason it gives. (The probes fork; the e2e test
 * doctor.sh runs them in each tier.) */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <string.h>

#include <cordon/replay.h>
#include <cordon/run.h>

static struct cordon_machine full(void) {
    struct cordon_machine m = {
        .userns_error = 0,
        .landlock_abi = 6,
        .seccomp_unotify = true,
        .unotify_sync = true,
        .ptrace = true,
        .fakechroot = true,
    };
    strcpy(m.fakechroot_path, "/usr/lib/x86_64-linux-gnu/fakechroot/libfakechroot.so");
    return m;
}

Test(replayer_doctor, namespace_where_user_namespaces_work) {
    struct cordon_machine m = full();
    char why[1024];
    cr_expect(
        eq(int, (int)cordon_pick_run_backend(&m, why, sizeof why), (int)CORDON_BACKEND_NAMESPACE));
    cr_expect(strstr(why, "user namespaces work") != NULL, "%s", why);
    cr_expect(eq(int, (int)cordon_pick_replay_backend(&m, why, sizeof why),
                 (int)CORDON_BACKEND_NAMESPACE));
    cr_expect(strstr(why, "user namespaces work") != NULL, "%s", why);
    /* Whatever else is missing. */
    m = (struct cordon_machine){0};
    cr_expect(
        eq(int, (int)cordon_pick_run_backend(&m, why, sizeof why), (int)CORDON_BACKEND_NAMESPACE));
    cr_expect(eq(int, (int)cordon_pick_replay_backend(&m, why, sizeof why),
                 (int)CORDON_BACKEND_NAMESPACE));
}

Test(replayer_doctor, run_falls_back_to_the_hook_not_landlock) {
    struct cordon_machine m = full();
    m.userns_error = ENOSPC;
    char why[1024];
    cr_expect(eq(int, (int)cordon_pick_run_backend(&m, why, sizeof why), (int)CORDON_BACKEND_HOOK));
    cr_expect(strstr(why, "user namespaces are unavailable (No space left on device)") == why, "%s",
              why);
    cr_expect(strstr(why, "ENOENT") != NULL && strstr(why, "EACCES") != NULL, "%s", why);
    cr_expect(strstr(why, "go through seccomp user notification") != NULL, "%s", why);
}

Test(replayer_doctor, run_says_what_escapes_without_seccomp) {
    struct cordon_machine m = full();
    m.userns_error = EPERM;
    m.seccomp_unotify = false;
    m.unotify_sync = false;
    m.landlock_abi = 0;
    char why[1024];
    cr_expect(eq(int, (int)cordon_pick_run_backend(&m, why, sizeof why), (int)CORDON_BACKEND_HOOK));
    cr_expect(strstr(why, "(Operation not permitted)") != NULL, "%s", why);
    cr_expect(strstr(why, "static programs and raw system calls escape it") != NULL, "%s", why);
    cr_expect(strstr(why, "absent here anyway") != NULL, "%s", why);
}

Test(replayer_doctor, replay_falls_back_to_fakechroot) {
    struct cordon_machine m = full();
    m.userns_error = ENOSPC;
    char why[1024];
    cr_expect(eq(int, (int)cordon_pick_replay_backend(&m, why, sizeof why),
                 (int)CORDON_BACKEND_FAKECHROOT));
    cr_expect(strstr(why, "fakechroot needs nothing from the kernel") != NULL, "%s", why);
    cr_expect(strstr(why, "not installed") == NULL, "%s", why);
    m.fakechroot = false;
    cr_expect(eq(int, (int)cordon_pick_replay_backend(&m, why, sizeof why),
                 (int)CORDON_BACKEND_FAKECHROOT));
    cr_expect(strstr(why, "libfakechroot.so is not installed here") != NULL, "%s", why);
}

Test(replayer_doctor, why_is_truncated_not_overrun) {
    struct cordon_machine m = full();
    m.userns_error = ENOSPC;
    char why[16];
    memset(why, 'x', sizeof why);
    cr_expect(eq(int, (int)cordon_pick_run_backend(&m, why, 8), (int)CORDON_BACKEND_HOOK));
    cr_expect(eq(sz, strlen(why), 7));
    cr_expect(eq(chr, why[8], 'x'));
}

Test(replayer_doctor, enforcing_runners) {
    cr_expect(cordon_backend_enforces(CORDON_BACKEND_NAMESPACE));
    cr_expect(cordon_backend_enforces(CORDON_BACKEND_LANDLOCK));
    cr_expect(not(cordon_backend_enforces(CORDON_BACKEND_FAKECHROOT)));
    cr_expect(not(cordon_backend_enforces(CORDON_BACKEND_AUTO)));
}
