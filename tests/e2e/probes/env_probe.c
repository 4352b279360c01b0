/* getenv and secure_getenv, of a set and an unset variable, twice each
 * (recorded once per name). */
#include <stdlib.h>

#include "probe.h"

int main(void) {
    for (int i = 0; i < 2; i++) {
        const char *v = getenv("CORDON_TEST_KNOB");
        printf("knob = %s\n", v ? v : "(unset)");
        v = secure_getenv("CORDON_TEST_UNSET_KNOB");
        printf("unset = %s\n", v ? v : "(unset)");
    }
    return 0;
}
