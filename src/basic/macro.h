/**
 * Small macros used everywhere: attributes, array sizes, string equality.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define _printf_(a, b) __attribute__((__format__(printf, a, b)))
#define _unused_ __attribute__((__unused__))
#define _noreturn_ __attribute__((__noreturn__))
#define _pure_ __attribute__((__pure__))
#define _warn_unused_result_ __attribute__((__warn_unused_result__))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

#define streq(a, b) (strcmp((a), (b)) == 0)
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)
#define isempty(s) (!(s) || !*(s))
#define strna(s) ((s) ?: "n/a")

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define DIV_ROUND_UP(x, y) (((x) + (y) - 1) / (y))
#define ALIGN_TO(x, a) (DIV_ROUND_UP((x), (a)) * (a))

static inline bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

static inline bool endswith(const char *s, const char *suffix) {
        size_t l = strlen(s), m = strlen(suffix);
        return l >= m && memcmp(s + l - m, suffix, m) == 0;
}

/* A NUL-terminated copy of len bytes (which may hold NULs themselves); NULL on OOM. */
static inline char *memdup_nul(const void *p, size_t len) {
        char *c = malloc(len + 1);

        if (c) {
                if (len > 0)
                        memcpy(c, p, len);
                c[len] = 0;
        }
        return c;
}
