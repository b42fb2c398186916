/**
 * Random bytes (getrandom) and hex/base64 encoding.
 */
#pragma once

#include <stddef.h>

/* Fills buf with cryptographically secure random bytes. Returns 0 or -errno. */
int random_bytes(void *buf, size_t len);

/* Lower-case hex of data; returns a new string or NULL on OOM. */
char *hexmem(const void *data, size_t len);
