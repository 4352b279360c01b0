/* cordon doctor [--json]: what this machine allows and which runner `auto`
 * picks for run and replay, and why (cordon-doctor(1)). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cordon/cli.h>
#include <cordon/replay.h>
#include <cordon/run.h>

static void usage(FILE *f) {
    fputs("Usage: cordon doctor [--json]\n"
          "Say what this machine allows (user namespaces, Landlock, seccomp user\n"
          "notification, ptrace, fakechroot) and which runner the auto choice picks for\n"
          "run and replay (see cordon-doctor(1)).\n",
          f);
}

static long read_sysctl(const char *path) {
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    long v = -1;
    if (fscanf(f, "%ld", &v) != 1)
        v = -1;
    (void)fclose(f);
    return v;
}

/* Why each capability is missing, for a human; "" when it is there. */
static void why_userns(const struct cordon_machine *m, char *buf, size_t size) {
    buf[0] = '\0';
    if (m->userns_error)
        cordon_userns_reason(m->userns_error, buf, size);
}

static void why_landlock(const struct cordon_machine *m, char *buf, size_t size) {
    buf[0] = '\0';
    if (m->landlock_abi > 0)
        return;
    switch (m->landlock_error) {
    case ENOSYS:
        snprintf(buf, size,
                 "%s: the kernel has no Landlock (Linux 5.13+ with "
                 "CONFIG_SECURITY_LANDLOCK)",
                 strerror(ENOSYS));
        break;
    case EOPNOTSUPP:
        snprintf(buf, size, "%s: Landlock is built in but disabled at boot (add landlock to lsm=)",
                 strerror(EOPNOTSUPP));
        break;
    case EPERM:
        snprintf(buf, size, "%s: refused by a seccomp filter (a container's profile?)",
                 strerror(EPERM));
        break;
    default:
        snprintf(buf, size, "%s", strerror(m->landlock_error ? m->landlock_error : ENOSYS));
    }
}

static void why_seccomp(int e, char *buf, size_t size) {
    buf[0] = '\0';
    if (!e)
        return;
    const char *hint = NULL;
    if (e == EINVAL)
        hint = "the kernel predates seccomp user notification (Linux 5.0)";
    else if (e == EBUSY)
        hint = "another supervisor's listener is already installed above this process";
    else if (e == ENOSYS)
        hint = "the kernel has no seccomp filters";
    else if (e == EPERM || e == EACCES)
        hint = "refused by a seccomp filter or an LSM (a container's profile?)";
    snprintf(buf, size, "%s%s%s", strerror(e), hint ? ": " : "", hint ? hint : "");
}

static void why_sync(const struct cordon_machine *m, char *buf, size_t size) {
    buf[0] = '\0';
    if (m->unotify_sync)
        return;
    if (!m->seccomp_unotify)
        snprintf(buf, size, "no seccomp user notification");
    else if (m->sync_error == EINVAL || m->sync_error == ENOTTY)
        snprintf(buf, size,
                 "%s: the kernel predates it (Linux 6.6); each notification then "
                 "costs a cross-CPU wake-up",
                 strerror(m->sync_error));
    else
        snprintf(buf, size, "%s", strerror(m->sync_error));
}

static void why_ptrace(const struct cordon_machine *m, char *buf, size_t size) {
    buf[0] = '\0';
    if (m->ptrace)
        return;
    long scope = read_sysctl("/proc/sys/kernel/yama/ptrace_scope");
    if (m->ptrace_error == EPERM && scope == 3)
        snprintf(buf, size, "%s: kernel.yama.ptrace_scope is 3 (no process may trace)",
                 strerror(EPERM));
    else if (m->ptrace_error == EPERM)
        snprintf(buf, size, "%s: refused by a seccomp filter or an LSM (a container's profile?)",
                 strerror(EPERM));
    else
        snprintf(buf, size, "%s", strerror(m->ptrace_error));
}

static void why_fakechroot(const struct cordon_machine *m, char *buf, size_t size) {
    buf[0] = '\0';
    if (!m->fakechroot)
        snprintf(buf, size, "libfakechroot.so not found (apt-get install fakechroot)");
}

static json_t *capability(bool yes, const char *why) {
    return json_pack("{s:b, s:s?}", "available", yes, "why", yes ? NULL : why);
}

static int print_json(const struct cordon_machine *m, enum cordon_backend run, const char *run_why,
                      enum cordon_backend replay, const char *replay_why) {
    char w_userns[512], w_landlock[512], w_seccomp[512], w_sync[512], w_ptrace[512], w_fc[512];
    why_userns(m, w_userns, sizeof w_userns);
    why_landlock(m, w_landlock, sizeof w_landlock);
    why_seccomp(m->seccomp_error, w_seccomp, sizeof w_seccomp);
    why_sync(m, w_sync, sizeof w_sync);
    why_ptrace(m, w_ptrace, sizeof w_ptrace);
    why_fakechroot(m, w_fc, sizeof w_fc);

    json_t *landlock = capability(m->landlock_abi > 0, w_landlock);
    json_t *seccomp = capability(m->seccomp_unotify, w_seccomp);
    json_t *sync = capability(m->unotify_sync, w_sync);
    json_t *fc = capability(m->fakechroot, w_fc);
    if (!landlock || !seccomp || !sync || !fc ||
        json_object_set_new(landlock, "abi", json_integer(m->landlock_abi)) < 0 ||
        json_object_set_new(fc, "path",
                            m->fakechroot ? json_string(m->fakechroot_path) : json_null()) < 0) {
        json_decref(landlock);
        json_decref(seccomp);
        json_decref(sync);
        json_decref(fc);
        cordon_die("out of memory");
    }
    json_t *root =
        json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:{s:s, s:b, s:s}, s:{s:s, s:b, s:s}}",
                  "user_namespaces", capability(m->userns_error == 0, w_userns), "landlock",
                  landlock, "seccomp_unotify", seccomp, "unotify_sync_wake_up", sync, "ptrace",
                  capability(m->ptrace, w_ptrace), "fakechroot", fc, "run", "backend",
                  cordon_backend_name(run), "enforces", cordon_backend_enforces(run), "why",
                  run_why, "replay", "backend", cordon_backend_name(replay), "enforces",
                  cordon_backend_enforces(replay), "why", replay_why);
    if (!root)
        cordon_die("out of memory");
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(root);
    if (!text)
        cordon_die("out of memory");
    puts(text);
    free(text);
    return 0;
}

static void line(const char *what, bool yes, const char *detail) {
    printf("%-28s %s%s%s\n", what, yes ? "yes" : "no", detail[0] ? ": " : "", detail);
}

int cordon_cmd_doctor(int argc, char **argv) {
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    bool arg_json = false;
    int c;
    optind = 1;
    opterr = 0; /* one message, ours */
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j':
            arg_json = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            cordon_usage_bad_option("doctor", c, argv);
        }
    }
    if (optind < argc)
        cordon_usage_error("doctor", "unexpected argument '%s'", argv[optind]);

    struct cordon_machine m;
    cordon_machine_probe(&m);
    char run_why[1024], replay_why[1024];
    enum cordon_backend run = cordon_pick_run_backend(&m, run_why, sizeof run_why);
    enum cordon_backend replay = cordon_pick_replay_backend(&m, replay_why, sizeof replay_why);
    if (arg_json)
        return print_json(&m, run, run_why, replay, replay_why);

    char buf[1024];
    why_userns(&m, buf, sizeof buf);
    line("user namespaces", m.userns_error == 0, buf);
    why_landlock(&m, buf, sizeof buf);
    if (m.landlock_abi > 0)
        snprintf(buf, sizeof buf, "ABI %d", m.landlock_abi);
    line("landlock", m.landlock_abi > 0, buf);
    why_seccomp(m.seccomp_error, buf, sizeof buf);
    line("seccomp user notification", m.seccomp_unotify, buf);
    why_sync(&m, buf, sizeof buf);
    line("seccomp sync wake-up", m.unotify_sync, buf);
    why_ptrace(&m, buf, sizeof buf);
    line("ptrace", m.ptrace, buf);
    why_fakechroot(&m, buf, sizeof buf);
    line("fakechroot", m.fakechroot, m.fakechroot ? m.fakechroot_path : buf);
    printf("run: auto picks %s because %s\n", cordon_backend_name(run), run_why);
    printf("replay: auto picks %s because %s\n", cordon_backend_name(replay), replay_why);
    if (fflush(stdout) != 0)
        cordon_die("cannot write the report: %s", strerror(errno));
    return 0;
}
