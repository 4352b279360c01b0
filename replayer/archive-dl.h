/* libarchive, loaded on first use rather than linked: linking it made
 * every start of `cordon` (run, --version) map libarchive and what it
 * pulls in (libxml2, ICU, libstdc++, nettle, ...), ~2 M cycles in the
 * dynamic loader, for the few commands that read or write an archive.
 *
 * Private to pack.c and unpack.c, included AFTER <archive.h> and
 * <archive_entry.h>: the prototypes stay libarchive's own (__typeof__),
 * and each name below becomes a call through the loaded table, so the call
 * sites read as plain libarchive. Every entry point that reaches libarchive
 * calls cordon_archive_load first; a call before that is a NULL call. */
#ifndef CORDON_REPLAYER_ARCHIVE_DL_H
#define CORDON_REPLAYER_ARCHIVE_DL_H

#include <archive.h>
#include <archive_entry.h>

struct cordon_error;

/* Every libarchive function pack.c and unpack.c call. One missing here is
 * an undefined reference when linking cordon (which no longer links
 * libarchive), not a silent direct call. */
#define CORDON_ARCHIVE_FUNCTIONS(X)                                                                \
    X(archive_entry_clear)                                                                         \
    X(archive_entry_filetype)                                                                      \
    X(archive_entry_free)                                                                          \
    X(archive_entry_hardlink)                                                                      \
    X(archive_entry_mtime)                                                                         \
    X(archive_entry_mtime_is_set)                                                                  \
    X(archive_entry_mtime_nsec)                                                                    \
    X(archive_entry_new)                                                                           \
    X(archive_entry_pathname)                                                                      \
    X(archive_entry_perm)                                                                          \
    X(archive_entry_set_filetype)                                                                  \
    X(archive_entry_set_gid)                                                                       \
    X(archive_entry_set_hardlink)                                                                  \
    X(archive_entry_set_mtime)                                                                     \
    X(archive_entry_set_pathname)                                                                  \
    X(archive_entry_set_perm)                                                                      \
    X(archive_entry_set_size)                                                                      \
    X(archive_entry_set_symlink)                                                                   \
    X(archive_entry_set_uid)                                                                       \
    X(archive_entry_size)                                                                          \
    X(archive_entry_sparse_add_entry)                                                              \
    X(archive_entry_symlink)                                                                       \
    X(archive_errno)                                                                               \
    X(archive_error_string)                                                                        \
    X(archive_filter_bytes)                                                                        \
    X(archive_read_data_block)                                                                     \
    X(archive_read_free)                                                                           \
    X(archive_read_new)                                                                            \
    X(archive_read_next_header)                                                                    \
    X(archive_read_open_filename)                                                                  \
    X(archive_read_support_filter_gzip)                                                            \
    X(archive_read_support_filter_zstd)                                                            \
    X(archive_read_support_format_tar)                                                             \
    X(archive_write_add_filter_gzip)                                                               \
    X(archive_write_add_filter_zstd)                                                               \
    X(archive_write_close)                                                                         \
    X(archive_write_data)                                                                          \
    X(archive_write_fail)                                                                          \
    X(archive_write_free)                                                                          \
    X(archive_write_header)                                                                        \
    X(archive_write_new)                                                                           \
    X(archive_write_open_fd)                                                                       \
    X(archive_write_set_bytes_in_last_block)                                                       \
    X(archive_write_set_filter_option)                                                             \
    X(archive_write_set_format_pax)

struct cordon_archive_fns {
#define X(name) __typeof__(name) *name;
    CORDON_ARCHIVE_FUNCTIONS(X)
#undef X
};

extern struct cordon_archive_fns cordon_archive_fn;

/* dlopen libarchive and look up every function, once for the process
 * (thread-safe). 0, or -ENOENT when the library (or one it needs) is not
 * found, -ELIBBAD when it cannot be loaded and -EBADMSG when it lacks a
 * function, with `err` naming the library or the
 * function; the failure is remembered and repeated on later calls. */
int cordon_archive_load(struct cordon_error *err);

/* The call sites' names, redirected to the table (a macro cannot define
 * macros, hence the second list: the X list above catches a name missing
 * here, as an undefined reference). archive-dl.c fills the table by these
 * names and must see them plain. */
#ifndef CORDON_ARCHIVE_DL_IMPL
#define archive_entry_clear (cordon_archive_fn.archive_entry_clear)
#define archive_entry_filetype (cordon_archive_fn.archive_entry_filetype)
#define archive_entry_free (cordon_archive_fn.archive_entry_free)
#define archive_entry_hardlink (cordon_archive_fn.archive_entry_hardlink)
#define archive_entry_mtime (cordon_archive_fn.archive_entry_mtime)
#define archive_entry_mtime_is_set (cordon_archive_fn.archive_entry_mtime_is_set)
#define archive_entry_mtime_nsec (cordon_archive_fn.archive_entry_mtime_nsec)
#define archive_entry_new (cordon_archive_fn.archive_entry_new)
#define archive_entry_pathname (cordon_archive_fn.archive_entry_pathname)
#define archive_entry_perm (cordon_archive_fn.archive_entry_perm)
#define archive_entry_set_filetype (cordon_archive_fn.archive_entry_set_filetype)
#define archive_entry_set_gid (cordon_archive_fn.archive_entry_set_gid)
#define archive_entry_set_hardlink (cordon_archive_fn.archive_entry_set_hardlink)
#define archive_entry_set_mtime (cordon_archive_fn.archive_entry_set_mtime)
#define archive_entry_set_pathname (cordon_archive_fn.archive_entry_set_pathname)
#define archive_entry_set_perm (cordon_archive_fn.archive_entry_set_perm)
#define archive_entry_set_size (cordon_archive_fn.archive_entry_set_size)
#define archive_entry_set_symlink (cordon_archive_fn.archive_entry_set_symlink)
#define archive_entry_set_uid (cordon_archive_fn.archive_entry_set_uid)
#define archive_entry_size (cordon_archive_fn.archive_entry_size)
#define archive_entry_sparse_add_entry (cordon_archive_fn.archive_entry_sparse_add_entry)
#define archive_entry_symlink (cordon_archive_fn.archive_entry_symlink)
#define archive_errno (cordon_archive_fn.archive_errno)
#define archive_error_string (cordon_archive_fn.archive_error_string)
#define archive_filter_bytes (cordon_archive_fn.archive_filter_bytes)
#define archive_read_data_block (cordon_archive_fn.archive_read_data_block)
#define archive_read_free (cordon_archive_fn.archive_read_free)
#define archive_read_new (cordon_archive_fn.archive_read_new)
#define archive_read_next_header (cordon_archive_fn.archive_read_next_header)
#define archive_read_open_filename (cordon_archive_fn.archive_read_open_filename)
#define archive_read_support_filter_gzip (cordon_archive_fn.archive_read_support_filter_gzip)
#define archive_read_support_filter_zstd (cordon_archive_fn.archive_read_support_filter_zstd)
#define archive_read_support_format_tar (cordon_archive_fn.archive_read_support_format_tar)
#define archive_write_add_filter_gzip (cordon_archive_fn.archive_write_add_filter_gzip)
#define archive_write_add_filter_zstd (cordon_archive_fn.archive_write_add_filter_zstd)
#define archive_write_close (cordon_archive_fn.archive_write_close)
#define archive_write_data (cordon_archive_fn.archive_write_data)
#define archive_write_fail (cordon_archive_fn.archive_write_fail)
#define archive_write_free (cordon_archive_fn.archive_write_free)
#define archive_write_header (cordon_archive_fn.archive_write_header)
#define archive_write_new (cordon_archive_fn.archive_write_new)
#define archive_write_open_fd (cordon_archive_fn.archive_write_open_fd)
#define archive_write_set_bytes_in_last_block                                                      \
    (cordon_archive_fn.archive_write_set_bytes_in_last_block)
#define archive_write_set_filter_option (cordon_archive_fn.archive_write_set_filter_option)
#define archive_write_set_format_pax (cordon_archive_fn.archive_write_set_format_pax)
#endif

#endif
