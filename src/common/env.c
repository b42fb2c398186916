/**
 * The env model: loads env.yml with the event reader of yaml-util into a tree of EnvNode, resolves scalars
 * the YAML 1.1 way (as PyYAML did for the original appliance), and answers colon-path queries.
 * Flattening to shell/systemd assignments lives in env-flatten.c. See env.h for the contract.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chase.h"
#include "env-internal.h"
#include "env.h"
#include "reterr.h"
#include "fileio.h"
#include "macro.h"
#include "strv.h"
#include "yaml-util.h"

#define ENV_MAX_SIZE (16U * 1024U * 1024U)
#define ENV_MAX_WARNINGS 50U
#define ENV_MAX_DEPTH 256U
#define ENV_MAX_MERGED 100000U      /* pairs copied by merge keys, in the whole document */
#define ENV_MAX_NUMBER_LEN 4300U    /* characters of an integer or float (Python's int limit) */
#define ENV_HEADER "#cloud-config"
#define YAML_TAG_PREFIX "tag:yaml.org,2002:"

static char *xasprintf(const char *fmt, ...) _printf_(1, 2);
static char *xasprintf(const char *fmt, ...) {
        va_list ap;
        char *s = NULL;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        return s;
}

/* ---- scalar resolution (YAML 1.1 as PyYAML implements it) ---- */

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool in_set(char c, const char *set) {
        return c != 0 && strchr(set, c);
}

/* One or more characters of set. Returns the index after them, or SIZE_MAX if none. */
static size_t span_min1(const char *s, size_t i, size_t n, const char *set) {
        size_t j = i;
        while (j < n && in_set(s[j], set))
                j++;
        return j > i ? j : SIZE_MAX;
}

/* (:[0-5]?[0-9])+ ; returns index after, SIZE_MAX if no group */
static size_t span_sexagesimal(const char *s, size_t i, size_t n) {
        size_t groups = 0;
        while (i < n && s[i] == ':') {
                size_t j = i + 1;
                if (j + 1 < n && in_set(s[j], "012345") && is_digit(s[j + 1]))
                        j += 2;
                else if (j < n && is_digit(s[j]))
                        j += 1;
                else
                        break;
                i = j;
                groups++;
        }
        return groups > 0 ? i : SIZE_MAX;
}

bool env_scalar_is_null(const char *s, size_t n) {
        return n == 0 || (n == 1 && s[0] == '~') ||
                (n == 4 && (strneq(s, "null", 4) || strneq(s, "Null", 4) || strneq(s, "NULL", 4)));
}

int env_scalar_bool(const char *s, size_t n) {
        static const char *const yes[] = { "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON" };
        static const char *const no[] = { "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strlen(yes[i]) == n && strneq(s, yes[i], n))
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strlen(no[i]) == n && strneq(s, no[i], n))
                        return 0;
        return -EINVAL;
}

bool env_scalar_is_int(const char *s, size_t n) {
        size_t i = 0, j;

        if (i < n && in_set(s[i], "+-"))
                i++;
        if (i >= n)
                return false;
        if (n - i >= 2 && s[i] == '0' && s[i + 1] == 'b')
                return span_min1(s, i + 2, n, "01_") == n;
        if (n - i >= 2 && s[i] == '0' && s[i + 1] == 'x')
                return span_min1(s, i + 2, n, "0123456789abcdefABCDEF_") == n;
        if (s[i] == '0')
                return i + 1 == n || span_min1(s, i + 1, n, "01234567_") == n;
        if (!in_set(s[i], "123456789"))
                return false;
        j = i + 1;
        while (j < n && in_set(s[j], "0123456789_"))
                j++;
        if (j == n)
                return true;
        return span_sexagesimal(s, j, n) == n;
}

bool env_scalar_is_float(const char *s, size_t n) {
        size_t i = 0, j;

        /* \.(nan|NaN|NAN) */
        if (n == 4 && (strneq(s, ".nan", 4) || strneq(s, ".NaN", 4) || strneq(s, ".NAN", 4)))
                return true;
        if (i < n && in_set(s[i], "+-"))
                i++;
        /* [-+]?\.(inf|Inf|INF) */
        if (n - i == 4 && (strneq(s + i, ".inf", 4) || strneq(s + i, ".Inf", 4) || strneq(s + i, ".INF", 4)))
                return true;
        if (i < n && s[i] == '.') {
                /* \.[0-9][0-9_]*([eE][-+][0-9]+)? -- without a sign */
                if (i != 0 || i + 1 >= n || !is_digit(s[i + 1]))
                        return false;
                j = i + 2;
                while (j < n && in_set(s[j], "0123456789_"))
                        j++;
        } else {
                if (i >= n || !is_digit(s[i]))
                        return false;
                j = i + 1;
                while (j < n && in_set(s[j], "0123456789_"))
                        j++;
                if (j < n && s[j] == ':') {
                        /* [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]* */
                        j = span_sexagesimal(s, j, n);
                        if (j == SIZE_MAX || j >= n || s[j] != '.')
                                return false;
                        j++;
                        while (j < n && in_set(s[j], "0123456789_"))
                                j++;
                        return j == n;
                }
                if (j >= n || s[j] != '.')
                        return false;
                j++;
                while (j < n && in_set(s[j], "0123456789_"))
                        j++;
        }
        if (j == n)
                return true;
        if (!in_set(s[j], "eE") || j + 1 >= n || !in_set(s[j + 1], "+-"))
                return false;
        return span_min1(s, j + 2, n, "0123456789") == n;
}

EnvScalarKind env_scalar_resolve(const char *s, size_t n) {
        if (env_scalar_bool(s, n) >= 0)
                return ENV_SCALAR_BOOL;
        if (env_scalar_is_int(s, n))
                return ENV_SCALAR_INT;
        if (env_scalar_is_float(s, n))
                return ENV_SCALAR_FLOAT;
        return ENV_SCALAR_STRING;
}

/* ---- tree ---- */

typedef struct EnvKey {
        char *name;
        size_t len;
        unsigned line, column;
        bool merge;             /* a plain "<<": merge key */
} EnvKey;

struct EnvNode {
        EnvNodeType type;
        EnvScalarStyle style;
        EnvScalarKind kind;
        unsigned line, column;
        char *value;            /* scalar text, NUL-terminated */
        size_t len;
        size_t n_items, n_allocated;
        EnvNode **items;        /* sequence items, mapping values */
        EnvKey *keys;           /* mapping keys (n_items of them) */
        bool merge_pending;     /* mapping had "<<" keys that still have to be applied */
};

struct Env {
        char *name;
        char *text;
        size_t len;
        EnvNode *root;
        EnvNode **nodes;        /* every node, for freeing (aliases share nodes) */
        size_t n_nodes, n_nodes_allocated;
        char **warnings;
        size_t n_warnings;
        size_t n_merged;        /* pairs copied by merge keys so far (bounded by ENV_MAX_MERGED) */
};

static void env_node_free_contents(EnvNode *n) {
        free(n->value);
        free(n->items);
        if (n->keys)
                for (size_t i = 0; i < n->n_items; i++)
                        free(n->keys[i].name);
        free(n->keys);
        free(n);
}

Env *env_free(Env *e) {
        if (!e)
                return NULL;
        for (size_t i = 0; i < e->n_nodes; i++)
                env_node_free_contents(e->nodes[i]);
        free(e->nodes);
        free(e->name);
        free(e->text);
        strv_free(e->warnings);
        free(e);
        return NULL;
}

static int grow(void **p, size_t *allocated, size_t need, size_t size) {
        if (need <= *allocated)
                return 0;
        size_t a = MAX(need, *allocated * 2);
        a = MAX(a, (size_t) 8);
        void *q = reallocarray(*p, a, size);
        if (!q)
                return -ENOMEM;
        *p = q;
        *allocated = a;
        return 0;
}

static EnvNode *env_node_new(Env *e, EnvNodeType type, const YamlEvent *ev) {
        if (grow((void **) &e->nodes, &e->n_nodes_allocated, e->n_nodes + 1, sizeof(EnvNode *)) < 0)
                return NULL;
        EnvNode *n = calloc(1, sizeof(EnvNode));
        if (!n)
                return NULL;
        n->type = type;
        n->kind = _ENV_SCALAR_KIND_INVALID;
        n->line = (unsigned) MIN(ev->line, (size_t) UINT_MAX);
        n->column = (unsigned) MIN(ev->column, (size_t) UINT_MAX);
        e->nodes[e->n_nodes++] = n;
        return n;
}

static int env_warn(Env *e, unsigned line, unsigned column, const char *fmt, ...) _printf_(4, 5);
static int env_warn(Env *e, unsigned line, unsigned column, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        if (e->n_warnings >= ENV_MAX_WARNINGS)
                return 0;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (!msg)
                return -ENOMEM;
        if (e->n_warnings + 1 == ENV_MAX_WARNINGS) {
                free(msg);
                msg = strdup("further warnings suppressed");
                if (!msg)
                        return -ENOMEM;
        }
        char *w = xasprintf("%s:%u:%u: %s", e->name, line, column, msg);
        if (!w)
                return -ENOMEM;
        int r = strv_consume(&e->warnings, w);
        if (r < 0)
                return r;
        e->n_warnings++;
        return 0;
}

static int node_append(EnvNode *parent, EnvNode *child, const EnvKey *key) {
        size_t a = parent->n_allocated;
        int r;

        r = grow((void **) &parent->items, &a, parent->n_items + 1, sizeof(EnvNode *));
        if (r < 0)
                return r;
        if (parent->type == ENV_NODE_MAPPING) {
                size_t b = parent->n_allocated;
                r = grow((void **) &parent->keys, &b, parent->n_items + 1, sizeof(EnvKey));
                if (r < 0)
                        return r;
                parent->keys[parent->n_items] = *key;
        }
        parent->n_allocated = a;
        parent->items[parent->n_items++] = child;
        return 0;
}

typedef struct PairRef {
        const char *name;
        size_t len;
        size_t index;
} PairRef;

static int pair_ref_compare(const void *a, const void *b) {
        const PairRef *x = a, *y = b;
        int c = memcmp(x->name, y->name, MIN(x->len, y->len));
        if (c != 0)
                return c;
        if (x->len != y->len)
                return x->len < y->len ? -1 : 1;
        return x->index < y->index ? -1 : x->index > y->index;
}

/* Resolves duplicate keys of a finished mapping: the last value wins, the key keeps the position
 * of its first occurrence. Keys below 'first_own' came from merges and are overridden silently. */
static int mapping_dedup(Env *e, EnvNode *m, size_t first_own) {
        int r;

        if (m->n_items < 2)
                return 0;
        _cleanup_free_ PairRef *refs = calloc(m->n_items, sizeof(PairRef));
        _cleanup_free_ bool *drop = calloc(m->n_items, sizeof(bool));
        if (!refs || !drop)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_items; i++)
                refs[i] = (PairRef) { m->keys[i].name, m->keys[i].len, i };
        qsort(refs, m->n_items, sizeof(PairRef), pair_ref_compare);

        for (size_t i = 0; i < m->n_items;) {
                size_t j = i + 1;
                while (j < m->n_items && refs[j].len == refs[i].len &&
                       memcmp(refs[j].name, refs[i].name, refs[i].len) == 0)
                        j++;
                if (j - i > 1) {
                        size_t keep = refs[i].index, last = refs[j - 1].index;
                        m->items[keep] = m->items[last];
                        for (size_t k = i + 1; k < j; k++) {
                                size_t idx = refs[k].index;
                                drop[idx] = true;
                                if (idx >= first_own && refs[k - 1].index >= first_own) {
                                        r = env_warn(e, m->keys[idx].line, m->keys[idx].column,
                                                     "duplicate key '%s' (first at line %u), the last one wins",
                                                     m->keys[idx].name, m->keys[refs[i].index].line);
                                        if (r < 0)
                                                return r;
                                }
                        }
                }
                i = j;
        }

        size_t w = 0;
        for (size_t i = 0; i < m->n_items; i++) {
                if (drop[i]) {
                        free(m->keys[i].name);
                        continue;
                }
                m->keys[w] = m->keys[i];
                m->items[w] = m->items[i];
                w++;
        }
        m->n_items = w;
        return 0;
}

/* Applies "<<" merge keys: the merged mappings' pairs come first (a list's earlier mappings take
 * precedence over later ones), then the mapping's own pairs, which override them. */
static int mapping_finish(Env *e, EnvNode *m, char **reterr) {
        size_t n_own = m->n_items;
        int r;

        if (!m->merge_pending)
                return mapping_dedup(e, m, 0);

        EnvNode tmp = { .type = ENV_NODE_MAPPING };
        size_t first_own;

        for (size_t i = 0; i < n_own; i++) {
                if (!m->keys[i].merge)
                        continue;
                const EnvNode *v = m->items[i];
                size_t nsrc = v->type == ENV_NODE_SEQUENCE ? v->n_items : 1;
                /* later list entries first, so that earlier ones win in the dedup */
                for (size_t s = nsrc; s > 0; s--) {
                        const EnvNode *src = v->type == ENV_NODE_SEQUENCE ? v->items[s - 1] : v;
                        if (src->type != ENV_NODE_MAPPING) {
                                (void) reterr_printf(reterr, 0, "%s:%u:%u: merge key '<<' needs a mapping or a list of mappings",
                                                       e->name, m->keys[i].line, m->keys[i].column);
                                r = -EBADMSG;
                                goto fail;
                        }
                        /* Bounded by what the merges produce in the whole document, not per
                         * mapping: thousands of mappings each merging a large one are a bomb too. */
                        if (src->n_items > ENV_MAX_MERGED - e->n_merged) {
                                (void) reterr_printf(reterr, 0, "%s:%u:%u: merge keys expand to more than %u keys in the document",
                                                       e->name, m->keys[i].line, m->keys[i].column, ENV_MAX_MERGED);
                                r = -E2BIG;
                                goto fail;
                        }
                        e->n_merged += src->n_items;
                        for (size_t k = 0; k < src->n_items; k++) {
                                EnvKey key = src->keys[k];
                                key.name = strdup(key.name);
                                if (!key.name) {
                                        r = -ENOMEM;
                                        goto fail;
                                }
                                r = node_append(&tmp, src->items[k], &key);
                                if (r < 0) {
                                        free(key.name);
                                        goto fail;
                                }
                        }
                }
        }
        first_own = tmp.n_items;
        for (size_t i = 0; i < n_own; i++) {
                if (m->keys[i].merge)
                        continue;
                r = node_append(&tmp, m->items[i], &m->keys[i]);
                if (r < 0)
                        goto fail;
                m->keys[i].name = NULL;   /* moved */
        }

        for (size_t i = 0; i < n_own; i++)
                free(m->keys[i].name);
        free(m->keys);
        free(m->items);
        m->keys = tmp.keys;
        m->items = tmp.items;
        m->n_items = tmp.n_items;
        m->n_allocated = tmp.n_allocated;
        m->merge_pending = false;
        return mapping_dedup(e, m, first_own);

fail:
        /* names moved into tmp are owned by tmp now (NULL in m); the rest stay with m */
        for (size_t i = 0; i < tmp.n_items; i++)
                free(tmp.keys[i].name);
        free(tmp.keys);
        free(tmp.items);
        return r;
}

/* ---- loading ---- */

typedef struct Anchor {
        char *name;
        EnvNode *node;
} Anchor;

typedef struct Frame {
        EnvNode *node;
        char *anchor;
        bool have_key;
        EnvKey key;
} Frame;

typedef struct Loader {
        Env *env;
        Anchor *anchors;
        size_t n_anchors, n_anchors_allocated;
        Frame *stack;
        size_t n_stack, n_stack_allocated;
} Loader;

static void loader_done(Loader *l) {
        for (size_t i = 0; i < l->n_anchors; i++)
                free(l->anchors[i].name);
        free(l->anchors);
        for (size_t i = 0; i < l->n_stack; i++) {
                free(l->stack[i].anchor);
                free(l->stack[i].key.name);
        }
        free(l->stack);
}

static int loader_register_anchor(Loader *l, const char *name, EnvNode *n) {
        /* A redefined anchor replaces the earlier one for the aliases that follow. */
        for (size_t i = l->n_anchors; i > 0; i--)
                if (streq(l->anchors[i - 1].name, name)) {
                        l->anchors[i - 1].node = n;
                        return 0;
                }
        if (grow((void **) &l->anchors, &l->n_anchors_allocated, l->n_anchors + 1, sizeof(Anchor)) < 0)
                return -ENOMEM;
        char *c = strdup(name);
        if (!c)
                return -ENOMEM;
        l->anchors[l->n_anchors++] = (Anchor) { c, n };
        return 0;
}

static EnvNode *loader_find_anchor(Loader *l, const char *name) {
        for (size_t i = l->n_anchors; i > 0; i--)
                if (streq(l->anchors[i - 1].name, name))
                        return l->anchors[i - 1].node;
        return NULL;
}

/* Adds a finished node to the collection on top of the stack, or makes it the root. */
static int loader_add(Loader *l, EnvNode *n, char **reterr) {
        Env *e = l->env;

        if (l->n_stack == 0) {
                e->root = n;
                return 0;
        }
        Frame *f = &l->stack[l->n_stack - 1];
        if (f->node->type == ENV_NODE_SEQUENCE)
                return node_append(f->node, n, NULL);

        if (!f->have_key) {
                if (n->type == ENV_NODE_SEQUENCE || n->type == ENV_NODE_MAPPING) {
                        (void) reterr_printf(reterr, 0, "%s:%u:%u: mapping keys must be scalars", e->name, n->line,
                                               n->column);
                        return -EBADMSG;
                }
                f->key.name = strndup(n->value ?: "", n->len);
                if (!f->key.name)
                        return -ENOMEM;
                f->key.len = n->len;
                f->key.line = n->line;
                f->key.column = n->column;
                f->have_key = true;
                /* only a plain << is a merge key; a quoted "<<" is an ordinary key */
                f->key.merge = n->type == ENV_NODE_SCALAR && n->style == ENV_SCALAR_PLAIN && streq(f->key.name, "<<");
                if (f->key.merge)
                        f->node->merge_pending = true;
                return 0;
        }

        int r = node_append(f->node, n, &f->key);
        if (r < 0)
                return r;
        f->key = (EnvKey) {};
        f->have_key = false;
        return 0;
}

static int loader_scalar(Loader *l, const YamlEvent *ev, EnvNode **ret, char **reterr) {
        Env *e = l->env;
        const char *tag = ev->tag;
        const char *v = ev->value;
        size_t n = ev->length;
        EnvNode *node;

        if (memchr(v, 0, n)) {
                (void) reterr_printf(reterr, 0, "%s:%zu:%zu: NUL character in scalar", e->name,
                                       ev->line, ev->column);
                return -EILSEQ;
        }

        bool plain = ev->style == YAML_STYLE_PLAIN;
        bool block = ev->style == YAML_STYLE_BLOCK;
        const char *t = NULL;

        if (tag && !streq(tag, "!")) {
                if (!startswith(tag, YAML_TAG_PREFIX)) {
                        (void) reterr_printf(reterr, 0, "%s:%zu:%zu: unsupported tag '%s'", e->name,
                                               ev->line, ev->column, tag);
                        return -EBADMSG;
                }
                t = tag + strlen(YAML_TAG_PREFIX);
        }

        bool is_null = false;
        EnvScalarKind kind = ENV_SCALAR_STRING;
        if (!t) {
                if (plain && !tag) {
                        is_null = env_scalar_is_null(v, n);
                        if (!is_null)
                                kind = env_scalar_resolve(v, n);
                }
        } else if (streq(t, "str"))
                kind = ENV_SCALAR_STRING;
        else if (streq(t, "null") && env_scalar_is_null(v, n))
                is_null = true;
        else if (streq(t, "bool") && env_scalar_bool(v, n) >= 0)
                kind = ENV_SCALAR_BOOL;
        else if (streq(t, "int") && env_scalar_is_int(v, n))
                kind = ENV_SCALAR_INT;
        else if (streq(t, "float") && (env_scalar_is_float(v, n) || env_scalar_is_int(v, n)))
                kind = ENV_SCALAR_FLOAT;
        else {
                (void) reterr_printf(reterr, 0, "%s:%zu:%zu: value does not match its tag '%s'", e->name,
                                       ev->line, ev->column, tag);
                return -EBADMSG;
        }

        /* Converting a number is quadratic in its length; Python (>= 3.11, the original's PyYAML)
         * refuses integers of more than 4300 digits the same way. */
        if (!is_null && (kind == ENV_SCALAR_INT || kind == ENV_SCALAR_FLOAT) && n > ENV_MAX_NUMBER_LEN) {
                (void) reterr_printf(reterr, 0, "%s:%zu:%zu: a number of %zu characters (at most %u; quote it to make it a string)",
                                       e->name, ev->line, ev->column, n,
                                       ENV_MAX_NUMBER_LEN);
                return -E2BIG;
        }

        node = env_node_new(e, is_null ? ENV_NODE_NULL : ENV_NODE_SCALAR, ev);
        if (!node)
                return -ENOMEM;
        node->style = plain && !t ? ENV_SCALAR_PLAIN : block ? ENV_SCALAR_BLOCK : ENV_SCALAR_QUOTED;
        node->kind = is_null ? _ENV_SCALAR_KIND_INVALID : kind;
        node->value = strndup(v, n);
        if (!node->value)
                return -ENOMEM;
        node->len = n;
        *ret = node;
        return 0;
}

static char *format_yaml_error(const YamlError *p, const char *name, const char *text, size_t len) {
        size_t line, column;

        if (p->reader) {
                /* the reader reports a byte offset only */
                line = 1, column = 1;
                for (size_t i = 0; i < MIN(p->offset, len); i++) {
                        if (text[i] == '\n')
                                line++, column = 1;
                        else if (((unsigned char) text[i] & 0xC0) != 0x80)
                                column++;
                }
                return xasprintf("%s:%zu:%zu: %s", name, line, column, strna(p->problem));
        }
        line = p->line;
        column = p->column;
        if (p->context)
                return xasprintf("%s:%zu:%zu: %s (%s at line %zu column %zu)", name, line, column,
                                 strna(p->problem), p->context, p->context_line, p->context_column);
        return xasprintf("%s:%zu:%zu: %s", name, line, column, strna(p->problem));
}

static int check_header(const char *name, const char *buf, size_t len, char **reterr) {
        size_t l = strlen(ENV_HEADER);
        const char *nl = memchr(buf, '\n', len);
        size_t first = nl ? (size_t) (nl - buf) : len;

        if (first >= l && memcmp(buf, ENV_HEADER, l) == 0) {
                bool ok = true;
                for (size_t i = l; i < first; i++)
                        if (!in_set(buf[i], " \t\r"))
                                ok = false;
                if (ok)
                        return 0;
        }
        (void) reterr_printf(reterr, 0, "%s:1:1: the first line must be '" ENV_HEADER "'", name);
        return -EBADMSG;
}

static int scan_non_ascii(Env *e) {
        unsigned line = 1, column = 1;
        bool warned_line = false;
        int r;

        for (size_t i = 0; i < e->len; i++) {
                unsigned char c = (unsigned char) e->text[i];
                if (c == '\n') {
                        line++, column = 1, warned_line = false;
                        continue;
                }
                if (c >= 0x80 && !warned_line) {
                        r = env_warn(e, line, column, "non-ASCII character (the appliance expects ASCII only)");
                        if (r < 0)
                                return r;
                        warned_line = true;
                }
                if ((c & 0xC0) != 0x80)
                        column++;
        }
        return 0;
}

static int env_parse(Env *e, char **reterr) {
        _cleanup_(loader_done) Loader l = { .env = e };
        _cleanup_(yaml_events_freep) YamlEvents *p = NULL;
        unsigned documents = 0;
        int r;

        r = yaml_events_new(e->text, e->len, &p);
        if (r < 0)
                return r;

        for (bool done = false; !done;) {
                YamlEvent ev;
                YamlError error;
                EnvNode *n = NULL;

                r = yaml_events_next(p, &ev, &error);
                if (r == -EBADMSG)
                        *reterr = format_yaml_error(&error, e->name, e->text, e->len);
                if (r < 0)
                        break;

                switch (ev.kind) {
                case YAML_EVENT_STREAM_END:
                        done = true;
                        break;
                case YAML_EVENT_DOCUMENT_START:
                        if (++documents > 1) {
                                (void) reterr_printf(reterr, 0, "%s:%zu:%zu: expected a single document, found another one",
                                                       e->name, ev.line, ev.column);
                                r = -EBADMSG;
                        }
                        break;
                case YAML_EVENT_ALIAS:
                        n = loader_find_anchor(&l, ev.anchor);
                        if (!n) {
                                (void) reterr_printf(reterr, 0, "%s:%zu:%zu: undefined alias '%s'", e->name,
                                                       ev.line, ev.column, ev.anchor);
                                r = -EBADMSG;
                                break;
                        }
                        r = loader_add(&l, n, reterr);
                        break;
                case YAML_EVENT_SCALAR:
                        r = loader_scalar(&l, &ev, &n, reterr);
                        if (r >= 0 && ev.anchor)
                                r = loader_register_anchor(&l, ev.anchor, n);
                        if (r >= 0)
                                r = loader_add(&l, n, reterr);
                        break;
                case YAML_EVENT_SEQUENCE_START:
                case YAML_EVENT_MAPPING_START: {
                        bool seq = ev.kind == YAML_EVENT_SEQUENCE_START;
                        const char *tag = ev.tag;
                        const char *anchor = ev.anchor;
                        if (tag && !streq(tag, "!") && !streq(tag, seq ? YAML_TAG_PREFIX "seq" : YAML_TAG_PREFIX "map")) {
                                (void) reterr_printf(reterr, 0, "%s:%zu:%zu: unsupported tag '%s'", e->name,
                                                       ev.line, ev.column, tag);
                                r = -EBADMSG;
                                break;
                        }
                        if (l.n_stack >= ENV_MAX_DEPTH) {
                                (void) reterr_printf(reterr, 0, "%s:%zu:%zu: nested deeper than %u levels", e->name,
                                                       ev.line, ev.column, ENV_MAX_DEPTH);
                                r = -EBADMSG;
                                break;
                        }
                        n = env_node_new(e, seq ? ENV_NODE_SEQUENCE : ENV_NODE_MAPPING, &ev);
                        if (!n || grow((void **) &l.stack, &l.n_stack_allocated, l.n_stack + 1, sizeof(Frame)) < 0) {
                                r = -ENOMEM;
                                break;
                        }
                        l.stack[l.n_stack] = (Frame) { .node = n };
                        if (anchor) {
                                l.stack[l.n_stack].anchor = strdup(anchor);
                                if (!l.stack[l.n_stack].anchor) {
                                        r = -ENOMEM;
                                        break;
                                }
                        }
                        l.n_stack++;
                        break;
                }
                case YAML_EVENT_SEQUENCE_END:
                case YAML_EVENT_MAPPING_END: {
                        Frame f = l.stack[--l.n_stack];
                        _cleanup_free_ char *anchor = f.anchor;
                        free(f.key.name);
                        n = f.node;
                        if (n->type == ENV_NODE_MAPPING)
                                r = mapping_finish(e, n, reterr);
                        /* registered only now: an alias inside its own anchor is an undefined alias */
                        if (r >= 0 && anchor)
                                r = loader_register_anchor(&l, anchor, n);
                        if (r >= 0)
                                r = loader_add(&l, n, reterr);
                        break;
                }
                default:
                        break;
                }
                if (r < 0)
                        break;
        }
        yaml_events_free(TAKE_PTR(p));
        if (r < 0)
                return r;

        if (!e->root || e->root->type == ENV_NODE_NULL) {
                (void) reterr_printf(reterr, 0, "%s:1:1: no settings: the document is empty", e->name);
                return -ENODATA;
        }
        if (e->root->type != ENV_NODE_MAPPING) {
                (void) reterr_printf(reterr, 0, "%s:%u:%u: the document must be a mapping of keys to values", e->name,
                                       e->root->line, e->root->column);
                return -EBADMSG;
        }
        return 0;
}

int env_load_buffer(const char *name, const char *buf, size_t len, Env **ret, char **reterr) {
        return env_load_buffer_flags(name, buf, len, 0, ret, reterr);
}

int env_load_buffer_flags(const char *name, const char *buf, size_t len, EnvLoadFlags flags, Env **ret,
                          char **reterr) {
        _cleanup_(env_freep) Env *e = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        if (!name)
                name = "<input>";
        if (!buf && len > 0)
                return -EINVAL;

        if (len == 0) {
                error = xasprintf("%s: the file is empty", name);
                r = -ENODATA;
        } else if (len > ENV_MAX_SIZE) {
                error = xasprintf("%s: too large (more than %u bytes)", name, ENV_MAX_SIZE);
                r = -EFBIG;
        } else if (memchr(buf, 0, len)) {
                const char *z = memchr(buf, 0, len);
                size_t line = 1;
                for (const char *c = buf; c < z; c++)
                        line += *c == '\n';
                error = xasprintf("%s:%zu: NUL byte in the file", name, line);
                r = -EILSEQ;
        } else if (!(flags & ENV_LOAD_NO_HEADER))
                r = check_header(name, buf, len, &error);
        else
                r = 0;
        if (r >= 0) {
                e = calloc(1, sizeof(Env));
                if (!e)
                        return -ENOMEM;
                e->name = strdup(name);
                e->text = memdup_nul(buf, len);
                if (!e->name || !e->text)
                        return -ENOMEM;
                e->len = len;
                r = env_parse(e, &error);
                if (r >= 0)
                        r = scan_non_ascii(e);
        }
        if (r < 0) {
                if (reterr)
                        *reterr = TAKE_PTR(error);
                return r;
        }
        if (!e->warnings) {
                e->warnings = calloc(1, sizeof(char *));
                if (!e->warnings)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(e);
        return 0;
}

int env_load_file(const char *path, Env **ret, char **reterr) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        r = read_input(AT_FDCWD, path, INPUT_FOLLOW, ENV_MAX_SIZE + 1, &buf, &len);
        if (r < 0) {
                if (r == -EFBIG)
                        return reterr_printf(reterr, r, "%s: too large (more than %u bytes)", path, ENV_MAX_SIZE);
                return reterr_printf(reterr, r, "%s: %s", path, input_strerror(r));
        }
        return env_load_buffer(path, buf, len, ret, reterr);
}

const char *env_text(const Env *e, size_t *ret_len) {
        if (!e)
                return NULL;
        if (ret_len)
                *ret_len = e->len;
        return e->text;
}

const char *env_name(const Env *e) {
        return e ? e->name : NULL;
}

char *const *env_warnings(const Env *e) {
        static char *const empty[] = { NULL };
        return e && e->warnings ? e->warnings : empty;
}

const EnvNode *env_root(const Env *e) {
        return e ? e->root : NULL;
}

/* ---- queries ---- */

EnvNodeType env_node_type(const EnvNode *n) {
        return n ? n->type : ENV_NODE_NULL;
}

unsigned env_node_line(const EnvNode *n) {
        return n ? n->line : 0;
}

unsigned env_node_column(const EnvNode *n) {
        return n ? n->column : 0;
}

const char *env_node_string(const EnvNode *n) {
        return n && n->type == ENV_NODE_SCALAR ? n->value : NULL;
}

size_t env_node_string_length(const EnvNode *n) {
        return n && n->type == ENV_NODE_SCALAR ? n->len : 0;
}

EnvScalarStyle env_node_style(const EnvNode *n) {
        return n && (n->type == ENV_NODE_SCALAR || n->type == ENV_NODE_NULL) ? n->style : _ENV_SCALAR_STYLE_INVALID;
}

EnvScalarKind env_node_kind(const EnvNode *n) {
        return n && n->type == ENV_NODE_SCALAR ? n->kind : _ENV_SCALAR_KIND_INVALID;
}

int env_node_bool(const EnvNode *n) {
        if (!n || n->type != ENV_NODE_SCALAR)
                return -EINVAL;
        if (n->kind == ENV_SCALAR_BOOL)
                return env_scalar_bool(n->value, n->len);
        /* the original's scripts compared the flattened text with "true": a quoted "true" or
         * "false" (any case) means the same there */
        if (n->kind == ENV_SCALAR_STRING && strcasecmp(n->value, "true") == 0)
                return 1;
        if (n->kind == ENV_SCALAR_STRING && strcasecmp(n->value, "false") == 0)
                return 0;
        return -EINVAL;
}

int env_node_int(const EnvNode *n, int64_t *ret) {
        if (!n || n->type != ENV_NODE_SCALAR || n->kind != ENV_SCALAR_INT)
                return -EINVAL;
        return env_scalar_int64(n->value, n->len, ret);
}

size_t env_node_size(const EnvNode *n) {
        return n && (n->type == ENV_NODE_SEQUENCE || n->type == ENV_NODE_MAPPING) ? n->n_items : 0;
}

const EnvNode *env_node_item(const EnvNode *n, size_t i) {
        if (!n || (n->type != ENV_NODE_SEQUENCE && n->type != ENV_NODE_MAPPING) || i >= n->n_items)
                return NULL;
        return n->items[i];
}

const char *env_node_key(const EnvNode *n, size_t i) {
        if (!n || n->type != ENV_NODE_MAPPING || i >= n->n_items)
                return NULL;
        return n->keys[i].name;
}

unsigned env_node_key_line(const EnvNode *n, size_t i) {
        if (!n || n->type != ENV_NODE_MAPPING || i >= n->n_items)
                return 0;
        return n->keys[i].line;
}

unsigned env_node_key_column(const EnvNode *n, size_t i) {
        if (!n || n->type != ENV_NODE_MAPPING || i >= n->n_items)
                return 0;
        return n->keys[i].column;
}

static const EnvNode *node_child_n(const EnvNode *n, const char *key, size_t len) {
        if (!n)
                return NULL;
        if (n->type == ENV_NODE_MAPPING) {
                for (size_t i = 0; i < n->n_items; i++)
                        if (n->keys[i].len == len && memcmp(n->keys[i].name, key, len) == 0)
                                return n->items[i];
                return NULL;
        }
        if (n->type == ENV_NODE_SEQUENCE) {
                size_t idx = 0;
                if (len == 0 || len > 9)
                        return NULL;
                for (size_t i = 0; i < len; i++) {
                        if (!is_digit(key[i]))
                                return NULL;
                        idx = idx * 10 + (size_t) (key[i] - '0');
                }
                return idx < n->n_items ? n->items[idx] : NULL;
        }
        return NULL;
}

const EnvNode *env_node_child(const EnvNode *n, const char *key) {
        return key ? node_child_n(n, key, strlen(key)) : NULL;
}

const EnvNode *env_node_lookup(const EnvNode *n, const char *path) {
        if (!path)
                return NULL;
        while (n && *path) {
                size_t l = strcspn(path, ":");
                n = node_child_n(n, path, l);
                path += l;
                if (*path == ':')
                        path++;
        }
        return n;
}

const EnvNode *env_lookup(const Env *e, const char *path) {
        return e ? env_node_lookup(e->root, path) : NULL;
}

const char *env_get_string(const Env *e, const char *path, const char *def) {
        const EnvNode *n = env_lookup(e, path);
        return n && n->type == ENV_NODE_SCALAR ? n->value : def;
}

int env_get_bool(const Env *e, const char *path, int def) {
        const EnvNode *n = env_lookup(e, path);
        if (!n || n->type == ENV_NODE_NULL)
                return def;
        return env_node_bool(n);
}

int env_get_int(const Env *e, const char *path, int64_t def, int64_t *ret) {
        const EnvNode *n = env_lookup(e, path);
        int64_t v;
        int r;

        if (!n || n->type == ENV_NODE_NULL) {
                if (ret)
                        *ret = def;
                return 0;
        }
        r = env_node_int(n, &v);
        if (r < 0)
                return r;
        if (ret)
                *ret = v;
        return 0;
}

size_t env_list_length(const Env *e, const char *path) {
        return env_node_size(env_lookup(e, path));
}
