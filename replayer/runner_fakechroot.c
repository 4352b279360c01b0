/* The fakechroot runner: no kernel feature, only LD_PRELOAD.
 *
 * What Debian's `fakechroot chroot ROOT CMD` would do, without its shell
 * wrappers, and with the root's own dynamic loader:
 *   - LD_PRELOAD is the root's libfakechroot.so (carried in the archive by
 *     pack under .cordon/lib/), else the host's;
 *   - FAKECHROOT_BASE is the root (its real path: fakechroot compares path
 *     prefixes textually), FAKECHROOT_EXCLUDE_PATH=/dev:/proc:/sys;
 *   - FAKECHROOT_ELFLOADER is the root's loader (the program's PT_INTERP
 *     resolved inside the root): the kernel would load the host's, named by
 *     PT_INTERP, and fakechroot's execve() runs every later program through
 *     this one instead, with --argv0 where the loader knows it (glibc 2.33);
 *     libcordon-shebang.so, preloaded first, then runs #! scripts as the
 *     kernel would (fakechroot's --argv0 path loses their last arguments);
 *   - LD_LIBRARY_PATH lists the root's library directories (host paths: the
 *     loader's own opens do not go through the preload), so the root's
 *     libraries win over the host's;
 *   - the first program is started the same way: cordon resolves argv[0]
 *     along PATH inside the root, follows a #! line to its interpreter
 *     (inside the root), and executes the root's loader on it.
 * The gaps (host /etc/ld.so.cache and default directories behind the root's
 * own, static programs, glibc-internal opens, ldconfig substituted) are in
 * docs/runners.md.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cordon/cli.h>
#include <cordon/error.h>
#include <cordon/manifest.h>
#include <cordon/replay.h>
#include <cordon/util.h>

/* Where the root's loader is when the program does not say. */
static const char *const default_loaders[] = {
    "/lib64/ld-linux-x86-64.so.2",
    "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
    "/usr/lib64/ld-linux-x86-64.so.2",
};

/* The library directories ld.so would search, as paths inside the root. */
static const char *const default_libdirs[] = {
    "/usr/local/lib/x86_64-linux-gnu",
    "/usr/local/lib",
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
};

/* Static programs that would change the host (ldconfig rewrites the host's
 * /etc/ld.so.cache when run as root) are replaced by the host's true, as
 * Debian's chroot.env does. */
#define CMD_SUBST                                                                                  \
    "/sbin/ldconfig=/bin/true:/usr/sbin/ldconfig=/bin/true:/bin/ldconfig=/bin/true:"               \
    "/usr/bin/ldconfig=/bin/true"

/* The PT_INTERP of an ELF file. 0; -ENOEXEC when it is not ELF; -ENOENT
 * when it has no interpreter (static). */
static int elf_interp(const char *path, char *out, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    Elf64_Ehdr eh;
    int r = -ENOEXEC;
    if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
        goto out;
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr))
        goto out;
    r = -ENOENT;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) != (ssize_t)sizeof ph) {
            r = -ENOEXEC;
            goto out;
        }
        if (ph.p_type != PT_INTERP)
            continue;
        if (ph.p_filesz == 0 || ph.p_filesz >= size) {
            r = -ENOEXEC;
            goto out;
        }
        if (pread(fd, out, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz) {
            r = -ENOEXEC;
            goto out;
        }
        out[ph.p_filesz] = '\0';
        r = strlen(out) ? 0 : -ENOEXEC;
        goto out;
    }
out:
    (void)close(fd);
    return r;
}

/* Append `dir` (inside the root) to the search path once, as a host path,
 * if it exists there. */
static void add_libdir(int rootfd, const char *dir, struct cordon_strbuf *sb) {
    char host[PATH_MAX];
    if (cordon_root_resolve(rootfd, dir, host, sizeof host) < 0)
        return;
    struct stat st;
    if (stat(host, &st) < 0 || !S_ISDIR(st.st_mode))
        return;
    /* Already there (merged /usr makes /lib and /usr/lib one)? */
    size_t n = strlen(host);
    for (const char *p = sb->buf; *p;) {
        const char *end = strchrnul(p, ':');
        if ((size_t)(end - p) == n && !strncmp(p, host, n))
            return;
        p = *end ? end + 1 : end;
    }
    if (sb->len)
        cordon_strbuf_adds(sb, ":");
    cordon_strbuf_adds(sb, host);
}

/* The directories of ROOT/etc/ld.so.conf and what it includes. */
static void add_ldsoconf(int rootfd, const char *root, const char *conf, int depth,
                         struct cordon_strbuf *sb) {
    if (depth > 4)
        return;
    int fd = cordon_root_open(rootfd, conf, O_RDONLY);
    if (fd < 0)
        return;
    FILE *f = fdopen(fd, "r");
    if (!f) {
        (void)close(fd);
        return;
    }
    char line[PATH_MAX];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "#\n")] = '\0';
        char *s = line + strspn(line, " \t");
        size_t n = strlen(s);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            s[--n] = '\0';
        if (!n)
            continue;
        if (!strncmp(s, "include", 7) && (s[7] == ' ' || s[7] == '\t')) {
            char *pat = s + 8 + strspn(s + 8, " \t");
            char full[PATH_MAX];
            if (pat[0] != '/' ||
                (size_t)snprintf(full, sizeof full, "%s%s", root, pat) >= sizeof full)
                continue;
            glob_t g;
            if (glob(full, 0, NULL, &g) == 0) {
                size_t rl = strlen(root);
                for (size_t i = 0; i < g.gl_pathc; i++)
                    add_ldsoconf(rootfd, root, g.gl_pathv[i] + rl, depth + 1, sb);
            }
            globfree(&g);
            continue;
        }
        if (s[0] == '/')
            add_libdir(rootfd, s, sb);
    }
    (void)fclose(f);
}

struct fc_plan {
    char root[PATH_MAX];
    char lib[PATH_MAX];
    char loader[PATH_MAX]; /* host path of the root's loader */
    char cwd[PATH_MAX];    /* host path of the cwd */
    char program[PATH_MAX];
    char **argv;
    char **envp;
    bool argv0;
};

/* The first program to run, as fakechroot's execve would: the in-root path
 * `cand` found along PATH, its host path `host`. Fills p->argv. */
static int plan_exec(struct fc_plan *p, int rootfd, const struct cordon_run_spec *spec,
                     const char *cand, const char *host, struct cordon_error *err) {
    char head[256] = "";
    int fd = open(host, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, head, sizeof head - 1);
    if (fd >= 0)
        (void)close(fd);
    if (n < 0) {
        cordon_error_set(err, errno, cand, 0, 0, "cannot execute '%s' in the root '%s'", cand,
                         p->root);
        return -EACCES;
    }
    head[n] = '\0';

    char prog_inside[PATH_MAX], prog_host[PATH_MAX];
    const char *interp_arg = NULL;
    const char *script = NULL;
    (void)snprintf(prog_inside, sizeof prog_inside, "%s", cand);
    (void)snprintf(prog_host, sizeof prog_host, "%s", host);
    if (n >= 2 && head[0] == '#' && head[1] == '!') {
        /* As the kernel: the interpreter, and the rest of the line as one
         * argument. */
        char *s = head + 2;
        s[strcspn(s, "\n")] = '\0';
        s += strspn(s, " \t");
        char *end = s + strcspn(s, " \t");
        if (*end) {
            *end++ = '\0';
            end += strspn(end, " \t");
            size_t k = strlen(end);
            while (k && (end[k - 1] == ' ' || end[k - 1] == '\t'))
                end[--k] = '\0';
            if (k)
                interp_arg = end;
        }
        if (!*s) {
            cordon_error_set(err, ENOEXEC, cand, 0, 0, "cannot execute '%s': empty #! line", cand);
            return -EACCES;
        }
        (void)snprintf(prog_inside, sizeof prog_inside, "%s", s);
        int r = cordon_root_resolve(rootfd, s, prog_host, sizeof prog_host);
        if (r < 0) {
            cordon_error_set(err, -r, s, 0, 0, "cannot execute '%s': its interpreter '%s' %s", cand,
                             s, r == -ENOENT ? "is not in the root" : "cannot be found");
            return -EACCES; /* there, but cannot run: 126, as a shell says */
        }
        script = cand;
    }

    char interp[PATH_MAX];
    int r = elf_interp(prog_host, interp, sizeof interp);
    if (r == -ENOEXEC && !script) {
        /* execvp(3) runs a file without #! or ELF header with /bin/sh. */
        (void)snprintf(prog_inside, sizeof prog_inside, "/bin/sh");
        if (cordon_root_resolve(rootfd, "/bin/sh", prog_host, sizeof prog_host) < 0) {
            cordon_error_set(err, ENOEXEC, cand, 0, 0,
                             "cannot execute '%s': not a program, and the root has no /bin/sh",
                             cand);
            return -EACCES;
        }
        script = cand;
        r = elf_interp(prog_host, interp, sizeof interp);
    }
    if (r == -ENOEXEC) {
        cordon_error_set(err, ENOEXEC, prog_inside, 0, 0, "cannot execute '%s' in the root '%s'",
                         prog_inside, p->root);
        return -EACCES;
    }
    if (r == -ENOENT) {
        /* Static: nothing can be preloaded into it; it runs as it is (and
         * sees the host: docs/runners.md). */
        p->loader[0] = '\0';
    } else if (r < 0) {
        cordon_error_set(err, -r, prog_host, 0, 0, "cannot read '%s'", prog_host);
        return -EACCES;
    }

    if (r == 0) {
        int q = cordon_root_resolve(rootfd, interp, p->loader, sizeof p->loader);
        for (size_t i = 0; q < 0 && i < CORDON_ARRAY_SIZE(default_loaders); i++)
            q = cordon_root_resolve(rootfd, default_loaders[i], p->loader, sizeof p->loader);
        if (q < 0) {
            cordon_error_set(err, ENOENT, interp, 0, 0,
                             "cannot execute '%s': its interpreter (the ELF loader '%s') is not "
                             "in the root '%s'",
                             prog_inside, interp, p->root);
            return -EACCES;
        }
    }
    p->argv0 = p->loader[0] && cordon_loader_has_argv0(p->loader);

    /* loader [--argv0 ARGV0] PROGRAM [INTERP-ARG] [SCRIPT] ARGS... */
    size_t argc = cordon_strv_length(spec->argv);
    char **v = calloc(argc + 8, sizeof *v);
    if (!v)
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    size_t k = 0;
    bool ok = true;
#define PUSH(s) ok = ok && (v[k++] = strdup(s)) != NULL
    if (p->loader[0]) {
        PUSH(p->loader);
        if (p->argv0) {
            PUSH("--argv0");
            PUSH(script ? prog_inside : spec->argv[0]);
        }
        PUSH(prog_host);
    } else {
        PUSH(script ? prog_inside : spec->argv[0]);
    }
    if (interp_arg)
        PUSH(interp_arg);
    if (script) {
        /* The interpreter runs under fakechroot: it opens the script by its
         * path inside the root (absolute: the candidate was joined with the
         * cwd). */
        PUSH(script);
    }
    for (size_t i = 1; i < argc; i++)
        PUSH(spec->argv[i]);
#undef PUSH
    if (!ok) {
        cordon_strv_free(v);
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    }
    (void)snprintf(p->program, sizeof p->program, "%s", p->loader[0] ? p->loader : prog_host);
    p->argv = v;
    return 0;
}

/* Find argv[0] along PATH inside the root, as execvp(3) would. */
static int find_program(struct fc_plan *p, int rootfd, const struct cordon_run_spec *spec,
                        const char *cwd_inside, struct cordon_error *err) {
    char **cands = NULL;
    int r = cordon_exec_candidates(spec->argv[0], spec->envp, &cands);
    if (r < 0)
        return cordon_error_set(err, -r, NULL, 0, 0, "cannot search for '%s'", spec->argv[0]);
    const char *denied = NULL;
    char denied_buf[PATH_MAX];
    for (size_t i = 0; cands[i]; i++) {
        char inside[PATH_MAX], host[PATH_MAX];
        if (cordon_path_join(cwd_inside, cands[i], inside, sizeof inside) < 0)
            continue;
        if (cordon_root_resolve(rootfd, inside, host, sizeof host) < 0)
            continue;
        struct stat st;
        if (stat(host, &st) < 0)
            continue;
        /* As execve: a directory or a file without x is EACCES. */
        if (!S_ISREG(st.st_mode) || faccessat(AT_FDCWD, host, X_OK, AT_EACCESS) < 0) {
            if (!denied) {
                (void)snprintf(denied_buf, sizeof denied_buf, "%s", inside);
                denied = denied_buf;
            }
            continue;
        }
        cordon_strv_free(cands);
        return plan_exec(p, rootfd, spec, inside, host, err);
    }
    cordon_strv_free(cands);
    if (denied) {
        cordon_error_set(err, EACCES, denied, 0, 0, "cannot execute '%s' in the root '%s'", denied,
                         p->root);
        return -EACCES;
    }
    return cordon_error_set(err, ENOENT, spec->argv[0], 0, 0, "'%s' not found in the root '%s'",
                            spec->argv[0], p->root);
}

/* libcordon-shebang.so: the root's own (pack carries it, built for the
 * recording host's libc), else the one in the directory of cordon's hook. */
static int shebang_library(const char *root, char *out, size_t size) {
    if ((size_t)snprintf(out, size, "%s/.cordon/lib/libcordon-shebang.so", root) < size &&
        access(out, R_OK) == 0)
        return 0;
    char hook[PATH_MAX];
    int r = cordon_find_hook(hook, sizeof hook);
    if (r < 0)
        return r;
    char *slash = strrchr(hook, '/');
    if (!slash)
        return -ENOENT;
    *slash = '\0';
    if ((size_t)snprintf(out, size, "%s/libcordon-shebang.so", hook) >= size)
        return -ENAMETOOLONG;
    return access(out, R_OK) == 0 ? 0 : -errno;
}

static int plan_env(struct fc_plan *p, int rootfd, const struct cordon_run_spec *spec) {
    p->envp = cordon_strv_copy(spec->envp ? spec->envp : (char *const[]){NULL});
    if (!p->envp)
        return -ENOMEM;
    struct cordon_strbuf ld = CORDON_STRBUF_INIT, pre = CORDON_STRBUF_INIT;
    /* The recorded LD_LIBRARY_PATH first, inside the root, as fakechroot's
     * chroot wrapper does; then ld.so.conf's directories and the defaults. */
    const char *old = cordon_env_get(spec->envp, "LD_LIBRARY_PATH");
    for (const char *s = old; s && *s;) {
        const char *end = strchrnul(s, ':');
        char dir[PATH_MAX];
        if ((size_t)(end - s) < sizeof dir && *s == '/') {
            memcpy(dir, s, (size_t)(end - s));
            dir[end - s] = '\0';
            add_libdir(rootfd, dir, &ld);
        }
        s = *end ? end + 1 : end;
    }
    add_ldsoconf(rootfd, p->root, "/etc/ld.so.conf", 0, &ld);
    for (size_t i = 0; i < CORDON_ARRAY_SIZE(default_libdirs); i++)
        add_libdir(rootfd, default_libdirs[i], &ld);

    /* The hook first: it sees the paths as the program gives them, before
     * fakechroot rewrites them into host paths. */
    char hook_host[PATH_MAX] = "";
    if (spec->hook) {
        (void)snprintf(hook_host, sizeof hook_host, "%s%s", p->root, spec->hook);
        cordon_strbuf_adds(&pre, hook_host);
        cordon_strbuf_adds(&pre, ":");
    }
    /* With --argv0, fakechroot's execve() drops a #! script's last two
     * arguments: libcordon-shebang.so, beside cordon's hook, runs scripts
     * through their interpreter before fakechroot sees them (fc_shebang.c). */
    char shebang[PATH_MAX];
    if (p->argv0 && shebang_library(p->root, shebang, sizeof shebang) == 0) {
        cordon_strbuf_adds(&pre, shebang);
        cordon_strbuf_adds(&pre, ":");
    }
    cordon_strbuf_adds(&pre, p->lib);
    const char *oldpre = cordon_env_get(spec->envp, "LD_PRELOAD");
    for (const char *s = oldpre; s && *s;) {
        const char *end = s + strcspn(s, ": ");
        if (end > s && *s == '/') {
            cordon_strbuf_adds(&pre, ":");
            cordon_strbuf_adds(&pre, p->root);
            cordon_strbuf_addn(&pre, s, (size_t)(end - s));
        }
        s = *end ? end + 1 : end;
    }
    int r = ld.failed || pre.failed ? -ENOMEM : 0;
    if (!r)
        r = cordon_env_set(&p->envp, "LD_PRELOAD", pre.buf);
    if (!r)
        r = cordon_env_set(&p->envp, "LD_LIBRARY_PATH", ld.buf);
    if (!r)
        r = cordon_env_set(&p->envp, "FAKECHROOT_BASE", p->root);
    if (!r)
        r = cordon_env_set(&p->envp, "FAKECHROOT_EXCLUDE_PATH", "/dev:/proc:/sys");
    if (!r)
        r = cordon_env_set(&p->envp, "FAKECHROOT_CMD_SUBST", CMD_SUBST);
    if (!r && p->loader[0])
        r = cordon_env_set(&p->envp, "FAKECHROOT_ELFLOADER", p->loader);
    if (!r && p->argv0)
        r = cordon_env_set(&p->envp, "FAKECHROOT_ELFLOADER_OPT_ARGV0", "--argv0");
    if (!r && spec->hook) {
        r = cordon_env_set(&p->envp, "LD_AUDIT", hook_host);
        if (!r)
            r = cordon_env_set(&p->envp, "CORDON_LOG", spec->log ? spec->log : "");
        if (!r)
            r = cordon_env_set(&p->envp, "CORDON_HOOK", hook_host);
    }
    cordon_strbuf_release(&ld);
    cordon_strbuf_release(&pre);
    return r;
}

int cordon_run_fakechroot(const struct cordon_run_spec *spec, int *ret_status,
                          struct cordon_error *err) {
    struct fc_plan *p = calloc(1, sizeof *p);
    if (!p)
        return cordon_error_set(err, ENOMEM, NULL, 0, 0, "out of memory");
    int rootfd = -1, errp[2] = {-1, -1};
    int r;
    cordon_error_clear(err);
    if (!realpath(spec->root, p->root)) {
        cordon_error_set(err, errno, spec->root, 0, 0, "cannot open the root '%s'", spec->root);
        r = CORDON_RUN_SETUP_FAILED;
        goto out;
    }
    rootfd = open(p->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        cordon_error_set(err, errno, p->root, 0, 0, "cannot open the root '%s'", p->root);
        r = CORDON_RUN_SETUP_FAILED;
        goto out;
    }
    bool host_lib;
    if (cordon_fakechroot_library(p->root, p->lib, sizeof p->lib, &host_lib) < 0) {
        cordon_error_set(err, ENOENT, p->lib, 0, 0,
                         "no libfakechroot.so: neither '%s' nor the host's "
                         "(install fakechroot)",
                         p->lib);
        r = CORDON_RUN_SETUP_FAILED;
        goto out;
    }

    /* The cwd, made inside the root if missing; fakechroot's getcwd strips
     * the root's prefix from the host path. */
    char cwd_inside[PATH_MAX];
    (void)snprintf(cwd_inside, sizeof cwd_inside, "%s", spec->cwd ? spec->cwd : "/");
    cordon_path_normalize(cwd_inside);
    if ((r = cordon_root_mkdir_p(rootfd, cwd_inside)) < 0 ||
        (r = cordon_root_resolve(rootfd, cwd_inside, p->cwd, sizeof p->cwd)) < 0) {
        cordon_error_set(err, -r, cwd_inside, 0, 0,
                         "cannot make the working directory '%s' in the root", cwd_inside);
        r = CORDON_RUN_SETUP_FAILED;
        goto out;
    }
    struct stat st;
    if (fstatat(rootfd, "tmp", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
        if (mkdirat(rootfd, "tmp", 01777) < 0 || fchmodat(rootfd, "tmp", 01777, 0) < 0) {
            cordon_error_set(err, errno, p->root, 0, 0, "cannot create '%s/tmp'", p->root);
            r = CORDON_RUN_SETUP_FAILED;
            goto out;
        }
    }

    if ((r = find_program(p, rootfd, spec, cwd_inside, err)) < 0)
        goto out;
    if ((r = plan_env(p, rootfd, spec)) < 0) {
        cordon_error_set(err, -r, NULL, 0, 0, "out of memory");
        goto out;
    }

    if (pipe2(errp, O_CLOEXEC) < 0) {
        cordon_error_set(err, errno, NULL, 0, 0, "cannot create a pipe");
        r = CORDON_RUN_SETUP_FAILED;
        goto out;
    }
    struct cordon_sigblock sb;
    if ((r = cordon_signals_block(&sb)) < 0) {
        cordon_error_set(err, -r, NULL, 0, 0, "cannot block signals");
        r = CORDON_RUN_SETUP_FAILED;
        goto out;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int e[2] = {0, 0};
        if (chdir(p->cwd) < 0) {
            e[0] = 1;
            e[1] = errno;
        } else {
            cordon_signals_child_reset();
            execve(p->program, p->argv, p->envp);
            e[1] = errno;
        }
        ssize_t w = write(errp[1], e, sizeof e);
        (void)w;
        _exit(e[1] == ENOENT ? 127 : 126);
    }
    int fork_errno = errno;
    (void)close(TAKE_FD(errp[1]));
    if (pid < 0) {
        cordon_signals_restore(&sb);
        cordon_error_set(err, fork_errno, NULL, 0, 0, "cannot fork");
        r = CORDON_RUN_SETUP_FAILED;
        goto out;
    }
    int e[2];
    ssize_t n;
    while ((n = read(errp[0], e, sizeof e)) < 0 && errno == EINTR)
        ;
    int status = 0;
    int w = cordon_wait_forwarding(pid, &status);
    cordon_signals_restore(&sb);
    if (n == (ssize_t)sizeof e) {
        if (e[0] == 1)
            cordon_error_set(err, e[1], p->cwd, 0, 0, "cannot change to '%s'", p->cwd);
        else
            cordon_error_set(err, e[1], p->program, 0, 0, "cannot execute '%s'", p->program);
        r = CORDON_RUN_SETUP_FAILED;
        goto out;
    }
    if (w < 0) {
        cordon_error_set(err, -w, NULL, 0, 0, "cannot wait for the command");
        r = CORDON_RUN_SETUP_FAILED;
        goto out;
    }
    *ret_status = status;
    if (spec->ret_pid)
        *spec->ret_pid = pid;
    r = 0;
out:
    if (rootfd >= 0)
        (void)close(rootfd);
    for (int i = 0; i < 2; i++)
        if (errp[i] >= 0)
            (void)close(errp[i]);
    cordon_strv_free(p->argv);
    cordon_strv_free(p->envp);
    free(p);
    return r;
}
