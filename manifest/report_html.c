/* placeholder until the HTML writer lands */
#include <errno.h>

#include <cordon/report.h>

int cordon_report_write_html(const struct cordon_report *r, FILE *out) {
    (void)r;
    (void)out;
    return -ENOSYS;
}
