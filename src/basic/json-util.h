/**
 * Writing JSON strings: the one escaper for every JSON output (manifests, inspect, agent status).
 */
#pragma once

#include <stdio.h>

/* Writes s as a JSON string literal ("null" if s is NULL): quotes, backslashes and control
 * characters escaped (\n, \u001b, ...), well-formed UTF-8 as it is, any other byte as \ufffd, so
 * the output is valid JSON whatever s holds. */
void json_write_string(FILE *f, const char *s);

/* The same as a new string; NULL on OOM. */
char *json_quote(const char *s);
