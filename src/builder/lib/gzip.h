/**
 * gzip (RFC 1952) in memory, the builder's one use of zlib: the env's paper format and the seed's
 * gzip-compressed user-data.
 */
#pragma once

#include <stddef.h>

/* gzip container (RFC 1952), deflate level 9, mtime 0, no file name. */
int gzip_compress(const void *data, size_t len, void **ret, size_t *ret_size);
/* Decompresses one gzip member, verifying its CRC. -EBADMSG for corrupt data, -EPIPE for a
 * truncated stream, -EFBIG if the output exceeds max. The result is NUL-terminated. */
int gzip_decompress(const void *data, size_t len, size_t max, void **ret, size_t *ret_size);
