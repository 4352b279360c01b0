/* Four threads open and stat their own file a thousand times: every file
 * is recorded (once: de-duplicated) and nothing deadlocks. */
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probe.h"

static void *work(void *arg) {
    char name[32];
    snprintf(name, sizeof name, "thread-%ld", (long)arg);
    int fd = open(name, O_WRONLY | O_CREAT, 0644);
    if (fd >= 0)
        close(fd);
    for (int i = 0; i < 1000; i++) {
        struct stat sb;
        stat(name, &sb);
        fd = open(name, O_RDONLY);
        if (fd >= 0)
            close(fd);
    }
    return NULL;
}

int main(void) {
    pthread_t t[4];
    for (long i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, work, (void *)i);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    printf("threads done\n");
    return 0;
}
