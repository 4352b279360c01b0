/* Policy enforcement shared by the hook (libcordon-hook.so, `cordon run
 * --backend hook`) and the seccomp supervisor (trace_seccomp.c): the
 * compiled policy, the longest-prefix match, and the path walk that resolves
 * each symlink by hand so that a link in a writable directory pointing at a
 * hidden file is refused like the file itself.
 *
 * The compiled policy (written by replayer/runner_hook.c, named by
 * CORDON_POLICY) is one rule a line, three fields separated by tabs:
 *
 *     ro|rw|hide|deny TAB view-path TAB host-path LF
 *
 * The view path is what programs name; the host path is where it really is
 * (the same path, or /dev/null and private directories for `empty`,
 * `tmpfs` and `redirect`). The rule whose view path is the longest prefix
 * (by component) of a path decides; of rules on the same path the last one
 * wins. A path no rule covers is hidden, except the ancestors of a visible
 * rule, which are traversable read-only (as the directories leading to a
 * bind mount are).
 *
 * Everything here obeys the hook's rules: no allocation, no stdio, raw
 * system calls that leave errno alone; the table is a caller-owned struct. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CORDON_ENV_POLICY "CORDON_POLICY"

enum hook_access { HOOK_ACC_NONE, HOOK_ACC_RO, HOOK_ACC_RW, HOOK_ACC_HIDE, HOOK_ACC_DENY };

/* What a call does, for hook_enforce_resolve(). */
enum {
    HOOK_ENF_NOFOLLOW = 1 << 0, /* the last component is not followed */
    HOOK_ENF_WRITE = 1 << 1,    /* modifies the file system: EROFS under ro */
    HOOK_ENF_CREATE = 1 << 2,   /* writes only if the target does not exist yet */
    HOOK_ENF_DATA = 1 << 3,     /* writes data only: allowed on devices, fifos, sockets */
    HOOK_ENF_LOOK = 1 << 4,     /* only looks (stat, access, readlink): a denied path is there */
};

struct hook_rule {
    enum hook_access access;
    const char *path; /* view; not NUL-terminated at plen */
    const char *host;
    size_t plen, hlen;
};

#define HOOK_RULES_MAX 4096
#define HOOK_KNOWN_BITS 12

struct hook_rules {
    size_t n;
    struct hook_rule r[HOOK_RULES_MAX]; /* sorted by view path, stable */
    /* Paths the walk found to be read-only, mapped onto themselves and not
     * a link (hashes; 0 is empty): the next walk through them reads no
     * link and matches no rule, which is most of a toolchain's lookups.
     * Only read-only ones, which the program cannot turn into a link
     * through the policy. The one part a resolve writes (atomics). */
    uint64_t known[1u << HOOK_KNOWN_BITS];
};

/* Parse the compiled policy `text` (`len` bytes, modified in place: tabs
 * and newlines become NULs; it must outlive `rs`). 0, or -EINVAL with the
 * 1-based line in *ret_line, -E2BIG for too many rules. On failure `rs`
 * holds no rule (every path hidden: fail closed). */
int hook_rules_parse(struct hook_rules *rs, char *text, size_t len, unsigned *ret_line);

/* The access of absolute normalised view path `view` (`vlen` bytes), and
 * its host path into `host` (PATH_MAX). */
enum hook_access hook_rules_match(const struct hook_rules *rs, const char *view, size_t vlen,
                                  char *host);

/* The view path of host path `host` (the reverse of a redirect; the same
 * path when no rule maps onto it) into `view` (PATH_MAX). Its length, 0 if
 * it does not fit. */
size_t hook_rules_unmap(const struct hook_rules *rs, const char *host, size_t hlen, char *view);

struct hook_resolved {
    enum hook_access access;
    char view[PATH_MAX]; /* the canonical path as the program sees it */
    char host[PATH_MAX]; /* where it is: what the real call should be given */
};

/* Resolve `path` (relative to `base`, the host path of the cwd or the
 * dirfd, NULL when `path` is absolute) component by component, reading
 * each link (raw readlinkat) after mapping its prefix through the rules,
 * and decide for `flags` (HOOK_ENF_*). `proc_pid` > 0 makes "/proc/self"
 * that process's (the supervisor looks on another's behalf). 0 with
 * r->host set, or the errno the call must fail with: ENOENT (hidden, or
 * no rule), EACCES (deny), EROFS (a write under ro), ELOOP, ENAMETOOLONG. */
int hook_enforce_resolve(const struct hook_rules *rs, const char *base, const char *path, int flags,
                         int proc_pid, struct hook_resolved *r);

/* Is entry `name` of directory `dir` (a view path of `dlen` bytes) hidden
 * (no rule, or hide)? "." and ".." never are. */
bool hook_rules_entry_hidden(const struct hook_rules *rs, const char *dir, size_t dlen,
                             const char *name);

/* open(2) flags as HOOK_ENF_* flags. */
int hook_enforce_open_flags(int flags);
