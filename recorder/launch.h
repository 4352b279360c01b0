/* Internal to the recorder: starting the command. */
#pragma once

#include <sys/types.h>

struct cordon_error;

/* Start argv[0] (searched in PATH) with `envp`, signals reset to their
 * defaults (SIGPIPE included) and an empty mask. Everything the child needs is
 * prepared before fork; the child reports an exec failure as an errno over a
 * CLOEXEC pipe and _exits, so the parent can say "not found" or "cannot
 * execute" precisely. 0 with *ret_pid set, or -errno with `err` filled (the
 * exec's errno: -ENOENT, -EACCES, -ENOEXEC, ...). */
int launch_spawn(char *const argv[], char *const envp[], pid_t *ret_pid, struct cordon_error *err);

/* Reset every catchable signal to SIG_DFL and unblock all: what a child
 * must start with, whatever its parent ignored. Async-signal-safe. */
void launch_reset_signals(void);
