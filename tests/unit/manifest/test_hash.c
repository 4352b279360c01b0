/* Hashing: known answers from libxxhash's own one-shot function, hex, files,
 * and the thread pool. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <xxhash.h>

#include <cordon/hash.h>

#include "helpers.h"

static void oneshot(const void *p, size_t n, struct cordon_hash *ret) {
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(p, n));
    memcpy(ret->bytes, c.digest, 16);
}

Test(manifest_hash, buffer_matches_libxxhash_oneshot) {
    struct cordon_hash a, b;
    cordon_hash_buffer("", 0, &a);
    oneshot("", 0, &b);
    cr_assert(cordon_hash_equal(&a, &b));
    cordon_hash_buffer("abc", 3, &a);
    oneshot("abc", 3, &b);
    cr_assert(cordon_hash_equal(&a, &b));
    char hex[33];
    /* XXH3-128 of "" is 99aa06d3014798d86001c324468d497f (xxhsum -H2). */
    cordon_hash_buffer("", 0, &a);
    cr_assert(eq(str, cordon_hash_to_hex(&a, hex), "99aa06d3014798d86001c324468d497f"));
}

Test(manifest_hash, hex_round_trip_and_rejects) {
    struct cordon_hash h, back;
    cordon_hash_buffer("abc", 3, &h);
    char hex[33];
    cordon_hash_to_hex(&h, hex);
    cr_assert(eq(sz, strlen(hex), 32));
    cr_assert(eq(int, cordon_hash_from_hex(hex, &back), 0));
    cr_assert(cordon_hash_equal(&h, &back));
    for (char *p = hex; *p; p++)
        if (*p >= 'a')
            *p = (char)(*p - 'a' + 'A');
    cr_assert(eq(int, cordon_hash_from_hex(hex, &back), 0), "upper case is accepted");
    cr_assert(cordon_hash_equal(&h, &back));
    cr_assert(eq(int, cordon_hash_from_hex("abc", &back), -EINVAL));
    cr_assert(eq(int, cordon_hash_from_hex("99aa06d3014798d86001c324468d497f0", &back), -EINVAL));
    cr_assert(eq(int, cordon_hash_from_hex("99aa06d3014798d86001c324468d497g", &back), -EINVAL));
}

TestSuite(manifest_hash_files, .init = tmpdir_setup, .fini = tmpdir_teardown);

Test(manifest_hash_files, file_fd_and_errors) {
    char p[PATH_MAX], q[PATH_MAX];
    /* bigger than one read buffer, so the streaming path is exercised */
    size_t n = 700 * 1024 + 13;
    char *data = malloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)(i * 31 + i / 7);
    FILE *f = fopen(tpath(p, "big"), "we");
    fwrite(data, 1, n, f);
    fclose(f);
    struct cordon_hash a, b;
    uint64_t size = 0;
    cr_assert(eq(int, cordon_hash_file(AT_FDCWD, p, &a, &size), 0));
    cr_assert(eq(u64, size, n));
    oneshot(data, n, &b);
    cr_assert(cordon_hash_equal(&a, &b));
    free(data);

    cr_assert(eq(int, symlink(p, tpath(q, "link")), 0));
    cr_assert(eq(int, cordon_hash_file(AT_FDCWD, q, &a, NULL), -ELOOP));
    cr_assert(eq(int, cordon_hash_file(AT_FDCWD, tmpdir, &a, NULL), -EISDIR));
    cr_assert(eq(int, cordon_hash_file(AT_FDCWD, tpath(q, "nope"), &a, NULL), -ENOENT));
    int dfd = open(tmpdir, O_RDONLY | O_DIRECTORY);
    cr_assert(eq(int, cordon_hash_file(dfd, "big", &b, NULL), 0), "relative to dirfd");
    close(dfd);
}

Test(manifest_hash_files, many_on_threads) {
    enum { N = 40 };
    struct cordon_hash_job jobs[N + 1];
    char paths[N + 1][PATH_MAX];
    for (int i = 0; i < N; i++) {
        char name[32], content[64];
        snprintf(name, sizeof name, "f%d", i);
        snprintf(content, sizeof content, "content %d\n", i * i);
        write_file(tpath(paths[i], name), content);
        jobs[i] = (struct cordon_hash_job){.path = paths[i]};
    }
    jobs[N] = (struct cordon_hash_job){.path = tpath(paths[N], "absent")};
    struct cordon_progress prog;
    cordon_progress_init(&prog, "hashing", 0, true);
    cr_assert(eq(int, cordon_hash_many(jobs, N + 1, 4, &prog), 0));
    for (int i = 0; i < N; i++) {
        struct cordon_hash want;
        uint64_t size;
        struct stat st;
        cr_assert(eq(int, jobs[i].error, 0));
        cr_assert(eq(int, cordon_hash_file(AT_FDCWD, paths[i], &want, &size), 0));
        cr_assert(cordon_hash_equal(&jobs[i].hash, &want));
        cr_assert(eq(u64, jobs[i].size, size));
        cr_assert(eq(int, stat(paths[i], &st), 0));
        cr_assert(eq(u64, jobs[i].ino, (uint64_t)st.st_ino));
        cr_assert(eq(u64, jobs[i].dev, (uint64_t)st.st_dev));
        cr_assert(eq(i64, jobs[i].mtime_ns,
                     (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec));
    }
    cr_assert(eq(int, jobs[N].error, -ENOENT));
    cr_assert(gt(u64, prog.done, 0));
    cr_assert(eq(int, cordon_hash_many(jobs, 0, 0, NULL), 0), "nothing to do is fine");
}
