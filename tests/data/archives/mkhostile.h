/* Hostile archives for the unpack tests and the fuzzing corpus, written
 * with libarchive at test time rather than kept as binary files. */
#pragma once

#include <stddef.h>

/* Where the "through a symlink" case's link points: a directory the test
 * makes and checks is still empty afterwards. */
#define MKHOSTILE_CANARY "/tmp/cordon-hostile-canary"
/* The name the "absolute" case tries to write. */
#define MKHOSTILE_ABSOLUTE "/tmp/cordon-hostile-absolute"

struct mkhostile_case {
    const char *name;
    int error;        /* the errno cordon_unpack must return (positive) */
    const char *text; /* a piece of the message that names the problem */
};

extern const struct mkhostile_case mkhostile_cases[];
extern const size_t mkhostile_n_cases;

/* Write the case `name` (one of the table, or "good": an archive that is
 * unusual but must unpack) to `path`. 0, or -1 with errno set. */
int mkhostile_write(const char *name, const char *path);
