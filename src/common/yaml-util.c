/**
 * YAML checks through libyaml's document loader. libyaml reports 0-based marks; everything printed
 * here is 1-based, as editors count.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cleanup.h"
#include "macro.h"
#include "reterr.h"
#include "yaml-util.h"

/* libyaml takes an int-sized length in places; seeds are small anyway. */
#define YAML_INPUT_MAX (64U * 1024U * 1024U)

static int parser_error(const char *name, const yaml_parser_t *p, char **reterr) {
        if (p->error == YAML_MEMORY_ERROR)
                return -ENOMEM;
        if (p->error == YAML_READER_ERROR)
                /* the reader's mark is not set; it reports a byte offset instead */
                return reterr_printf(reterr, -EBADMSG, "%s: byte %zu: %s", name, p->problem_offset,
                                 p->problem ?: "cannot read the input");
        if (p->context)
                return reterr_printf(reterr, -EBADMSG, "%s:%zu:%zu: %s (%s at %zu:%zu)", name, p->problem_mark.line + 1,
                                 p->problem_mark.column + 1, p->problem ?: "syntax error", p->context,
                                 p->context_mark.line + 1, p->context_mark.column + 1);
        return reterr_printf(reterr, -EBADMSG, "%s:%zu:%zu: %s", name, p->problem_mark.line + 1, p->problem_mark.column + 1,
                         p->problem ?: "syntax error");
}

static const char *node_kind(const yaml_node_t *n) {
        switch (n->type) {
        case YAML_SCALAR_NODE:
                return "a scalar";
        case YAML_SEQUENCE_NODE:
                return "a sequence";
        case YAML_MAPPING_NODE:
                return "a mapping";
        default:
                return "empty";
        }
}

static bool scalar_eq(const yaml_node_t *a, const yaml_node_t *b) {
        return a && b && a->type == YAML_SCALAR_NODE && b->type == YAML_SCALAR_NODE &&
               a->data.scalar.length == b->data.scalar.length &&
               memcmp(a->data.scalar.value, b->data.scalar.value, a->data.scalar.length) == 0;
}

static int check_duplicates(const char *name, yaml_document_t *d, char **reterr) {
        /* Nodes are stored in one array; every mapping in it is checked, shared (aliased) ones once. */
        for (yaml_node_t *n = d->nodes.start; n < d->nodes.top; n++) {
                if (n->type != YAML_MAPPING_NODE)
                        continue;
                for (yaml_node_pair_t *i = n->data.mapping.pairs.start; i < n->data.mapping.pairs.top; i++) {
                        yaml_node_t *ki = yaml_document_get_node(d, i->key);

                        for (yaml_node_pair_t *j = n->data.mapping.pairs.start; j < i; j++) {
                                yaml_node_t *kj = yaml_document_get_node(d, j->key);

                                if (scalar_eq(ki, kj))
                                        return reterr_printf(reterr, -EBADMSG, "%s:%zu:%zu: duplicate key '%.*s' (first at %zu:%zu)",
                                                         name, ki->start_mark.line + 1, ki->start_mark.column + 1,
                                                         (int) MIN(ki->data.scalar.length, 200),
                                                         (const char *) ki->data.scalar.value,
                                                         kj->start_mark.line + 1, kj->start_mark.column + 1);
                        }
                }
        }
        return 0;
}

static int check_document(const char *name, yaml_document_t *d, YamlCheckFlags flags, char **reterr) {
        yaml_node_t *root = yaml_document_get_root_node(d);

        if ((flags & YAML_CHECK_ROOT_MAPPING) && root && root->type != YAML_MAPPING_NODE &&
            !(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0))
                return reterr_printf(reterr, -EBADMSG, "%s:%zu:%zu: expected a mapping at the top level, found %s", name,
                                 root->start_mark.line + 1, root->start_mark.column + 1, node_kind(root));
        if ((flags & YAML_CHECK_ROOT_SEQUENCE) && root && root->type != YAML_SEQUENCE_NODE &&
            !(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0))
                return reterr_printf(reterr, -EBADMSG, "%s:%zu:%zu: expected a sequence at the top level, found %s", name,
                                 root->start_mark.line + 1, root->start_mark.column + 1, node_kind(root));
        if (flags & YAML_CHECK_NO_DUPLICATE_KEYS)
                return check_duplicates(name, d, reterr);
        return 0;
}

int yaml_check(const char *name, const void *data, size_t size, YamlCheckFlags flags, char **reterr) {
        yaml_parser_t p;
        int r = 0;

        if (!name)
                name = "<input>";
        if (size > YAML_INPUT_MAX)
                return reterr_printf(reterr, -EBADMSG, "%s: too large for a YAML file (%zu bytes)", name, size);
        if (!yaml_parser_initialize(&p))
                return -ENOMEM;
        yaml_parser_set_input_string(&p, data ?: (const void *) "", size);

        for (unsigned n = 0;; n++) {
                yaml_document_t d;
                yaml_node_t *root;

                if (!yaml_parser_load(&p, &d)) {
                        r = parser_error(name, &p, reterr);
                        break;
                }
                root = yaml_document_get_root_node(&d);
                if (!root) {
                        yaml_document_delete(&d);
                        break;
                }
                if (n > 0) {
                        r = reterr_printf(reterr, -EBADMSG, "%s:%zu:%zu: a second YAML document starts here, expected one",
                                      name, d.start_mark.line + 1, d.start_mark.column + 1);
                        yaml_document_delete(&d);
                        break;
                }
                r = check_document(name, &d, flags, reterr);
                yaml_document_delete(&d);
                if (r < 0)
                        break;
        }

        yaml_parser_delete(&p);
        return r;
}

static yaml_node_t *mapping_get(yaml_document_t *d, yaml_node_t *m, const char *key, yaml_node_t **ret_key) {
        size_t l = strlen(key);

        if (!m || m->type != YAML_MAPPING_NODE)
                return NULL;
        /* The last occurrence wins, as with yaml.safe_load(). */
        for (yaml_node_pair_t *i = m->data.mapping.pairs.top; i > m->data.mapping.pairs.start;) {
                yaml_node_t *k;

                i--;
                k = yaml_document_get_node(d, i->key);
                if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == l &&
                    memcmp(k->data.scalar.value, key, l) == 0) {
                        *ret_key = k;
                        return yaml_document_get_node(d, i->value);
                }
        }
        return NULL;
}

int yaml_lookup(const void *data, size_t size, const char *const *keys, char **ret_value, unsigned *ret_line,
                unsigned *ret_column) {
        yaml_parser_t p;
        yaml_document_t d;
        yaml_node_t *n, *k = NULL;
        int r = 0;

        if (!keys || !keys[0] || size > YAML_INPUT_MAX)
                return 0;
        if (!yaml_parser_initialize(&p))
                return -ENOMEM;
        yaml_parser_set_input_string(&p, data ?: (const void *) "", size);

        if (!yaml_parser_load(&p, &d)) {
                r = p.error == YAML_MEMORY_ERROR ? -ENOMEM : 0;
                yaml_parser_delete(&p);
                return r;
        }

        n = yaml_document_get_root_node(&d);
        for (size_t i = 0; n && keys[i]; i++)
                n = mapping_get(&d, n, keys[i], &k);

        if (n && k) {
                char *v = NULL;

                if (n->type == YAML_SCALAR_NODE) {
                        v = strndup((const char *) n->data.scalar.value, n->data.scalar.length);
                        if (!v)
                                r = -ENOMEM;
                }
                if (r == 0) {
                        if (ret_value)
                                *ret_value = v;
                        else
                                free(v);
                        if (ret_line)
                                *ret_line = (unsigned) k->start_mark.line + 1;
                        if (ret_column)
                                *ret_column = (unsigned) k->start_mark.column + 1;
                        r = 1;
                }
        }

        yaml_document_delete(&d);
        yaml_parser_delete(&p);
        return r;
}

/* ---- errors, documents and nodes ---- */

static int error_from_parser(const yaml_parser_t *p, YamlError *ret_error) {
        if (p->error == YAML_MEMORY_ERROR)
                return -ENOMEM;
        if (ret_error)
                *ret_error = (YamlError) {
                        .reader = p->error == YAML_READER_ERROR,
                        .offset = p->problem_offset,
                        .line = p->problem_mark.line + 1,
                        .column = p->problem_mark.column + 1,
                        .problem = p->problem,
                        .context = p->context,
                        .context_line = p->context_mark.line + 1,
                        .context_column = p->context_mark.column + 1,
                };
        return -EBADMSG;
}

struct YamlDoc {
        yaml_document_t doc;
};

static const yaml_node_t *N(const YamlNode *n) {
        return (const yaml_node_t *) n;
}

int yaml_doc_load(const void *data, size_t size, YamlDoc **ret, YamlError *ret_error) {
        _cleanup_free_ YamlDoc *d = NULL;
        yaml_parser_t p;
        int r = 0;

        if (size > YAML_INPUT_MAX) {
                if (ret_error)
                        *ret_error = (YamlError) { .line = 1, .column = 1, .problem = "too large for a YAML file" };
                return -EBADMSG;
        }
        d = calloc(1, sizeof(YamlDoc));
        if (!d)
                return -ENOMEM;
        if (!yaml_parser_initialize(&p))
                return -ENOMEM;
        yaml_parser_set_input_string(&p, data ?: (const void *) "", size);
        if (!yaml_parser_load(&p, &d->doc))
                r = error_from_parser(&p, ret_error);
        yaml_parser_delete(&p);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(d);
        return 0;
}

void yaml_doc_free(YamlDoc *d) {
        if (!d)
                return;
        yaml_document_delete(&d->doc);
        free(d);
}

const YamlNode *yaml_doc_root(const YamlDoc *d) {
        return (const YamlNode *) yaml_document_get_root_node((yaml_document_t *) &d->doc);
}

YamlNodeKind yaml_node_kind(const YamlNode *n) {
        switch (N(n)->type) {
        case YAML_SCALAR_NODE:
                return YAML_KIND_SCALAR;
        case YAML_SEQUENCE_NODE:
                return YAML_KIND_SEQUENCE;
        case YAML_MAPPING_NODE:
                return YAML_KIND_MAPPING;
        default:
                return YAML_KIND_NONE;
        }
}

size_t yaml_node_line(const YamlNode *n) {
        return N(n)->start_mark.line + 1;
}

size_t yaml_node_column(const YamlNode *n) {
        return N(n)->start_mark.column + 1;
}

const char *yaml_node_scalar(const YamlNode *n, size_t *ret_len) {
        if (N(n)->type != YAML_SCALAR_NODE)
                return NULL;
        if (ret_len)
                *ret_len = N(n)->data.scalar.length;
        return (const char *) N(n)->data.scalar.value;
}

bool yaml_node_scalar_plain(const YamlNode *n) {
        return N(n)->type == YAML_SCALAR_NODE && N(n)->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

size_t yaml_node_n_items(const YamlNode *n) {
        if (N(n)->type != YAML_SEQUENCE_NODE)
                return 0;
        return (size_t) (N(n)->data.sequence.items.top - N(n)->data.sequence.items.start);
}

const YamlNode *yaml_node_item(const YamlDoc *d, const YamlNode *seq, size_t i) {
        if (i >= yaml_node_n_items(seq))
                return NULL;
        return (const YamlNode *) yaml_document_get_node((yaml_document_t *) &d->doc,
                                                         N(seq)->data.sequence.items.start[i]);
}

size_t yaml_node_n_pairs(const YamlNode *n) {
        if (N(n)->type != YAML_MAPPING_NODE)
                return 0;
        return (size_t) (N(n)->data.mapping.pairs.top - N(n)->data.mapping.pairs.start);
}

void yaml_node_pair(const YamlDoc *d, const YamlNode *map, size_t i, const YamlNode **ret_key,
                    const YamlNode **ret_value) {
        const YamlNode *k = NULL, *v = NULL;

        if (i < yaml_node_n_pairs(map)) {
                const yaml_node_pair_t *pair = &N(map)->data.mapping.pairs.start[i];
                k = (const YamlNode *) yaml_document_get_node((yaml_document_t *) &d->doc, pair->key);
                v = (const YamlNode *) yaml_document_get_node((yaml_document_t *) &d->doc, pair->value);
        }
        if (ret_key)
                *ret_key = k;
        if (ret_value)
                *ret_value = v;
}

/* ---- events ---- */

struct YamlEvents {
        yaml_parser_t parser;
        yaml_event_t event;
        bool have_event;
};

int yaml_events_new(const void *data, size_t size, YamlEvents **ret) {
        YamlEvents *ev;

        if (size > YAML_INPUT_MAX)
                return -EFBIG;
        ev = calloc(1, sizeof(YamlEvents));
        if (!ev)
                return -ENOMEM;
        if (!yaml_parser_initialize(&ev->parser)) {
                free(ev);
                return -ENOMEM;
        }
        yaml_parser_set_input_string(&ev->parser, data ?: (const void *) "", size);
        *ret = ev;
        return 0;
}

void yaml_events_free(YamlEvents *ev) {
        if (!ev)
                return;
        if (ev->have_event)
                yaml_event_delete(&ev->event);
        yaml_parser_delete(&ev->parser);
        free(ev);
}

static YamlScalarStyle scalar_style(yaml_scalar_style_t s) {
        switch (s) {
        case YAML_PLAIN_SCALAR_STYLE:
                return YAML_STYLE_PLAIN;
        case YAML_LITERAL_SCALAR_STYLE:
        case YAML_FOLDED_SCALAR_STYLE:
                return YAML_STYLE_BLOCK;
        default:
                return YAML_STYLE_QUOTED;
        }
}

int yaml_events_next(YamlEvents *ev, YamlEvent *ret, YamlError *ret_error) {
        yaml_event_t *e = &ev->event;

        if (ev->have_event) {
                yaml_event_delete(e);
                ev->have_event = false;
        }
        if (!yaml_parser_parse(&ev->parser, e))
                return error_from_parser(&ev->parser, ret_error);
        ev->have_event = true;

        YamlEvent out = {
                .line = e->start_mark.line + 1,
                .column = e->start_mark.column + 1,
        };
        switch (e->type) {
        case YAML_STREAM_END_EVENT:
                out.kind = YAML_EVENT_STREAM_END;
                break;
        case YAML_DOCUMENT_START_EVENT:
                out.kind = YAML_EVENT_DOCUMENT_START;
                break;
        case YAML_ALIAS_EVENT:
                out.kind = YAML_EVENT_ALIAS;
                out.anchor = (const char *) e->data.alias.anchor;
                break;
        case YAML_SCALAR_EVENT:
                out.kind = YAML_EVENT_SCALAR;
                out.anchor = (const char *) e->data.scalar.anchor;
                out.tag = (const char *) e->data.scalar.tag;
                out.value = (const char *) e->data.scalar.value;
                out.length = e->data.scalar.length;
                out.style = scalar_style(e->data.scalar.style);
                break;
        case YAML_SEQUENCE_START_EVENT:
                out.kind = YAML_EVENT_SEQUENCE_START;
                out.anchor = (const char *) e->data.sequence_start.anchor;
                out.tag = (const char *) e->data.sequence_start.tag;
                break;
        case YAML_MAPPING_START_EVENT:
                out.kind = YAML_EVENT_MAPPING_START;
                out.anchor = (const char *) e->data.mapping_start.anchor;
                out.tag = (const char *) e->data.mapping_start.tag;
                break;
        case YAML_SEQUENCE_END_EVENT:
                out.kind = YAML_EVENT_SEQUENCE_END;
                break;
        case YAML_MAPPING_END_EVENT:
                out.kind = YAML_EVENT_MAPPING_END;
                break;
        default:
                out.kind = YAML_EVENT_OTHER;
                break;
        }
        *ret = out;
        return 0;
}
