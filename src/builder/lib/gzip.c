/**
 * zlib behind gzip.h: the only file that includes <zlib.h>.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cleanup.h"
#include "lib/gzip.h"
#include "macro.h"

int gzip_compress(const void *data, size_t len, void **ret, size_t *ret_size) {
        z_stream z = {};
        _cleanup_free_ uint8_t *out = NULL;
        uLong cap;
        int r;

        if (len > UINT32_MAX)
                return -EFBIG;

        /* windowBits 15 + 16: gzip header and trailer; the header has mtime 0 and OS "unknown". */
        if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
                return -ENOMEM;

        cap = deflateBound(&z, (uLong) len);
        out = malloc(cap);
        if (!out) {
                (void) deflateEnd(&z);
                return -ENOMEM;
        }

        z.next_in = (Bytef *) data;
        z.avail_in = (uInt) len;
        z.next_out = out;
        z.avail_out = (uInt) cap;
        r = deflate(&z, Z_FINISH);
        (void) deflateEnd(&z);
        if (r != Z_STREAM_END)
                return -EIO;

        *ret_size = z.total_out;
        *ret = TAKE_PTR(out);
        return 0;
}

int gzip_decompress(const void *data, size_t len, size_t max, void **ret, size_t *ret_size) {
        z_stream z = {};
        _cleanup_free_ uint8_t *out = NULL;
        size_t cap = 4096, n = 0;
        int r;

        if (len > UINT32_MAX)
                return -EFBIG;
        if (inflateInit2(&z, 15 + 16) != Z_OK) /* gzip only */
                return -ENOMEM;

        z.next_in = (Bytef *) data;
        z.avail_in = (uInt) len;
        for (;;) {
                if (cap - n < 2) {
                        uint8_t *p;

                        if (cap > max) {
                                (void) inflateEnd(&z);
                                return -EFBIG;
                        }
                        cap *= 2;
                        p = realloc(out, cap);
                        if (!p) {
                                (void) inflateEnd(&z);
                                return -ENOMEM;
                        }
                        out = p;
                } else if (!out) {
                        out = malloc(cap);
                        if (!out) {
                                (void) inflateEnd(&z);
                                return -ENOMEM;
                        }
                }

                z.next_out = out + n;
                z.avail_out = (uInt) (cap - n - 1);
                r = inflate(&z, Z_NO_FLUSH);
                n = cap - 1 - z.avail_out;
                if (r == Z_STREAM_END)
                        break;
                if (r == Z_BUF_ERROR && z.avail_in == 0) {
                        (void) inflateEnd(&z);
                        return -EPIPE; /* input ended before the gzip trailer */
                }
                if (r != Z_OK && r != Z_BUF_ERROR) {
                        (void) inflateEnd(&z);
                        return r == Z_MEM_ERROR ? -ENOMEM : -EBADMSG;
                }
        }
        (void) inflateEnd(&z);

        if (n > max)
                return -EFBIG;
        if (z.avail_in != 0) /* trailing garbage after the member */
                return -EBADMSG;

        out[n] = 0;
        *ret = TAKE_PTR(out);
        *ret_size = n;
        return 0;
}
