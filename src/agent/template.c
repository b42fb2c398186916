/**
 * The "{{ colon:path | default }}" template renderer (see template.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "macro.h"
#include "template.h"

static char *trim(const char *s, size_t n) {
        while (n > 0 && (*s == ' ' || *s == '\t')) {
                s++;
                n--;
        }
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
                n--;
        return strndup(s, n);
}

static unsigned line_of(const char *text, const char *p) {
        unsigned l = 1;
        for (const char *c = text; c < p; c++)
                l += *c == '\n';
        return l;
}

int template_render(const Env *e, const char *name, const char *text, char **ret, char **reterr) {
        _cleanup_free_ char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        const char *p = text;

        if (!f)
                return -ENOMEM;
        while (*p) {
                const char *open = strstr(p, "{{"), *close, *bar;
                _cleanup_free_ char *path = NULL, *def = NULL;
                const EnvNode *n;

                if (!open) {
                        fputs(p, f);
                        break;
                }
                if (open > p && open[-1] == '\\') {
                        fwrite(p, 1, (size_t) (open - p - 1), f);
                        fputs("{{", f);
                        p = open + 2;
                        continue;
                }
                fwrite(p, 1, (size_t) (open - p), f);
                close = strstr(open + 2, "}}");
                if (!close || memchr(open, '\n', (size_t) (close - open))) {
                        fclose(f);
                        if (reterr && asprintf(reterr, "%s:%u: unterminated '{{'", name, line_of(text, open)) < 0)
                                *reterr = NULL;
                        return -EBADMSG;
                }
                bar = memchr(open + 2, '|', (size_t) (close - open - 2));
                path = trim(open + 2, (size_t) ((bar ?: close) - open - 2));
                if (bar)
                        def = trim(bar + 1, (size_t) (close - bar - 1));
                if (!path || (bar && !def)) {
                        fclose(f);
                        return -ENOMEM;
                }
                n = isempty(path) ? NULL : env_lookup(e, path);
                if (n && env_node_type(n) == ENV_NODE_SCALAR) {
                        _cleanup_free_ char *v = env_node_text(n);
                        if (!v) {
                                fclose(f);
                                return -ENOMEM;
                        }
                        fputs(v, f);
                } else if (n && env_node_type(n) == ENV_NODE_NULL)
                        fputs(def ?: "", f);
                else if (!n && def)
                        fputs(def, f);
                else {
                        fclose(f);
                        if (reterr && asprintf(reterr, "%s:%u: %s '%s'", name, line_of(text, open),
                                                  n ? "cannot insert a list or mapping" : "no such env key",
                                                  path) < 0)
                                *reterr = NULL;
                        return -EBADMSG;
                }
                p = close + 2;
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        if (!out)
                out = strdup("");
        if (!out)
                return -ENOMEM;
        *ret = TAKE_PTR(out);
        return 0;
}
