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
