/* cordon: the front end's helpers. Only main.c and cmd_*.c use these; they
 * are the one place that prints to the user and chooses exit codes.
 *
 * Exit codes follow env(1) and chroot(1): the command's own status (128+N
 * when it died of signal N), and for cordon's own failures
 * CORDON_EXIT_FAILURE (125), CORDON_EXIT_CANNOT_EXEC (126) and
 * CORDON_EXIT_NOT_FOUND (127). verify and diff exit 1 when they find a
 * difference, like diff(1).
 */
#pragma once

#include <stdbool.h>

struct cordon_error;

#define CORDON_EXIT_FAILURE 125
#define CORDON_EXIT_CANNOT_EXEC 126
#define CORDON_EXIT_NOT_FOUND 127

/* "cordon: TEXT" on stderr. */
void cordon_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "cordon: TEXT" and exit(CORDON_EXIT_FAILURE). */
__attribute__((noreturn, format(printf, 1, 2))) void cordon_die(const char *fmt, ...);
/* A usage error: "cordon SUB: TEXT" plus "Try 'cordon SUB --help'." and
 * exit(CORDON_EXIT_FAILURE). */
__attribute__((noreturn, format(printf, 2, 3))) void cordon_usage_error(const char *sub,
                                                                        const char *fmt, ...);
/* The usage error for getopt's '?' or ':' result `c` (run with opterr = 0
 * and ':' leading the option string): "unknown option '--x'", "option '-o'
 * needs an argument" or "option '--quiet' takes no argument", named from
 * optopt and argv[optind - 1]. */
__attribute__((noreturn)) void cordon_usage_bad_option(const char *sub, int c, char *const *argv);
/* Print a module's error ("cordon: PATH:LINE: TEXT: strerror") on stderr. */
void cordon_print_error(const struct cordon_error *e);

/* The exit code for a wait(2) status: WEXITSTATUS, or 128+signal. */
int cordon_exit_code(int status);

/* The directory holding this executable (from /proc/self/exe), into `out`.
 * 0 or -errno. */
int cordon_self_dir(char *out, unsigned long size);

/* The hook library: $CORDON_HOOK_LIBRARY if set, else the one installed
 * beside this executable. 0 or -ENOENT with `out` holding where it looked. */
int cordon_find_hook(char *out, unsigned long size);

/* The subcommands: each parses its own arguments (argv[0] is its name) and
 * returns the process exit code. */
int cordon_cmd_record(int argc, char **argv);
int cordon_cmd_show(int argc, char **argv);
int cordon_cmd_verify(int argc, char **argv);
int cordon_cmd_diff(int argc, char **argv);
int cordon_cmd_pack(int argc, char **argv);
int cordon_cmd_replay(int argc, char **argv);
int cordon_cmd_run(int argc, char **argv);
int cordon_cmd_doctor(int argc, char **argv);
int cordon_cmd_report(int argc, char **argv);
int cordon_cmd_learn(int argc, char **argv);
int cordon_cmd_bisect(int argc, char **argv);
int cordon_cmd_import(int argc, char **argv);
int cordon_cmd_export(int argc, char **argv);
