/**
 * Creating an env (the verb is cli/env-create.c): writes DIR/env.yml from the env template with fresh
 * secrets. The template is text with @@NAME@@ placeholders (profiles/env-template.yml); it is
 * filled in as text so its comments survive. A placeholder alone on a line (after indentation or
 * a comment prefix) takes a multi-line value, each line getting that prefix. --extra splices the
 * keys of a YAML mapping into the result (see merge_extra()). The result must pass 'env check'
 * before it is written (atomically, mode 0600).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "chase.h"
#include "cleanup.h"
#include "crypto.h"
#include "env/check.h"
#include "env/create.h"
#include "env/gpg.h"
#include "env-internal.h"
#include "env.h"
#include "fileio.h"
#include "json-util.h"
#include "log.h"
#include "macro.h"
#include "profile.h"
#include "random-util.h"
#include "reterr.h"
#include "strv.h"

#define SECRET_BYTES 39         /* as the original: 52 base64 characters */
#define DKIM_BITS 2048
#define TXT_CHUNK 250           /* DNS character-strings hold at most 255 bytes */

typedef struct Placeholder {
        const char *name;
        char *value;
} Placeholder;

static int make_secret(char **ret) {
        unsigned char buf[SECRET_BYTES];
        int r = random_bytes(buf, sizeof(buf));
        if (r < 0)
                return r;
        *ret = base64_encode(buf, sizeof(buf));
        explicit_bzero(buf, sizeof(buf));
        return *ret ? 0 : -ENOMEM;
}

static char *dkim_txt_record(const char *public_key) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        fputs("\"v=DKIM1; k=rsa; s=email; \"", f);
        size_t len = strlen(public_key);
        for (size_t off = 0; off < len + 2; off += TXT_CHUNK) {
                /* the first string carries "p=" */
                if (off == 0)
                        fprintf(f, "\n\"p=%.*s\"", TXT_CHUNK - 2, public_key);
                else if (off - 2 < len)
                        fprintf(f, "\n\"%.*s\"", TXT_CHUNK, public_key + off - 2);
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

static void strip_trailing_newlines(char *s) {
        size_t l = strlen(s);
        while (l > 0 && (s[l - 1] == '\n' || s[l - 1] == '\r'))
                s[--l] = 0;
}

/* Fills in the placeholders. Returns -EBADMSG with *reterr for a bad template. */
static int substitute(const char *tmpl_name, const char *tmpl, const Placeholder *ph, size_t n_ph, char **ret,
                      char **reterr) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        unsigned lineno = 0;
        FILE *f = open_memstream(&buf, &size);
        int r = 0;

        if (!f)
                return -ENOMEM;
        for (const char *line = tmpl; *line && r >= 0;) {
                size_t ll = strcspn(line, "\n");
                const char *end = line + ll;
                lineno++;

                const char *p = line;
                size_t prefix = strspn(line, " \t#");
                prefix = MIN(prefix, ll);
                for (;;) {
                        const char *open = memmem(p, (size_t) (end - p), "@@", 2);
                        const char *close = open ? memmem(open + 2, (size_t) (end - open - 2), "@@", 2) : NULL;
                        if (!open || !close) {
                                fwrite(p, 1, (size_t) (end - p), f);
                                break;
                        }
                        const Placeholder *x = NULL;
                        for (size_t i = 0; i < n_ph; i++)
                                if (strlen(ph[i].name) == (size_t) (close - open - 2) &&
                                    strneq(open + 2, ph[i].name, (size_t) (close - open - 2)))
                                        x = &ph[i];
                        if (!x) {
                                r = reterr_printf(reterr, -EBADMSG, "%s:%u:%zu: unknown placeholder '%.*s'", tmpl_name,
                                                  lineno, (size_t) (open - line) + 1, (int) (close - open + 2), open);
                                break;
                        }
                        bool alone = open == line + prefix && strspn(close + 2, " \t\r") == (size_t) (end - close - 2);
                        if (strchr(x->value, '\n')) {
                                if (!alone) {
                                        r = reterr_printf(reterr, -EBADMSG,
                                                          "%s:%u:%zu: placeholder '@@%s@@' takes several lines and must stand alone on its line",
                                                          tmpl_name, lineno, (size_t) (open - line) + 1, x->name);
                                        break;
                                }
                                /* each line gets the placeholder's prefix; empty lines get it without trailing blanks */
                                size_t plen = prefix;
                                while (plen > 0 && (line[plen - 1] == ' ' || line[plen - 1] == '\t'))
                                        plen--;
                                for (const char *v = x->value; *v;) {
                                        size_t vl = strcspn(v, "\n");
                                        fwrite(line, 1, vl > 0 ? prefix : plen, f);
                                        fwrite(v, 1, vl, f);
                                        v += vl;
                                        if (*v == '\n') {
                                                v++;
                                                fputc('\n', f);
                                        }
                                }
                                break;
                        }
                        fwrite(p, 1, (size_t) (open - p), f);
                        fputs(x->value, f);
                        p = close + 2;
                }
                if (*end == '\n')
                        fputc('\n', f);
                line = *end ? end + 1 : end;
        }
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* ---- --extra: splicing the keys of a YAML mapping into the text ---- */

typedef struct Insertion {
        unsigned after_line;    /* 0 = at the very start; UINT_MAX = at the end */
        size_t seq;
        char *text;
} Insertion;

typedef struct Splicer {
        Insertion *ins;
        size_t n;
        const char *extra_name;
        char *error;
} Splicer;

static void emit_scalar(FILE *f, const EnvNode *n) {
        if (env_node_type(n) == ENV_NODE_NULL) {
                fputs("null", f);
                return;
        }
        const char *s = env_node_string(n);
        if (env_node_style(n) == ENV_SCALAR_PLAIN && env_node_kind(n) != ENV_SCALAR_STRING) {
                fputs(s, f);    /* a resolved bool/int/float: its plain text means the same */
                return;
        }
        /* A JSON string is a YAML double-quoted scalar with the same value. */
        json_write_string(f, s);
}

static void emit_key(FILE *f, const char *k) {
        bool simple = !isempty(k);
        for (const char *p = k; simple && *p; p++)
                simple = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                        *p == '_' || *p == '-';
        /* keys that YAML 1.1 would read as booleans, numbers or null are quoted */
        if (simple && (env_scalar_is_null(k, strlen(k)) || env_scalar_resolve(k, strlen(k)) != ENV_SCALAR_STRING))
                simple = false;
        if (simple)
                fputs(k, f);
        else {
                fputc('"', f);
                for (const char *p = k; *p; p++) {
                        if (*p == '"' || *p == '\\')
                                fputc('\\', f);
                        if ((unsigned char) *p < 0x20)
                                fprintf(f, "\\x%02x", (unsigned char) *p);
                        else
                                fputc(*p, f);
                }
                fputc('"', f);
        }
}

static void emit_node(FILE *f, const EnvNode *n, unsigned indent);

/* Emits "key: value" lines of a mapping at the given indentation. */
static void emit_pairs(FILE *f, const EnvNode *m, unsigned indent) {
        for (size_t i = 0; i < env_node_size(m); i++) {
                fprintf(f, "%*s", (int) indent, "");
                emit_key(f, env_node_key(m, i));
                fputc(':', f);
                emit_node(f, env_node_item(m, i), indent);
        }
}

/* Emits a value after "key:" or "-" (the cursor is right after it). */
static void emit_node(FILE *f, const EnvNode *n, unsigned indent) {
        switch (env_node_type(n)) {
        case ENV_NODE_MAPPING:
                if (env_node_size(n) == 0) {
                        fputs(" {}\n", f);
                        return;
                }
                fputc('\n', f);
                emit_pairs(f, n, indent + 2);
                return;
        case ENV_NODE_SEQUENCE:
                if (env_node_size(n) == 0) {
                        fputs(" []\n", f);
                        return;
                }
                fputc('\n', f);
                for (size_t i = 0; i < env_node_size(n); i++) {
                        fprintf(f, "%*s-", (int) indent + 2, "");
                        emit_node(f, env_node_item(n, i), indent + 2);
                }
                return;
        default:
                fputc(' ', f);
                emit_scalar(f, n);
                fputc('\n', f);
        }
}

/* Emits the value of a key whose line exists already, on the following lines. */
static void emit_value_below(FILE *f, const EnvNode *v, unsigned indent) {
        unsigned ci = indent + 2;
        if (env_node_type(v) == ENV_NODE_MAPPING && env_node_size(v) > 0)
                emit_pairs(f, v, ci);
        else if (env_node_type(v) == ENV_NODE_SEQUENCE && env_node_size(v) > 0)
                for (size_t i = 0; i < env_node_size(v); i++) {
                        fprintf(f, "%*s-", (int) ci, "");
                        emit_node(f, env_node_item(v, i), ci);
                }
        else {
                fprintf(f, "%*s", (int) ci, "");
                if (env_node_type(v) == ENV_NODE_MAPPING)
                        fputs("{}", f);
                else if (env_node_type(v) == ENV_NODE_SEQUENCE)
                        fputs("[]", f);
                else
                        emit_scalar(f, v);
                fputc('\n', f);
        }
}

static int splicer_add(Splicer *s, unsigned after_line, char *text) {
        if (!text)
                return -ENOMEM;
        Insertion *n = reallocarray(s->ins, s->n + 1, sizeof(Insertion));
        if (!n) {
                free(text);
                return -ENOMEM;
        }
        s->ins = n;
        s->ins[s->n] = (Insertion) { after_line, s->n, text };
        s->n++;
        return 0;
}

static char *emit_to_string(void (*fn)(FILE *, const EnvNode *, unsigned), const EnvNode *n, unsigned indent,
                            const char *key) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        if (key) {
                fprintf(f, "%*s", (int) indent, "");
                emit_key(f, key);
                fputc(':', f);
        }
        fn(f, n, indent);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

/* Merges extra mapping x into output mapping o (NULL: o is the document root). New keys go after
 * line parent_line at the indentation of o's keys; keys that are null in o get their value right
 * after their own line; mappings in both are merged recursively; anything else is a conflict. */
static int splice_mapping(Splicer *s, const EnvNode *o, const EnvNode *x, unsigned parent_line, unsigned indent,
                          const char *path) {
        int r;

        for (size_t i = 0; i < env_node_size(x); i++) {
                const char *k = env_node_key(x, i);
                const EnvNode *v = env_node_item(x, i);
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s%s%s", path, *path ? ":" : "", k) < 0)
                        return -ENOMEM;

                size_t j;
                for (j = 0; j < env_node_size(o); j++)
                        if (streq(env_node_key(o, j), k))
                                break;
                const EnvNode *ov = j < env_node_size(o) ? env_node_item(o, j) : NULL;

                if (!ov && j == env_node_size(o)) {
                        r = splicer_add(s, parent_line, emit_to_string(emit_node, v, indent, k));
                } else if (env_node_type(ov) == ENV_NODE_NULL) {
                        r = splicer_add(s, env_node_key_line(o, j),
                                        emit_to_string(emit_value_below, v, env_node_key_column(o, j) - 1, NULL));
                } else if (env_node_type(ov) == ENV_NODE_MAPPING && env_node_type(v) == ENV_NODE_MAPPING) {
                        r = splice_mapping(s, ov, v, env_node_key_line(o, j), env_node_column(ov) - 1, p);
                } else {
                        if (asprintf(&s->error, "%s:%u:%u: %s: already set by the template (line %u)", s->extra_name,
                                     env_node_key_line(x, i), env_node_key_column(x, i), p,
                                     env_node_key_line(o, j)) < 0)
                                s->error = NULL;
                        return -EEXIST;
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static int insertion_compare(const void *a, const void *b) {
        const Insertion *x = a, *y = b;
        if (x->after_line != y->after_line)
                return x->after_line < y->after_line ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int merge_extra(const char *text, const Env *out, const Env *extra, char **ret, char **reterr) {
        Splicer s = { .extra_name = env_name(extra) };
        char *buf = NULL;
        size_t size = 0;
        int r;

        r = splice_mapping(&s, env_root(out), env_root(extra), UINT_MAX, 0, "");
        if (r >= 0) {
                if (s.n > 0)
                        qsort(s.ins, s.n, sizeof(Insertion), insertion_compare);
                FILE *f = open_memstream(&buf, &size);
                if (!f)
                        r = -ENOMEM;
                else {
                        size_t k = 0;
                        unsigned lineno = 0;
                        for (const char *line = text; *line;) {
                                size_t ll = strcspn(line, "\n");
                                lineno++;
                                fwrite(line, 1, ll, f);
                                fputc('\n', f);
                                line += ll + (line[ll] == '\n');
                                for (; k < s.n && s.ins[k].after_line == lineno; k++)
                                        fputs(s.ins[k].text, f);
                        }
                        for (; k < s.n; k++)
                                fputs(s.ins[k].text, f);
                        if (fclose(f) != 0)
                                r = -ENOMEM;
                }
        }
        for (size_t i = 0; i < s.n; i++)
                free(s.ins[i].text);
        free(s.ins);
        if (r < 0) {
                free(buf);
                *reterr = s.error;
                return r;
        }
        free(s.error);
        *ret = buf;
        return 0;
}

/* ---- creating the env ---- */

const char *env_create_default_template(void) {
        static char path[PATH_MAX];
        if (!path[0])
                (void) snprintf(path, sizeof path, "%s/env-template.yml", profile_dir());
        return path;
}

int env_create(const EnvCreateOptions *o) {
        const char *domain = o->domain, *dir = o->dir, *template_path = o->template_path ?: env_create_default_template(),
                   *extra_path = o->extra_path;
        int r = 0;

        _cleanup_free_ char *target = NULL;
        if (asprintf(&target, "%s/env.yml", dir) < 0)
                return log_oom();
        if (!o->force && path_exists(target)) {
                log_error("'%s' exists already; use --force to replace it (its secrets are lost).", target);
                return -EEXIST;
        }

        /* inputs first: nothing is generated for a bad template or extra file */
        _cleanup_free_ char *tmpl = NULL, *error = NULL;
        size_t tmpl_len = 0;
        r = env_gpg_dlopen(&error);
        if (r < 0)
                return log_error_errno(r, "env create makes OpenPGP keys: %s", error);
        r = read_input(AT_FDCWD, template_path, INPUT_FOLLOW, 0, &tmpl, &tmpl_len);
        if (r < 0) {
                log_error_errno(r, "Failed to read template '%s': %s", template_path, input_strerror(r));
                return r;
        }
        if (strlen(tmpl) != tmpl_len) {
                log_error("%s: NUL byte in the template.", template_path);
                return -EBADMSG;
        }
        _cleanup_(env_freep) Env *extra = NULL;
        if (extra_path) {
                _cleanup_free_ char *eb = NULL;
                size_t el = 0;
                r = read_input(AT_FDCWD, extra_path, INPUT_FOLLOW, 0, &eb, &el);
                if (r < 0) {
                        log_error_errno(r, "Failed to read '%s': %s", extra_path, input_strerror(r));
                        return r;
                }
                r = env_load_buffer_flags(extra_path, eb, el, ENV_LOAD_NO_HEADER, &extra, &error);
                if (r < 0) {
                        log_error("%s", error ?: strerror(-r));
                        return r;
                }
        }

        /* secrets */
        Placeholder ph[] = {
                { "DOMAIN", strdup(domain) },
                { "CREATED", NULL },
                { "SECRET_KEY", NULL },
                { "REGISTRATION_SECRET", NULL },
                { "PASSWORD_RESET_SECRET", NULL },
                { "DKIM_KEY", NULL },
                { "DKIM_PUBLIC_KEY", NULL },
                { "DKIM_TXT_RECORD", NULL },
                { "BACKUP_ENCRYPT", NULL },
                { "VAULT_ENCRYPT", NULL },
                { "VAULT_SIGN", NULL },
                { "SENTRY_SETTING", NULL },
        };
        _cleanup_free_ char *text = NULL, *merged = NULL;
        r = 0;
        {
                char ts[64];
                time_t now = time(NULL);
                struct tm tm;
                strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M UTC", gmtime_r(&now, &tm));
                ph[1].value = strdup(ts);
        }
        /* ecs reports to sentry too when --extra sets appliance:sentry:dsn (as the original) */
        {
                const char *dsn = extra ? env_get_string(extra, "appliance:sentry:dsn", NULL) : NULL;
                if (dsn && strpbrk(dsn, "'\\\n\r")) {
                        log_error("%s: appliance:sentry:dsn must not contain quotes, backslashes or line breaks.",
                                  extra_path);
                        return -EINVAL;
                }
                if (dsn) {
                        if (asprintf(&ph[11].value, "SENTRY_DSN = '%s'", dsn) < 0)
                                ph[11].value = NULL;
                } else
                        ph[11].value = strdup("# SENTRY_DSN = 'https://key@sentry.example.org/2'  (set by --extra appliance:sentry:dsn)");
        }
        for (size_t i = 2; i <= 4 && r >= 0; i++)
                r = make_secret(&ph[i].value);
        if (r >= 0) {
                log_info("Generating the DKIM key (RSA %d) ...", DKIM_BITS);
                r = pem_make_rsa(DKIM_BITS, &ph[5].value, &ph[6].value);
                if (r >= 0) {
                        strip_trailing_newlines(ph[5].value);
                        ph[7].value = dkim_txt_record(ph[6].value);
                        if (!ph[7].value)
                                r = -ENOMEM;
                }
                if (r < 0)
                        log_error_errno(r, "Failed to generate the DKIM key: %m");
        }
        if (r >= 0) {
                static const char *const uids[] = { "ecs_backup", "ecs_mediaserver", "ecs_authority" };
                _cleanup_(env_gpg_home_freep) EnvGpgHome *h = NULL;
                r = env_gpg_home_new(&h);
                if (r < 0)
                        log_error_errno(r, "Failed to set up a temporary GnuPG home: %m");
                for (size_t i = 0; i < ELEMENTSOF(uids) && r >= 0; i++) {
                        _cleanup_free_ char *gerr = NULL;
                        log_info("Generating the OpenPGP key %s ...", uids[i]);
                        r = env_gpg_create_key(h, uids[i], &ph[8 + i].value, &gerr);
                        if (r < 0)
                                log_error_errno(r, "Failed to generate the OpenPGP key %s: %s", uids[i], gerr ?: strerror(-r));
                        else
                                strip_trailing_newlines(ph[8 + i].value);
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(ph) && r >= 0; i++)
                if (!ph[i].value)
                        r = log_oom();
        if (r >= 0) {
                r = substitute(template_path, tmpl, ph, ELEMENTSOF(ph), &text, &error);
                if (r < 0)
                        log_error("%s", error ?: "Failed to fill in the template.");
        }
        for (size_t i = 0; i < ELEMENTSOF(ph); i++) {
                if (ph[i].value)
                        explicit_bzero(ph[i].value, strlen(ph[i].value));
                free(ph[i].value);
        }
        if (r < 0)
                return r;

        _cleanup_(env_freep) Env *out = NULL;
        free(error);
        error = NULL;
        r = env_load_buffer(template_path, text, strlen(text), &out, &error);
        if (r < 0) {
                log_error("The filled-in template is not a valid env: %s", error ?: strerror(-r));
                return r;
        }
        if (extra) {
                r = merge_extra(text, out, extra, &merged, &error);
                if (r < 0) {
                        log_error("Cannot merge '%s': %s", extra_path, error ?: strerror(-r));
                        return r;
                }
                out = env_free(out);
                free(error);
                error = NULL;
                r = env_load_buffer(target, merged, strlen(merged), &out, &error);
                if (r < 0) {
                        log_error("Merging '%s' gave an invalid env: %s", extra_path, error ?: strerror(-r));
                        return r;
                }
                explicit_bzero(text, strlen(text));
                free(text);
                text = TAKE_PTR(merged);
        }

        _cleanup_(env_findings_done) EnvFindings res = {};
        r = env_check(out, &res);
        if (r < 0)
                return r;
        env_findings_log(&res);
        if (res.errors > 0) {
                log_error("The new env does not pass the checks (%u error(s)); nothing written.", res.errors);
                return -EINVAL;
        }

        r = mkdir_p(dir, 0700);
        if (r < 0) {
                log_error_errno(r, "Failed to create '%s': %m", dir);
                return r;
        }
        r = write_file_atomic(target, text, strlen(text), 0600);
        explicit_bzero(text, strlen(text));
        if (r < 0) {
                log_error_errno(r, "Failed to write '%s': %m", target);
                return r;
        }
        log_info("Wrote '%s'.", target);
        return 0;
}
