/* Lexical path absolutisation for the hook: pure functions, no allocation, no
 * system calls, so the unit tests can call them and the hook can call them
 * from a signal handler or a vfork child. */
#pragma once

#include <stddef.h>

/* Make `path` absolute against `base` (an absolute directory of `blen`
 * bytes; ignored when `path` is absolute) and normalise it lexically into
 * `out` of `size` bytes: "//" collapsed, "." dropped, ".." pops a component
 * (never above "/"), no trailing "/". Returns the length written (without
 * the NUL), or 0 when `path` is empty, `base` is not absolute, or the
 * result does not fit. */
size_t hook_path_join(const char *base, size_t blen, const char *path, char *out, size_t size);

/* Write the decimal form of `v` after `prefix` into `out`: used for
 * "/proc/self/fd/N". Returns the length. `out` must hold 32 bytes more than
 * the prefix. */
size_t hook_path_fd(char *out, const char *prefix, unsigned v);
