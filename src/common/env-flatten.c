/**
 * Flattening of the env to variable assignments, with the rules of the original appliance's
 * flatyaml (see env.h): names from the joined key path, upper-cased; sequences as _0.._N plus
 * _LEN; Python renderings of numbers; strings stripped and shell-quoted.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env-internal.h"
#include "env.h"
#include "escape.h"
#include "macro.h"

#define FLATTEN_MAX_ITEMS 100000U
#define FLATTEN_MAX_BYTES (64U * 1024U * 1024U)

/* ---- numbers ---- */

/* Copies s without '_' and splits off the sign. */
static char *number_clean(const char *s, size_t n, int *ret_sign) {
        char *c = malloc(n + 1), *w = c;
        if (!c)
                return NULL;
        *ret_sign = 1;
        for (size_t i = 0; i < n; i++)
                if (s[i] != '_')
                        *w++ = s[i];
        *w = 0;
        if (c[0] == '-' || c[0] == '+') {
                *ret_sign = c[0] == '-' ? -1 : 1;
                memmove(c, c + 1, strlen(c));
        }
        return c;
}

/* A little arbitrary-precision unsigned integer in base 10^9 limbs, little endian. */
typedef struct Big {
        uint32_t *limb;
        size_t n;
} Big;

static int big_mul_add(Big *b, uint32_t mul, uint32_t add) {
        uint64_t carry = add;
        for (size_t i = 0; i < b->n; i++) {
                uint64_t v = (uint64_t) b->limb[i] * mul + carry;
                b->limb[i] = (uint32_t) (v % 1000000000U);
                carry = v / 1000000000U;
        }
        while (carry > 0) {
                uint32_t *l = reallocarray(b->limb, b->n + 1, sizeof(uint32_t));
                if (!l)
                        return -ENOMEM;
                b->limb = l;
                b->limb[b->n++] = (uint32_t) (carry % 1000000000U);
                carry /= 1000000000U;
        }
        return 0;
}

static int digit_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Evaluates a cleaned (no sign, no '_') YAML 1.1 integer into b. */
static int big_parse(Big *b, const char *c) {
        unsigned base = 10;
        int r;

        if (startswith(c, "0b"))
                base = 2, c += 2;
        else if (startswith(c, "0x"))
                base = 16, c += 2;
        else if (c[0] == '0' && c[1] != 0)
                base = 8, c += 1;
        else if (strchr(c, ':')) {
                /* base 60: each group is a decimal number */
                for (const char *p = c; *p;) {
                        size_t l = strcspn(p, ":");
                        uint32_t g = 0;
                        if (p == c) {
                                for (size_t i = 0; i < l; i++) {
                                        r = big_mul_add(b, 10, (uint32_t) (p[i] - '0'));
                                        if (r < 0)
                                                return r;
                                }
                        } else {
                                for (size_t i = 0; i < l; i++)
                                        g = g * 10 + (uint32_t) (p[i] - '0');
                                r = big_mul_add(b, 60, g);
                                if (r < 0)
                                        return r;
                        }
                        p += l;
                        if (*p == ':')
                                p++;
                }
                return 0;
        }
        for (; *c; c++) {
                int d = digit_value(*c);
                if (d < 0 || (unsigned) d >= base)
                        return -EINVAL;
                r = big_mul_add(b, base, (uint32_t) d);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool big_is_zero(const Big *b) {
        for (size_t i = 0; i < b->n; i++)
                if (b->limb[i] != 0)
                        return false;
        return true;
}

char *env_scalar_int_decimal(const char *s, size_t n) {
        _cleanup_free_ char *c = NULL;
        Big b = {};
        int sign;

        c = number_clean(s, n, &sign);
        if (!c)
                return NULL;
        if (big_parse(&b, c) < 0) {
                free(b.limb);
                return NULL;
        }
        /* at most 9 digits per limb, plus sign and NUL */
        char *out = malloc(b.n * 9 + 3), *w = out;
        if (!out) {
                free(b.limb);
                return NULL;
        }
        if (sign < 0 && !big_is_zero(&b))
                *w++ = '-';
        size_t top = b.n;
        while (top > 1 && b.limb[top - 1] == 0)
                top--;
        if (top == 0)
                w += sprintf(w, "0");
        else {
                w += sprintf(w, "%u", b.limb[top - 1]);
                for (size_t i = top - 1; i > 0; i--)
                        w += sprintf(w, "%09u", b.limb[i - 1]);
        }
        free(b.limb);
        return out;
}

int env_scalar_int64(const char *s, size_t n, int64_t *ret) {
        _cleanup_free_ char *d = NULL;
        char *end;

        if (!env_scalar_is_int(s, n))
                return -EINVAL;
        d = env_scalar_int_decimal(s, n);
        if (!d)
                return -ENOMEM;
        errno = 0;
        long long v = strtoll(d, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end != 0)
                return -EINVAL;
        if (ret)
                *ret = (int64_t) v;
        return 0;
}

/* Python's repr() of a double: the shortest digits that round-trip; fixed notation for decimal
 * exponents -4 <= e < 16, otherwise "d.ddde+XX". */
static char *python_float_repr(double x) {
        char buf[64], digits[32];
        int exp10 = 0;
        char *out;

        if (isnan(x))
                return strdup("nan");
        if (isinf(x))
                return strdup(x < 0 ? "-inf" : "inf");

        for (int prec = 1; prec <= 17; prec++) {
                snprintf(buf, sizeof(buf), "%.*e", prec - 1, x);
                if (strtod(buf, NULL) == x)
                        break;
        }
        /* buf: [-]d[.ddd]e[+-]XX */
        const char *p = buf;
        bool neg = *p == '-';
        if (neg)
                p++;
        size_t nd = 0;
        for (; *p && *p != 'e'; p++)
                if (*p != '.')
                        digits[nd++] = *p;
        digits[nd] = 0;
        if (*p == 'e')
                exp10 = atoi(p + 1);
        while (nd > 1 && digits[nd - 1] == '0')
                digits[--nd] = 0;

        out = malloc(nd + 32);
        if (!out)
                return NULL;
        char *w = out;
        if (neg)
                *w++ = '-';
        if (exp10 >= -4 && exp10 < 16) {
                if (exp10 >= 0) {
                        for (int i = 0; i <= exp10; i++)
                                *w++ = (size_t) i < nd ? digits[i] : '0';
                        *w++ = '.';
                        if ((size_t) exp10 + 1 < nd)
                                for (size_t i = (size_t) exp10 + 1; i < nd; i++)
                                        *w++ = digits[i];
                        else
                                *w++ = '0';
                } else {
                        *w++ = '0';
                        *w++ = '.';
                        for (int i = 0; i < -exp10 - 1; i++)
                                *w++ = '0';
                        for (size_t i = 0; i < nd; i++)
                                *w++ = digits[i];
                }
                *w = 0;
        } else {
                *w++ = digits[0];
                if (nd > 1) {
                        *w++ = '.';
                        for (size_t i = 1; i < nd; i++)
                                *w++ = digits[i];
                }
                sprintf(w, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
        }
        return out;
}

char *env_scalar_float_repr(const char *s, size_t n) {
        _cleanup_free_ char *c = NULL;
        int sign;
        double v;

        c = number_clean(s, n, &sign);
        if (!c)
                return NULL;
        for (char *p = c; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char) (*p - 'A' + 'a');
        if (streq(c, ".inf"))
                v = sign * INFINITY;
        else if (streq(c, ".nan"))
                v = NAN;
        else if (strchr(c, ':')) {
                /* base 60, summed from the last group as PyYAML does */
                double base = 1, acc = 0;
                for (char *p = c + strlen(c); p > c;) {
                        char *q = p;
                        while (q > c && q[-1] != ':')
                                q--;
                        char save = *p;
                        *p = 0;
                        acc += strtod(q, NULL) * base;
                        *p = save;
                        base *= 60;
                        p = q > c ? q - 1 : c;
                }
                v = sign * acc;
        } else
                v = sign * strtod(c, NULL);
        return python_float_repr(v);
}

/* ---- strings ---- */

/* Decodes one UTF-8 code point at s[i]; returns its length (1 for anything malformed). */
static size_t utf8_decode(const unsigned char *s, size_t i, size_t n, uint32_t *ret) {
        unsigned char c = s[i];
        size_t l = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
        uint32_t cp = l == 1 ? c : l == 2 ? (c & 0x1Fu) : l == 3 ? (c & 0x0Fu) : (c & 0x07u);

        if (i + l > n)
                l = 1, cp = c;
        for (size_t k = 1; k < l; k++)
                cp = (cp << 6) | (s[i + k] & 0x3Fu);
        *ret = cp;
        return l;
}

/* Python's str.isspace() */
static bool python_isspace(uint32_t c) {
        return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
                c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
                c == 0x205F || c == 0x3000;
}

void env_strip(const char *s, size_t n, size_t *ret_start, size_t *ret_len) {
        const unsigned char *u = (const unsigned char *) s;
        size_t start = 0, end = 0, i = 0;
        bool seen = false;

        while (i < n) {
                uint32_t cp;
                size_t l = utf8_decode(u, i, n, &cp);
                if (!python_isspace(cp)) {
                        if (!seen)
                                start = i, seen = true;
                        end = i + l;
                }
                i += l;
        }
        *ret_start = seen ? start : 0;
        *ret_len = seen ? end - start : 0;
}

char *env_quote(const char *s, size_t len, EnvFlattenFormat fmt) {
        size_t extra = 0;
        char *out, *w;

        if (fmt < 0 || fmt >= _ENV_FLATTEN_FORMAT_MAX)
                return NULL;
        if (fmt == ENV_FLATTEN_SH)
                return shell_quote(s, len);
        if (shell_word_is_safe(s, len)) {
                /* s need not be NUL-terminated */
                out = malloc(len + 1);
                if (!out)
                        return NULL;
                memcpy(out, s, len);
                out[len] = 0;
                return out;
        }

        /* systemd EnvironmentFile= (and POSIX sh): double quotes, \ before " \ ` $ */
        for (size_t i = 0; i < len; i++)
                extra += s[i] && strchr("\"\\`$", s[i]) ? 1 : 0;
        out = malloc(len + extra + 3);
        if (!out)
                return NULL;
        w = out;
        *w++ = '"';
        for (size_t i = 0; i < len; i++) {
                if (s[i] && strchr("\"\\`$", s[i]))
                        *w++ = '\\';
                *w++ = s[i];
        }
        *w++ = '"';
        *w = 0;
        return out;
}

/* ---- flattening ---- */

typedef struct Item {
        char *key;              /* original case, without the root */
        char *value;            /* rendered */
        bool is_string;         /* value still has to be quoted */
        size_t seq;
} Item;

char *env_node_text(const EnvNode *n) {
        const char *v = env_node_string(n);
        size_t vlen = env_node_string_length(n), start, l;

        switch (env_node_type(n)) {
        case ENV_NODE_NULL:
                return strdup("");
        case ENV_NODE_SCALAR:
                break;
        default:
                errno = EINVAL;
                return NULL;
        }
        switch (env_node_kind(n)) {
        case ENV_SCALAR_BOOL:
                return strdup(env_node_bool(n) > 0 ? "true" : "false");
        case ENV_SCALAR_INT:
                return env_scalar_int_decimal(v, vlen);
        case ENV_SCALAR_FLOAT:
                return env_scalar_float_repr(v, vlen);
        default:
                env_strip(v, vlen, &start, &l);
                return strndup(v + start, l);
        }
}

typedef struct Flattener {
        Item *items;
        size_t n_items, n_allocated;
        size_t visited;
        size_t bytes;
} Flattener;

static int flattener_add(Flattener *f, char *key, char *value, bool is_string) {
        if (!key || !value) {
                free(key);
                free(value);
                return -ENOMEM;
        }
        f->bytes += strlen(key) + strlen(value) + 16;
        if (f->bytes > FLATTEN_MAX_BYTES) {
                free(key);
                free(value);
                return -E2BIG;
        }
        if (f->n_items >= f->n_allocated) {
                size_t a = MAX((size_t) 64, f->n_allocated * 2);
                Item *n = reallocarray(f->items, a, sizeof(Item));
                if (!n) {
                        free(key);
                        free(value);
                        return -ENOMEM;
                }
                f->items = n;
                f->n_allocated = a;
        }
        f->items[f->n_items] = (Item) { key, value, is_string, f->n_items };
        f->n_items++;
        return 0;
}

static void flattener_done(Flattener *f) {
        for (size_t i = 0; i < f->n_items; i++) {
                free(f->items[i].key);
                free(f->items[i].value);
        }
        free(f->items);
        *f = (Flattener) {};
}

static char *join_key(const char *parent, const char *k, size_t klen) {
        char *s = NULL;
        /* as the original: an empty parent means "no prefix" */
        if (isempty(parent))
                return strndup(k, klen);
        if (asprintf(&s, "%s_%.*s", parent, (int) klen, k) < 0)
                return NULL;
        return s;
}

static int flatten_node(Flattener *f, const EnvNode *n, const char *parent) {
        int r;

        if (++f->visited > FLATTEN_MAX_ITEMS)
                return -E2BIG;

        switch (env_node_type(n)) {
        case ENV_NODE_MAPPING:
                for (size_t i = 0; i < env_node_size(n); i++) {
                        const char *k = env_node_key(n, i);
                        _cleanup_free_ char *key = join_key(parent, k, strlen(k));
                        if (!key)
                                return -ENOMEM;
                        r = flatten_node(f, env_node_item(n, i), key);
                        if (r < 0)
                                return r;
                }
                return 0;

        case ENV_NODE_SEQUENCE: {
                size_t count = env_node_size(n);
                char idx[32], *len_key = NULL, *len_value = NULL;
                for (size_t i = 0; i < count; i++) {
                        snprintf(idx, sizeof(idx), "%zu", i);
                        _cleanup_free_ char *key = join_key(parent, idx, strlen(idx));
                        if (!key)
                                return -ENOMEM;
                        r = flatten_node(f, env_node_item(n, i), key);
                        if (r < 0)
                                return r;
                }
                /* the count always gets the separator, even without a parent ("_len") */
                if (asprintf(&len_key, "%s_len", parent) < 0)
                        len_key = NULL;
                if (asprintf(&len_value, "%zu", count) < 0)
                        len_value = NULL;
                return flattener_add(f, len_key, len_value, false);
        }

        case ENV_NODE_SCALAR:
                return flattener_add(f, strdup(parent), env_node_text(n), env_node_kind(n) == ENV_SCALAR_STRING);

        case ENV_NODE_NULL:
        default:
                return flattener_add(f, strdup(parent), strdup(""), false);
        }
}

static int item_compare(const void *a, const void *b) {
        const Item *x = a, *y = b;
        int c = strcmp(x->key, y->key);
        if (c != 0)
                return c;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool shell_name_valid(const char *s) {
        if (!((*s >= 'A' && *s <= 'Z') || *s == '_'))
                return false;
        for (; *s; s++)
                if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
                        return false;
        return true;
}

static void ascii_upper(char *s) {
        for (; *s; s++)
                if (*s >= 'a' && *s <= 'z')
                        *s = (char) (*s - 'a' + 'A');
}

static int emit_root(FILE *out, const EnvNode *n, const char *root, EnvFlattenFormat fmt) {
        Flattener f = {};
        int r;

        r = flatten_node(&f, n, "");
        if (r < 0) {
                flattener_done(&f);
                return r;
        }
        if (f.n_items > 0)
                qsort(f.items, f.n_items, sizeof(Item), item_compare);

        for (size_t i = 0; i < f.n_items; i++) {
                /* equal keys: the last one produced wins, as in a Python dict */
                if (i + 1 < f.n_items && streq(f.items[i].key, f.items[i + 1].key))
                        continue;
                _cleanup_free_ char *name = NULL, *quoted = NULL;
                if (asprintf(&name, "%s%s%s", root, *root ? "_" : "", f.items[i].key) < 0) {
                        flattener_done(&f);
                        return -ENOMEM;
                }
                ascii_upper(name);
                if (!shell_name_valid(name)) {
                        for (char *p = name; *p; p++)
                                if ((unsigned char) *p < 0x20 || (unsigned char) *p >= 0x7f)
                                        *p = '?';
                        fprintf(out, "# skipped: '%s' is not a valid variable name\n", name);
                        continue;
                }
                const char *value = f.items[i].value;
                if (f.items[i].is_string) {
                        quoted = env_quote(value, strlen(value), fmt);
                        if (!quoted) {
                                flattener_done(&f);
                                return -ENOMEM;
                        }
                        value = quoted;
                }
                fprintf(out, "%s%s=%s\n", fmt == ENV_FLATTEN_SH ? "export " : "", name, value);
        }
        flattener_done(&f);
        return 0;
}

int env_flatten(const Env *e, char *const *roots, EnvFlattenFormat fmt, char **ret_text) {
        static char *const default_roots[] = { (char *) "ecs", (char *) "appliance", NULL };
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        int r = 0;

        if (!e || !ret_text || fmt < 0 || fmt >= _ENV_FLATTEN_FORMAT_MAX)
                return -EINVAL;
        if (!roots)
                roots = default_roots;

        FILE *out = open_memstream(&buf, &size);
        if (!out)
                return -ENOMEM;
        for (char *const *root = roots; *root && r >= 0; root++) {
                if (streq(*root, ".")) {
                        r = emit_root(out, env_root(e), "", fmt);
                        continue;
                }
                const EnvNode *n = env_node_child(env_root(e), *root);
                if (!n)
                        continue;
                r = emit_root(out, n, *root, fmt);
        }
        if (fclose(out) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        *ret_text = TAKE_PTR(buf);
        return 0;
}

static const char *const flatten_format_table[_ENV_FLATTEN_FORMAT_MAX] = {
        [ENV_FLATTEN_SH] = "sh",
        [ENV_FLATTEN_SYSTEMD] = "systemd",
};

const char *env_flatten_format_to_string(EnvFlattenFormat f) {
        return f >= 0 && f < _ENV_FLATTEN_FORMAT_MAX ? flatten_format_table[f] : NULL;
}

EnvFlattenFormat env_flatten_format_from_string(const char *s) {
        for (size_t i = 0; s && i < ELEMENTSOF(flatten_format_table); i++)
                if (streq(s, flatten_format_table[i]))
                        return (EnvFlattenFormat) i;
        return _ENV_FLATTEN_FORMAT_INVALID;
}
