/**
 * Random bytes and hex encoding.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "random-util.h"

int random_bytes(void *buf, size_t len) {
        unsigned char *p = buf;

        while (len > 0) {
                ssize_t n = getrandom(p, len, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

char *hexmem(const void *data, size_t len) {
        static const char digits[] = "0123456789abcdef";
        const unsigned char *p = data;
        char *r = malloc(len * 2 + 1);

        if (!r)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                r[i * 2] = digits[p[i] >> 4];
                r[i * 2 + 1] = digits[p[i] & 15];
        }
        r[len * 2] = 0;
        return r;
}
