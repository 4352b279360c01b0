/* A summary of a manifest for a human. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cordon/classify.h>
#include <cordon/error.h>
#include <cordon/manifest.h>
#include <cordon/util.h>
#include <cordon/verify.h>

struct count {
    const char *name; /* borrowed */
    size_t n;
    uint64_t bytes;
};

static int count_cmp(const void *pa, const void *pb) {
    const struct count *a = pa, *b = pb;
    if (a->n != b->n)
        return a->n > b->n ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* A tally of names with a map from name to slot. */
struct tally {
    struct cordon_map *map;
    struct count *v;
    size_t n, cap;
};

static int tally_add(struct tally *t, const char *name, uint64_t bytes) {
    void *slot = cordon_map_get(t->map, name);
    if (slot) {
        struct count *c = &t->v[(size_t)slot - 1];
        c->n++;
        c->bytes += bytes;
        return 0;
    }
    if (cordon_grow((void **)&t->v, &t->cap, t->n + 1, sizeof *t->v) < 0)
        return -ENOMEM;
    /* The map copies the key; point the count at the caller's string,
     * which outlives the tally. */
    t->v[t->n] = (struct count){name, 1, bytes};
    t->n++;
    return cordon_map_put(t->map, name, (void *)(uintptr_t)t->n);
}

/* "12.3 MiB", "840 B": for a column of at least 10 characters. */
static const char *human(uint64_t n, char buf[32]) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, 32, "%llu B", (unsigned long long)n);
    else
        snprintf(buf, 32, "%.1f %s", v, units[u]);
    return buf;
}

static void tally_print(FILE *out, struct tally *t, size_t limit, bool bytes) {
    char hb[32];
    if (t->n)
        qsort(t->v, t->n, sizeof *t->v, count_cmp);
    for (size_t i = 0; i < t->n && i < limit; i++) {
        if (bytes)
            fprintf(out, "  %8zu  %10s  %s\n", t->v[i].n, human(t->v[i].bytes, hb), t->v[i].name);
        else
            fprintf(out, "  %8zu  %s\n", t->v[i].n, t->v[i].name);
    }
    if (t->n > limit)
        fprintf(out, "  (%zu more)\n", t->n - limit);
}

static void tally_free(struct tally *t) {
    cordon_map_free(t->map);
    free(t->v);
}

static int size_cmp(const void *pa, const void *pb) {
    const struct cordon_input *a = *(const struct cordon_input *const *)pa,
                              *b = *(const struct cordon_input *const *)pb;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return strcmp(a->path, b->path);
}

static void print_status(FILE *out, const char *what, int status) {
    if (WIFEXITED(status))
        fprintf(out, "%s: exited with %d\n", what, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        fprintf(out, "%s: killed by signal %d\n", what, WTERMSIG(status));
    else
        fprintf(out, "%s: wait status %d\n", what, status);
}

/* The top-level directory of a path ("/usr", "/home"), into `buf`. */
static const char *top_dir(const char *path, char *buf, size_t size) {
    const char *e = strchr(path + 1, '/');
    size_t n = e ? (size_t)(e - path) : strlen(path);
    if (n >= size)
        n = size - 1;
    memcpy(buf, path, n);
    buf[n] = '\0';
    return buf;
}

int cordon_show(const struct cordon_manifest *m, FILE *out, struct cordon_error *err) {
    int r = -ENOMEM;
    struct tally types = {0}, uses = {0}, tops = {0}, cats = {0}, progs = {0};
    const struct cordon_input **by_size = NULL;
    char **topnames = NULL;
    if (!(types.map = cordon_map_new(8)) || !(uses.map = cordon_map_new(16)) ||
        !(tops.map = cordon_map_new(32)) || !(cats.map = cordon_map_new(16)) ||
        !(progs.map = cordon_map_new(64)))
        goto out;

    fprintf(out, "manifest: version %d, written by %s\n", m->version, m->tool ? m->tool : "?");
    fprintf(out, "host: %s %s %s%s%s%s%s\n", m->host.os ? m->host.os : "?",
            m->host.kernel ? m->host.kernel : "?", m->host.arch ? m->host.arch : "?",
            m->host.distro ? ", " : "", m->host.distro ? m->host.distro : "",
            m->host.libc ? ", " : "", m->host.libc ? m->host.libc : "");
    fputs("command:", out);
    for (size_t i = 0; m->command.argv && m->command.argv[i]; i++)
        fprintf(out, " %s", m->command.argv[i]);
    fputc('\n', out);
    if (m->command.cwd)
        fprintf(out, "cwd: %s\n", m->command.cwd);
    if (m->worktree)
        fprintf(out, "work tree: %s\n", m->worktree);
    if (m->command.finished)
        print_status(out, "status", m->command.status);
    else
        fputs("status: unfinished (the recording ended before the command)\n", out);
    if (m->command.end_ns > m->command.start_ns)
        fprintf(out, "duration: %.2f s\n", (double)(m->command.end_ns - m->command.start_ns) / 1e9);

    uint64_t total = 0;
    topnames = calloc(m->n_inputs + 1, sizeof *topnames);
    by_size = calloc(m->n_inputs + 1, sizeof *by_size);
    if (!topnames || !by_size)
        goto out;
    size_t n_files = 0;
    for (size_t i = 0; i < m->n_inputs; i++) {
        const struct cordon_input *in = &m->inputs[i];
        uint64_t sz = in->type == CORDON_FT_FILE ? in->size : 0;
        total += sz;
        if (tally_add(&types, cordon_ftype_name(in->type) ?: "?", sz) < 0)
            goto out;
        for (unsigned b = 0; b < CORDON_USE_COUNT; b++)
            if (in->uses & (1u << b) && tally_add(&uses, cordon_use_name(1u << b), sz) < 0)
                goto out;
        char buf[256];
        if (!(topnames[i] = strdup(top_dir(in->path, buf, sizeof buf))) ||
            tally_add(&tops, topnames[i], sz) < 0)
            goto out;
        if (in->category && tally_add(&cats, in->category, sz) < 0)
            goto out;
        if (in->type == CORDON_FT_FILE)
            by_size[n_files++] = in;
    }
    char hb[32];
    fprintf(out, "\ninputs: %zu (%s in files)\n", m->n_inputs, human(total, hb));
    fputs("by type:\n", out);
    tally_print(out, &types, 10, true);
    fputs("by use:\n", out);
    tally_print(out, &uses, 10, true);
    fputs("by top-level directory:\n", out);
    tally_print(out, &tops, 15, true);
    if (cats.n) {
        fputs("by category:\n", out);
        tally_print(out, &cats, 20, true);
    }
    if (n_files) {
        qsort(by_size, n_files, sizeof *by_size, size_cmp);
        fputs("largest:\n", out);
        for (size_t i = 0; i < n_files && i < 10; i++)
            fprintf(out, "  %10s  %s\n", human(by_size[i]->size, hb), by_size[i]->path);
    }

    fprintf(out, "\noutputs: %zu\n", m->n_outputs);
    fprintf(out, "processes: %zu\n", m->n_processes);
    size_t failed = 0;
    for (size_t i = 0; i < m->n_processes; i++) {
        const struct cordon_process *p = &m->processes[i];
        const char *prog = p->exe ? p->exe : p->argv && p->argv[0] ? p->argv[0] : "?";
        if (tally_add(&progs, prog, 0) < 0)
            goto out;
        if (!(p->flags & CORDON_PROC_UNFINISHED) && p->status != 0)
            failed++;
    }
    if (progs.n) {
        fputs("top programs:\n", out);
        tally_print(out, &progs, 10, false);
    }
    if (failed)
        fprintf(out, "processes that failed: %zu\n", failed);
    size_t redacted = 0;
    for (size_t i = 0; i < m->n_env_reads; i++)
        redacted += m->env_reads[i].redacted;
    fprintf(out, "variables consulted: %zu (%zu redacted)\n", m->n_env_reads, redacted);

    if (m->n_gaps) {
        fprintf(out, "\ncoverage gaps: %zu\n", m->n_gaps);
        for (size_t i = 0; i < m->n_gaps; i++) {
            const struct cordon_gap *g = &m->gaps[i];
            fprintf(out, "  %s", g->kind ? g->kind : "?");
            if (g->path)
                fprintf(out, " %s", g->path);
            if (g->pid)
                fprintf(out, " (pid %d)", g->pid);
            if (g->detail)
                fprintf(out, ": %s", g->detail);
            fputc('\n', out);
        }
    } else {
        fputs("\ncoverage gaps: none\n", out);
    }
    r = 0;
out:
    if (topnames)
        for (size_t i = 0; i < m->n_inputs; i++)
            free(topnames[i]);
    free(topnames);
    free(by_size);
    tally_free(&types);
    tally_free(&uses);
    tally_free(&tops);
    tally_free(&cats);
    tally_free(&progs);
    if (r < 0)
        return cordon_error_set(err, -r, NULL, 0, 0, "out of memory");
    return 0;
}
