/* cordon: classification of inputs into categories.
 *
 * A category says why an input matters beyond "the build read it": most are
 * the breaches of docs/manifest-schema.md (user-config, credentials, cache,
 * ...). The foundation uses it to keep secrets out of archives by default and
 * to let `pack --drop CATEGORY` leave a class of inputs out. Patterns are
 * matched against the recording's own HOME (from the manifest's environment),
 * not this host's. The built-in rules (first match wins) are listed at the
 * top of manifest/classify.c; the knowledge base adds explanations.
 */
#pragma once

#include <stdbool.h>

struct cordon_manifest;
struct cordon_input;

/* clang-format off: one entry a line reads better than a reflowed macro */
#define CORDON_CATEGORIES(X)                                                                       \
    X(DECLARED, "declared")                           /* the work tree */                          \
    X(SYSTEM, "system")                               /* the distribution's files */               \
    X(USER_CONFIG, "user-config")                     /* ~/.gitconfig, ~/.config/... */            \
    X(SITE_CONFIG, "site-config")                     /* /etc/gitconfig, /etc/pip.conf */          \
    X(CREDENTIALS, "credentials")                     /* ~/.ssh, ~/.netrc, ~/.aws/credentials */   \
    X(CACHE, "cache")                                 /* ~/.cache, ccache */                       \
    X(USER_PACKAGE_REGISTRY, "user-package-registry") /* ~/.cmake/packages */                      \
    X(USER_SITE_PACKAGES, "user-site-packages")       /* ~/.local/lib/pythonX.Y/site-packages */   \
    X(SYSTEM_HEADER, "system-header")   /* /usr/local/include, /usr/include outside libc */        \
    X(SYSTEM_LIBRARY, "system-library") /* /usr/local/lib */                                       \
    X(UNDECLARED, "undeclared-read")    /* anything else outside the work tree */                  \
    X(VIRTUAL, "virtual")               /* /proc, /sys, /dev: provided by the runner */
/* clang-format on */

enum cordon_category {
#define CORDON_CAT_ENUM(id, name) CORDON_CAT_##id,
    CORDON_CATEGORIES(CORDON_CAT_ENUM)
#undef CORDON_CAT_ENUM
        CORDON_CAT_MAX,
    CORDON_CAT_INVALID = -1,
};

const char *cordon_category_name(enum cordon_category c);
/* CORDON_CAT_INVALID for an unknown name. */
enum cordon_category cordon_category_from_name(const char *name);

/* The category of one path, given the recording's HOME (may be NULL) and
 * work tree (may be NULL). */
enum cordon_category cordon_classify_path(const char *path, const char *home, const char *worktree);

/* Set every input's `category` string. 0 or -ENOMEM. */
int cordon_classify_manifest(struct cordon_manifest *m);
