/* show: the summary names what a reader needs. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <cordon/error.h>
#include <cordon/manifest.h>
#include <cordon/verify.h>

#include "helpers.h"

Test(manifest_show, summary_has_counts_largest_programs_and_gaps) {
    char *text = read_text(CORDON_TEST_DATA "/../fuzz/corpus/manifest/small.json");
    cr_assert(text != NULL);
    struct cordon_manifest *m = NULL;
    struct cordon_error err;
    cr_assert(eq(int, cordon_manifest_loadb(text, strlen(text), "small", &m, &err), 0), "%s",
              err.text);
    free(text);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert(eq(int, cordon_show(m, f, &err), 0));
    fclose(f);
    cr_log_info("%s", buf);
    cr_assert(strstr(buf, "command: make -j2\n") != NULL, "%s", buf);
    cr_assert(strstr(buf, "status: exited with 0\n") != NULL);
    cr_assert(strstr(buf, "inputs: 4 (1000 B in files)\n") != NULL, "%s", buf);
    cr_assert(strstr(buf, "         2      1000 B  /usr\n") != NULL, "%s", buf);
    cr_assert(strstr(buf, "largest:\n      1000 B  /usr/bin/gcc\n") != NULL, "%s", buf);
    cr_assert(strstr(buf, "processes: 2\n") != NULL);
    cr_assert(strstr(buf, "/usr/bin/make") != NULL);
    cr_assert(strstr(buf, "variables consulted: 3 (1 redacted)\n") != NULL);
    cr_assert(strstr(buf, "static-exec /sbin/ldconfig (pid 7): statically linked\n") != NULL);
    free(buf);
    cordon_manifest_free(m);
}
