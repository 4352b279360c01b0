/* Internal to the recorder: starting the command. */
#pragma once

#include <stdbool.h>

#include <sys/types.h>

struct cordon_error;

/* Find the program execvp(3) would run for `name`: `name` itself if it
 * has a '/', else the first executable regular file in $PATH (default
 * "/bin:/usr/bin"). `miss` (may be NULL) is told every candidate that did not
 * exist, which are probes the build made through its recorder. `out` gets an
 * absolute, normalised path. 0, -ENOENT, or -EACCES when only non-executable
 * candidates were found. */
int launch_find(const char *name, const char *cwd, char *out, size_t size,
                void (*miss)(void *ctx, const char *path), void *ctx);

/* Start `path` (from launch_find) with argv with `envp`, signals reset to their
 * defaults (SIGPIPE included) and an empty mask. Everything the child needs is
 * prepared before fork; the child reports an exec failure as an errno over a
 * CLOEXEC pipe and _exits, so the parent can say "not found" or "cannot
 * execute" precisely. 0 with *ret_pid set, or -errno with `err` filled (the
 * exec's errno: -ENOENT, -EACCES, -ENOEXEC, ...). */
int launch_spawn(const char *path, char *const argv[], char *const envp[], pid_t *ret_pid,
                 struct cordon_error *err);

/* launch_spawn, with the complete path's seccomp filter installed in the
 * child before its exec when `notify` (the supervisor's socket) is not
 * NULL. A child that cannot install it runs unobserved: the caller tells
 * by the supervisor's count. With `uring_only`, the child gets just the
 * filter that refuses io_uring (seccomp_refuse_uring), not the full one. */
int launch_spawn_observed(const char *path, char *const argv[], char *const envp[],
                          const char *notify, bool uring_only, pid_t *ret_pid,
                          struct cordon_error *err);

/* Reset every catchable signal to SIG_DFL and unblock all: what a child
 * must start with, whatever its parent ignored. Async-signal-safe. */
void launch_reset_signals(void);
