/* What an init (the namespace runners') and a keeper (the hook's and the
 * landlock runner's: cordon's child, the command's parent and the
 * subreaper of all it starts) do while the command runs and when it ends.
 * Private to the runners. Run in children forked from a process with other
 * threads: nothing here allocates. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

/* The signals cordon blocks while a command runs and an init or a keeper
 * takes with sigwaitinfo, into `set`: SIGCHLD, the four forwarded (SIGINT,
 * SIGTERM, SIGHUP, SIGQUIT) and, for a keeper, SIGUSR2, its
 * PR_SET_PDEATHSIG: cordon's death. */
void cordon_reaper_sigset(sigset_t *set, bool keeper);

/* Take the signals of `set` (blocked by the caller) until `cmd` ends:
 * forward to `cmd` those kill(2) sent (a terminal's reach the command's
 * process group without us), reap every child that ends, orphans included.
 * With `cordon` > 0 (a keeper), a SIGUSR2 when cordon is no longer the
 * parent means cordon died: what is left is killed and the caller exits
 * 128 + SIGKILL here. Returns `cmd`'s wait status. */
int cordon_reap_until(pid_t cmd, const sigset_t *set, pid_t cordon);

/* Kill and reap every child of this process until none is left: as a
 * subreaper the keeper gets the orphans of what it kills, so a
 * double-forked daemon goes too. The children come from
 * /proc/self/task/TID/children (CONFIG_PROC_CHILDREN); without it, only
 * those wait(2) finds are reaped. */
void cordon_kill_children(void);
