/**
 * Parsing of numbers and sizes; formatting of sizes. All parsers return 0 or -errno (-EINVAL for
 * syntax, -ERANGE for overflow) and leave the output untouched on failure.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

int safe_atou64(const char *s, uint64_t *ret);
int safe_atou(const char *s, unsigned *ret);
int safe_atoi(const char *s, int *ret);
int safe_atod(const char *s, double *ret);

/* Parses "512", "10K", "1.5G", "20GiB", "300MB", "2T". Suffixes are 1024-based as in the manual
 * ("1 GB = 1024 MB"); K, M, G, T, P with an optional "B" or "iB". No suffix means bytes. */
int parse_size(const char *s, uint64_t *ret);

/* Formats bytes as "1.5G" / "300M" / "512B" into buf (at least FORMAT_BYTES_MAX). */
#define FORMAT_BYTES_MAX 16
char *format_bytes(char *buf, size_t len, uint64_t bytes);

/* Parses a boolean: 1/yes/y/true/t/on and 0/no/n/false/f/off. Returns 1, 0, or -EINVAL. */
int parse_boolean(const char *s);
