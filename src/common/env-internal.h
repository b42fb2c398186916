/**
 * Internals of the env model shared between env.c (loading, queries) and env-flatten.c: YAML 1.1
 * scalar resolution and the Python-compatible rendering of numbers and strings.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"

/* Plain scalar resolution (PyYAML's implicit resolvers). */
bool env_scalar_is_null(const char *s, size_t n);
int env_scalar_bool(const char *s, size_t n);           /* 1, 0, -EINVAL */
bool env_scalar_is_int(const char *s, size_t n);
bool env_scalar_is_float(const char *s, size_t n);
EnvScalarKind env_scalar_resolve(const char *s, size_t n);

/* Value of a YAML 1.1 integer (0x.., 0b.., 0.. octal, 1:30 base 60, '_' separators). */
int env_scalar_int64(const char *s, size_t n, int64_t *ret);   /* 0, -EINVAL, -ERANGE */
/* The same as a decimal string of any length, as Python's str(int) prints it; newly allocated. */
char *env_scalar_int_decimal(const char *s, size_t n);
/* A YAML 1.1 float printed as Python's str(float) does ("1.0", "1e+16", "inf", "nan"). */
char *env_scalar_float_repr(const char *s, size_t n);

/* Strips white space at both ends as Python's str.strip() does (Unicode white space included). */
void env_strip(const char *s, size_t n, size_t *ret_start, size_t *ret_len);

size_t env_node_string_length(const EnvNode *n);
