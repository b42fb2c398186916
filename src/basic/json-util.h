/**
 * Writing JSON strings: the one escaper for every JSON output (manifests, inspect, agent status).
 */
#pragma once

#include <stdio.h>

/* Writes s as a JSON string literal ("null" if s is NULL): quotes, backslashes and control
 * characters escaped, other bytes (UTF-8) as they are. */
void json_write_string(FILE *f, const char *s);

/* The same as a new string; NULL on OOM. */
char *json_quote(const char *s);
