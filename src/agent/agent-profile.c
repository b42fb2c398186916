/**
 * The agent's small profile.yml reader (libyaml document API). See profile.h for the keys.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cleanup.h"
#include "fileio.h"
#include "macro.h"
#include "parse-util.h"
#include "agent-profile.h"

AgentProfile *agent_profile_free(AgentProfile *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_services; i++) {
                free(p->services[i].unit);
                free(p->services[i].health);
        }
        free(p->services);
        for (size_t i = 0; i < p->n_templates; i++) {
                free(p->templates[i].src);
                free(p->templates[i].dest);
        }
        free(p->templates);
        free(p);
        return NULL;
}

typedef struct Ctx {
        const char *name;
        yaml_document_t *doc;
        char **error;
} Ctx;

_printf_(3, 4) static int fail(Ctx *c, const yaml_node_t *n, const char *fmt, ...) {
        if (c->error && !*c->error) {
                _cleanup_free_ char *msg = NULL;
                va_list ap;

                va_start(ap, fmt);
                if (vasprintf(&msg, fmt, ap) < 0)
                        msg = NULL;
                va_end(ap);
                if (msg && asprintf(c->error, "%s:%zu:%zu: %s", c->name, n ? n->start_mark.line + 1 : 1,
                                    n ? n->start_mark.column + 1 : 1, msg) < 0)
                        *c->error = NULL;
        }
        return -EBADMSG;
}

static const char *scalar(const yaml_node_t *n) {
        return n && n->type == YAML_SCALAR_NODE ? (const char *) n->data.scalar.value : NULL;
}

static int dup_scalar(Ctx *c, const yaml_node_t *n, const char *key, char **ret) {
        const char *s = scalar(n);
        if (!s)
                return fail(c, n, "'%s' must be a string", key);
        free(*ret);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int parse_service(Ctx *c, yaml_node_t *m, ProfileService *s) {
        if (m->type != YAML_MAPPING_NODE)
                return fail(c, m, "services: each item must be a mapping");
        s->timeout = AGENT_PROFILE_SERVICE_TIMEOUT_DEFAULT;
        for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
                yaml_node_t *k = yaml_document_get_node(c->doc, p->key), *v = yaml_document_get_node(c->doc, p->value);
                const char *key = scalar(k);
                int r = 0;

                if (!key)
                        continue;
                if (streq(key, "unit"))
                        r = dup_scalar(c, v, key, &s->unit);
                else if (streq(key, "health"))
                        r = dup_scalar(c, v, key, &s->health);
                else if (streq(key, "timeout")) {
                        if (!scalar(v) || safe_atou(scalar(v), &s->timeout) < 0 || s->timeout == 0)
                                return fail(c, v, "'%s' must be a positive number of seconds", key);
                }
                if (r < 0)
                        return r;
        }
        if (!s->unit)
                return fail(c, m, "services: item without 'unit'");
        if (!strchr(s->unit, '.') || strpbrk(s->unit, " /\t"))
                return fail(c, m, "invalid unit name '%s'", s->unit);
        if (s->health && !startswith(s->health, "tcp:") && !startswith(s->health, "http://") &&
            !startswith(s->health, "exec:"))
                return fail(c, m, "unknown health check '%s' (tcp:HOST:PORT, http://HOST:PORT/PATH, exec:PATH ARGS)",
                            s->health);
        return 0;
}

static int parse_template(Ctx *c, yaml_node_t *m, ProfileTemplate *t) {
        if (m->type != YAML_MAPPING_NODE)
                return fail(c, m, "templates: each item must be a mapping");
        t->mode = 0644;
        for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
                yaml_node_t *k = yaml_document_get_node(c->doc, p->key), *v = yaml_document_get_node(c->doc, p->value);
                const char *key = scalar(k);
                int r = 0;

                if (!key)
                        continue;
                if (streq(key, "src"))
                        r = dup_scalar(c, v, key, &t->src);
                else if (streq(key, "dest"))
                        r = dup_scalar(c, v, key, &t->dest);
                else if (streq(key, "mode")) {
                        const char *s = scalar(v);
                        char *end = NULL;
                        unsigned long mode;

                        errno = 0;
                        mode = s ? strtoul(s, &end, 8) : 0;
                        if (!s || !*s || errno != 0 || *end || mode > 07777)
                                return fail(c, v, "'%s' must be an octal file mode such as \"0644\"", key);
                        t->mode = (mode_t) mode;
                }
                if (r < 0)
                        return r;
        }
        if (!t->src || !t->dest)
                return fail(c, m, "templates: each item needs 'src' and 'dest'");
        if (t->src[0] != '/' || t->dest[0] != '/')
                return fail(c, m, "templates: 'src' and 'dest' must be absolute paths");
        return 0;
}

static int parse_root(Ctx *c, yaml_node_t *root, AgentProfile *p) {
        int r;

        if (root->type != YAML_MAPPING_NODE)
                return fail(c, root, "the profile must be a mapping");
        for (yaml_node_pair_t *pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
                yaml_node_t *k = yaml_document_get_node(c->doc, pair->key),
                            *v = yaml_document_get_node(c->doc, pair->value);
                const char *key = scalar(k);

                if (!key)
                        continue;
                if (streq(key, "services") || streq(key, "templates")) {
                        bool svc = streq(key, "services");
                        size_t n;

                        if (v->type == YAML_SCALAR_NODE && (isempty(scalar(v)) || streq(scalar(v), "~") ||
                                                            streq(scalar(v), "null")))
                                continue;
                        if (v->type != YAML_SEQUENCE_NODE)
                                return fail(c, v, "'%s' must be a list", key);
                        n = (size_t) (v->data.sequence.items.top - v->data.sequence.items.start);
                        if (svc) {
                                p->services = calloc(n ?: 1, sizeof *p->services);
                                if (!p->services)
                                        return -ENOMEM;
                        } else {
                                p->templates = calloc(n ?: 1, sizeof *p->templates);
                                if (!p->templates)
                                        return -ENOMEM;
                        }
                        for (size_t i = 0; i < n; i++) {
                                yaml_node_t *item = yaml_document_get_node(c->doc, v->data.sequence.items.start[i]);
                                if (svc) {
                                        p->n_services++;
                                        r = parse_service(c, item, &p->services[i]);
                                } else {
                                        p->n_templates++;
                                        r = parse_template(c, item, &p->templates[i]);
                                }
                                if (r < 0)
                                        return r;
                        }
                } else if (streq(key, "features")) {
                        if (v->type != YAML_MAPPING_NODE)
                                continue;
                        for (yaml_node_pair_t *f = v->data.mapping.pairs.start; f < v->data.mapping.pairs.top; f++) {
                                const char *fk = scalar(yaml_document_get_node(c->doc, f->key));
                                yaml_node_t *fv = yaml_document_get_node(c->doc, f->value);

                                if (fk && streq(fk, "ec2_metadata")) {
                                        int b = scalar(fv) ? parse_boolean(scalar(fv)) : -EINVAL;
                                        if (b < 0)
                                                return fail(c, fv, "'%s' must be a boolean", fk);
                                        p->ec2_metadata = b;
                                }
                        }
                }
        }
        return 0;
}

int agent_profile_parse(const char *name, const char *buf, size_t len, AgentProfile **ret, char **ret_error) {
        _cleanup_(agent_profile_freep) AgentProfile *p = calloc(1, sizeof(AgentProfile));
        _cleanup_free_ char *error = NULL;
        yaml_parser_t parser;
        yaml_document_t doc;
        yaml_node_t *root;
        int r;

        if (!p)
                return -ENOMEM;
        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *) buf, len);
        if (!yaml_parser_load(&parser, &doc)) {
                if (ret_error && asprintf(ret_error, "%s:%zu:%zu: %s", name, parser.problem_mark.line + 1,
                                          parser.problem_mark.column + 1, parser.problem ?: "invalid YAML") < 0)
                        *ret_error = NULL;
                yaml_parser_delete(&parser);
                return -EBADMSG;
        }
        root = yaml_document_get_root_node(&doc);
        if (root) {
                Ctx c = { .name = name, .doc = &doc, .error = &error };
                r = parse_root(&c, root, p);
        } else
                r = 0;
        yaml_document_delete(&doc);
        yaml_parser_delete(&parser);
        if (r < 0) {
                if (ret_error)
                        *ret_error = TAKE_PTR(error);
                return r;
        }
        *ret = TAKE_PTR(p);
        return 0;
}

int agent_profile_load(const char *path, AgentProfile **ret, char **ret_error) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r;

        r = read_full_file(path, &buf, &len, 4 * 1024 * 1024);
        if (r == -ENOENT) {
                AgentProfile *p = calloc(1, sizeof(AgentProfile));
                if (!p)
                        return -ENOMEM;
                *ret = p;
                return 0;
        }
        if (r < 0) {
                if (ret_error && asprintf(ret_error, "%s: %s", path, strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        return agent_profile_parse(path, buf, len, ret, ret_error);
}
