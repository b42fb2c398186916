/**
 * NULL-terminated string vectors (char **). strv_free() is declared in cleanup.h.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

size_t strv_length(char *const *l);
/* Appends a copy of s; returns 0 or -ENOMEM. */
int strv_extend(char ***l, const char *s);
/* Appends s, taking ownership (freed on failure). */
int strv_consume(char ***l, char *s);
/* Appends the formatted string; returns 0 or -ENOMEM. */
int strv_extendf(char ***l, const char *fmt, ...) __attribute__((__format__(printf, 2, 3)));
bool strv_contains(char *const *l, const char *s);
/* Splits s at any of the separator characters, dropping empty fields. */
int strv_split(const char *s, const char *separators, char ***ret);
/* Joins with sep; returns NULL on OOM. */
char *strv_join(char *const *l, const char *sep);
void strv_sort(char **l);

#define STRV_FOREACH(s, l) for (char *const *s = (l); s && *s; s++)
