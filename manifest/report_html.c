/* cordon report --format html: one self-contained page. Inline CSS, no
 * script, no external resource, so it opens offline and from a mail
 * attachment. Every breach is a table row, none folded away: the page is
 * for looking through, the Markdown form for pasting. */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>

#include <cordon/manifest.h>
#include <cordon/report.h>
#include <cordon/util.h>

static void esc(FILE *out, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

static const char style[] =
    "body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:80em;padding:0 1em;"
    "color:#222;background:#fff}"
    "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}"
    "code{font-family:ui-monospace,monospace;font-size:.92em;background:#f3f3f3;padding:0 .2em;"
    "overflow-wrap:anywhere}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{border:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}"
    "th{background:#f7f7f7}"
    ".why{color:#444}.fix code{background:#e8f4e8}td.path{min-width:16em}td.fix{min-width:14em}"
    ".summary td:first-child{white-space:nowrap}"
    "@media (prefers-color-scheme:dark){body{background:#181818;color:#ddd}"
    "code{background:#2a2a2a}th{background:#222}th,td{border-color:#444}.why{color:#bbb}"
    ".fix code{background:#1e3320}}";

int cordon_report_write_html(const struct cordon_report *r, FILE *out) {
    const struct cordon_manifest *m = r->m;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>cordon report</title>\n<style>",
          out);
    fputs(style, out);
    fputs("</style>\n</head>\n<body>\n<h1>cordon report: <code>", out);
    for (size_t i = 0; m->command.argv && m->command.argv[i]; i++) {
        if (i)
            fputc(' ', out);
        esc(out, m->command.argv[i]);
    }
    fputs("</code></h1>\n<p>", out);
    fprintf(out, "%zu inputs, %zu processes, <strong>%zu breach%s</strong>; the command ",
            m->n_inputs, m->n_processes, r->n_breaches, r->n_breaches == 1 ? "" : "es");
    if (!m->command.finished)
        fputs("did not finish", out);
    else if (WIFSIGNALED(m->command.status))
        fprintf(out, "died of signal %d", WTERMSIG(m->command.status));
    else
        fprintf(out, "exited with %d", WEXITSTATUS(m->command.status));
    fputs(". Manifest: <code>", out);
    esc(out, r->source);
    fputs("</code></p>\n", out);

    if (r->n_breaches) {
        fputs("<table class=\"summary\"><tr><th>category</th><th>paths</th>"
              "<th>leave out of an archive</th></tr>\n",
              out);
        for (int c = 0; c < CORDON_CAT_MAX; c++) {
            if (!r->by_category[c])
                continue;
            const char *cn = cordon_category_name((enum cordon_category)c);
            fprintf(out, "<tr><td><a href=\"#%s\">%s</a></td><td>%zu</td><td>", cn, cn,
                    r->by_category[c]);
            if (c == CORDON_CAT_WRITE_OUTSIDE)
                fputs("(an output)", out);
            else
                fprintf(out, "<code>cordon pack --drop %s</code>", cn);
            fputs("</td></tr>\n", out);
        }
        fputs("</table>\n", out);
    }

    for (size_t i = 0; i < r->n_breaches;) {
        enum cordon_category cat = r->breaches[i].category;
        const char *cn = cordon_category_name(cat);
        size_t end = i;
        while (end < r->n_breaches && r->breaches[end].category == cat)
            end++;
        fprintf(out, "<h2 id=\"%s\">%s (%zu)</h2>\n", cn, cn, end - i);
        fputs("<table><tr><th>path</th><th>owner</th><th>use</th><th>program</th>"
              "<th>why</th><th>fix (<code>cordon run</code> policy)</th></tr>\n",
              out);
        for (; i < end; i++) {
            const struct cordon_report_breach *b = &r->breaches[i];
            char own[400], chain[2048];
            if (b->has_owner)
                snprintf(own, sizeof own, "%s %s (%s)", b->owner.name,
                         b->owner.version ? b->owner.version : "", b->owner.manager);
            else
                snprintf(own, sizeof own, "no package");
            fputs("<tr><td class=\"path\"><code>", out);
            esc(out, b->path);
            fputs("</code></td><td>", out);
            esc(out, own);
            fputs("</td><td>", out);
            esc(out, b->use);
            fputs("</td><td><code>", out);
            esc(out, cordon_report_ancestry(r, b->pid, chain, sizeof chain));
            fputs("</code></td><td class=\"why\">", out);
            esc(out, b->explanation);
            fputs("</td><td class=\"fix\">", out);
            for (const char *s = b->fix; s;) {
                const char *e = strstr(s, "; ");
                size_t n = e ? (size_t)(e - s) : strlen(s);
                char line[1024];
                snprintf(line, sizeof line, "%.*s", (int)n, s);
                fputs("<code>", out);
                esc(out, line);
                fputs("</code><br>", out);
                s = e ? e + 2 : NULL;
            }
            fputs("</td></tr>\n", out);
        }
        fputs("</table>\n", out);
    }

    if (r->n_env) {
        fputs("<h2 id=\"environment\">environment that steers the build</h2>\n<ul>\n", out);
        for (size_t i = 0; i < r->n_env; i++) {
            const struct cordon_env_read *e = &m->env_reads[r->env[i]];
            fputs("<li><code>", out);
            esc(out, e->name);
            fputc('=', out);
            esc(out, e->redacted ? "<redacted>" : e->value);
            fputs("</code></li>\n", out);
        }
        fputs("</ul>\n", out);
    }
    if (r->n_packages) {
        fprintf(out,
                "<h2 id=\"packages\">system packages (%zu)</h2>\n<table><tr><th>package</th>"
                "<th>version</th><th>manager</th><th>files</th></tr>\n",
                r->n_packages);
        for (size_t i = 0; i < r->n_packages; i++) {
            const struct cordon_report_package *p = &r->packages[i];
            fputs("<tr><td>", out);
            esc(out, p->name);
            fputs("</td><td>", out);
            esc(out, p->version ? p->version : "?");
            fputs("</td><td>", out);
            esc(out, p->manager);
            fprintf(out, "</td><td>%zu</td></tr>\n", p->files);
        }
        fputs("</table>\n", out);
    }
    fputs("<h2 id=\"coverage\">coverage</h2>\n<ul>\n", out);
    fprintf(out,
            "<li>%zu inputs: %zu declared, %zu system, %zu breaches, %zu only stat'ed, %zu "
            "missing, %zu virtual</li>\n",
            m->n_inputs, r->n_declared, r->n_system, r->n_breaches, r->n_metadata, r->n_missing,
            r->n_virtual);
    fputs("<li>recorded by ", out);
    esc(out, m->tool ? m->tool : "?");
    fputs(" on ", out);
    esc(out, m->host.distro ? m->host.distro : m->host.os ? m->host.os : "?");
    fputs("</li>\n", out);
    for (size_t i = 0; i < m->n_gaps; i++) {
        const struct cordon_gap *g = &m->gaps[i];
        fputs("<li>not seen: ", out);
        esc(out, g->kind ? g->kind : "?");
        if (g->path) {
            fputs(" <code>", out);
            esc(out, g->path);
            fputs("</code>", out);
        }
        if (g->detail) {
            fputs(": ", out);
            esc(out, g->detail);
        }
        fputs("</li>\n", out);
    }
    if (!m->n_gaps)
        fputs("<li>not seen: nothing the recording knows of</li>\n", out);
    fputs("</ul>\n</body>\n</html>\n", out);
    return ferror(out) ? -EIO : 0;
}
