/* A program that closes every descriptor from 3 up (as daemons and some
 * shells do) must not silence the hook, nor see a difference. */
#include <fcntl.h>
#include <unistd.h>

#include "probe.h"

int main(void) {
    SHOW("close 900", close(900));
    SHOW("close_range", close_range(3, ~0U, 0));
    closefrom(3);
    SHOW("open after closing", open("in.txt", O_RDONLY));
    SHOW("dup2 onto 900", dup2(1, 900));
    SHOW("close 900 again", close(900));
    SHOW("stat after dup2", access("after-dup2", F_OK));
    return 0;
}
