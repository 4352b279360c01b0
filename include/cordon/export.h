/* cordon: a manifest's inputs, or a policy, as another sandbox's native
 * configuration.
 *
 * Formats:
 *   bwrap         a /bin/sh script that runs `bwrap ... -- "$@"`;
 *   sandbox-exec  a macOS SBPL profile;
 *   unveil        an OpenBSD C program that unveil(2)s the paths, pledges
 *                 execpromises (without them OpenBSD drops the unveils at
 *                 exec) and execvp(3)s the command;
 *   landlock      a Linux C program that restricts itself with Landlock
 *                 (ABI probed, best effort down to ABI 1) and execvp(3)s
 *                 the command.
 *
 * From a manifest, the view is exactly the inputs the build used: files
 * (read, executed, loaded, stat'ed), directories (looked at, listed) and
 * every symlink on their way as it is on the host (merged /usr: /lib ->
 * usr/lib), resolved one component at a time as pack does; missing probes
 * stay missing. The work tree and the outputs' directories outside it are
 * read-write. From a policy, its path rules, environment, HOME and network.
 *
 * Every output starts with a comment naming its source and saying what the
 * target cannot express and how it was approximated. The same input and
 * host give the same bytes (paths sorted).
 *
 * Outline:
 *   1. cordon_manifest_read() or cordon_policy_load_*();
 *   2. cordon_export_manifest() or cordon_export_policy() into a new string;
 *   3. write it, free it.
 */
#pragma once

#include <stdbool.h>

struct cordon_error;
struct cordon_manifest;
struct cordon_policy;

enum cordon_export_format {
    CORDON_EXPORT_BWRAP,
    CORDON_EXPORT_SANDBOX_EXEC,
    CORDON_EXPORT_UNVEIL,
    CORDON_EXPORT_LANDLOCK,
    CORDON_EXPORT_FORMAT_MAX,
    CORDON_EXPORT_FORMAT_INVALID = -1,
};
/* "bwrap", "sandbox-exec", "unveil", "landlock"; NULL for anything else. */
const char *cordon_export_format_name(enum cordon_export_format f);
enum cordon_export_format cordon_export_format_from_name(const char *s);

struct cordon_export_options {
    enum cordon_export_format format;
    /* What the header comment names as the source ("manifest 'm.json'"). */
    const char *source;
    /* Where host paths are looked up to find the symlinks on an input's way
     * and what a directory holds (lstat, readlink, readdir): "/" when NULL.
     * Tests point it at a fixture tree, so that goldens do not depend on
     * the machine. The exported paths are the host's, without this prefix. */
    const char *host_root;
    /* The default command, NULL-terminated (borrowed): NULL takes the
     * manifest's recorded command (a policy has none: the command line then
     * has to name one). */
    char *const *argv;
    /* bwrap: bind a whole directory read-only instead of its entries one
     * by one where that shows exactly the same (every entry the host has
     * there is an input of the manifest, recursively). */
    bool collapse;
    /* -1: the default (off for a manifest: a build's inputs are files; the
     * policy's own setting for a policy), 0 off, 1 on. */
    int network;
};

/* Render `m` (sorted) in `o->format`. *ret is a new string (caller frees).
 * 0, -ENOMEM, -EINVAL (a bad input path, a name too long) or -errno from
 * the host lookups, with `err` filled. */
int cordon_export_manifest(const struct cordon_manifest *m, const struct cordon_export_options *o,
                           char **ret, struct cordon_error *err)
    __attribute__((warn_unused_result));

/* Render policy `p` in `o->format`. Same contract. */
int cordon_export_policy(const struct cordon_policy *p, const struct cordon_export_options *o,
                         char **ret, struct cordon_error *err) __attribute__((warn_unused_result));

/* Quote `s` for a POSIX shell: unchanged if it only holds characters no
 * shell treats specially, else in single quotes with ' as '\''. Appended
 * to `sb` (struct cordon_strbuf). */
struct cordon_strbuf;
void cordon_export_sh_quote(struct cordon_strbuf *sb, const char *s);
