/* One progress line on a terminal, rewritten in place. */
#include <stdio.h>
#include <unistd.h>

#include <cordon/util.h>

void cordon_progress_init(struct cordon_progress *p, const char *what, uint64_t total, bool quiet) {
    *p = (struct cordon_progress){.what = what, .total = total};
    p->enabled = !quiet && isatty(STDERR_FILENO);
}

static void draw(struct cordon_progress *p) {
    if (p->total)
        fprintf(stderr, "\r\033[Kcordon: %s %llu%% (%llu/%llu)", p->what,
                (unsigned long long)(p->done * 100 / p->total), (unsigned long long)p->done,
                (unsigned long long)p->total);
    else
        fprintf(stderr, "\r\033[Kcordon: %s %llu", p->what, (unsigned long long)p->done);
    p->drawn = true;
}

void cordon_progress_step(struct cordon_progress *p, uint64_t n) {
    if (!p)
        return;
    __atomic_fetch_add(&p->done, n, __ATOMIC_RELAXED);
    if (!p->enabled)
        return;
    int64_t now = cordon_now_ns();
    int64_t last = __atomic_load_n(&p->last_ns, __ATOMIC_RELAXED);
    /* At most ten redraws a second, and by one thread at a time. */
    if (now - last < 100000000 || !__atomic_compare_exchange_n(&p->last_ns, &last, now, false,
                                                               __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        return;
    draw(p);
}

void cordon_progress_done(struct cordon_progress *p) {
    if (!p || !p->enabled || !p->drawn)
        return;
    fputs("\r\033[K", stderr);
    p->drawn = false;
}
