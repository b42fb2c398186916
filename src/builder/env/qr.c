/**
 * The env's paper format: gzip, base32, QR code texts with "NN " chunk prefixes, and their
 * reassembly. The only file that includes <qrencode.h> (see qr.h); gzip is lib/gzip.h's.
 */
#include <ctype.h>
#include <errno.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "env/qr.h"
#include "lib/gzip.h"
#include "macro.h"
#include "reterr.h"
#include "dlopen-util.h"
#include "strv.h"

#define QRENCODE_SYMBOLS(X) \
        X(QRcode_encodeString) X(QRcode_free)
QRENCODE_SYMBOLS(DLSYM_DECLARE)
static void *qrencode_dl = NULL;

int qr_encode_dlopen(char **reterr) {
        return dlopen_symbols(&qrencode_dl, "libqrencode.so.4", "libqrencode4", reterr,
                              QRENCODE_SYMBOLS(DLSYM_ARG) NULL);
}

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

char *base32_encode(const void *data, size_t len) {
        const uint8_t *p = data;
        size_t groups = DIV_ROUND_UP(len, 5);
        char *out = malloc(groups * 8 + 1), *o = out;

        if (!out)
                return NULL;

        for (size_t i = 0; i < len; i += 5) {
                size_t n = MIN((size_t) 5, len - i);
                uint64_t v = 0;
                /* Output characters that carry data, per count of input bytes (RFC 4648 §6). */
                static const unsigned chars_for[6] = { 0, 2, 4, 5, 7, 8 };

                for (size_t k = 0; k < 5; k++)
                        v = (v << 8) | (k < n ? p[i + k] : 0);
                for (unsigned k = 0; k < 8; k++)
                        *o++ = k < chars_for[n] ? b32_alphabet[(v >> (35 - 5 * k)) & 31] : '=';
        }
        *o = 0;
        return out;
}

static int b32_value(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= '2' && c <= '7')
                return c - '2' + 26;
        return -1;
}

int base32_decode(const char *s, size_t len, void **ret, size_t *ret_size) {
        /* Valid counts of data characters in the last group, and the bytes they give. */
        static const int bytes_for_chars[9] = { -1, -1, 1, -1, 2, 3, -1, 4, 5 };
        _cleanup_free_ uint8_t *out = NULL;
        size_t n = 0;

        if (len % 8 != 0)
                return -EINVAL;

        out = malloc(len / 8 * 5 + 1);
        if (!out)
                return -ENOMEM;

        for (size_t i = 0; i < len; i += 8) {
                uint64_t v = 0;
                unsigned data_chars = 0;
                bool padding = false;

                for (unsigned k = 0; k < 8; k++) {
                        char c = s[i + k];
                        int x;

                        if (c == '=') {
                                if (i + 8 != len) /* padding only in the last group */
                                        return -EINVAL;
                                padding = true;
                                x = 0;
                        } else {
                                if (padding)
                                        return -EINVAL;
                                x = b32_value(c);
                                if (x < 0)
                                        return -EINVAL;
                                data_chars++;
                        }
                        v = (v << 5) | (uint64_t) x;
                }

                int nb = bytes_for_chars[data_chars];
                if (nb < 0)
                        return -EINVAL;
                for (int k = 0; k < nb; k++)
                        out[n++] = (uint8_t) (v >> (32 - 8 * k));
        }

        out[n] = 0;
        *ret = TAKE_PTR(out);
        *ret_size = n;
        return 0;
}

QrMatrix *qr_matrix_free(QrMatrix *m) {
        if (!m)
                return NULL;
        free(m->modules);
        free(m);
        return NULL;
}

int qr_encode(const char *text, QrMatrix **ret) {
        _cleanup_(qr_matrix_freep) QrMatrix *m = NULL;
        QRcode *q;
        int r;

        r = qr_encode_dlopen(NULL);
        if (r < 0)
                return r;

        /* Case-sensitive with the 8-bit hint: libqrencode still picks numeric and alphanumeric
         * segments where they are shorter, so base32 text ends up almost entirely alphanumeric. */
        errno = 0;
        q = sym_QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
        if (!q)
                return errno == ERANGE || errno == 0 ? -ERANGE : -errno;

        m = calloc(1, sizeof *m);
        if (!m) {
                sym_QRcode_free(q);
                return -ENOMEM;
        }
        m->width = (unsigned) q->width;
        m->version = (unsigned) q->version;
        m->modules = malloc((size_t) m->width * m->width);
        if (!m->modules) {
                sym_QRcode_free(q);
                return -ENOMEM;
        }
        for (size_t i = 0; i < (size_t) m->width * m->width; i++)
                m->modules[i] = q->data[i] & 1; /* bit 0: dark module */
        sym_QRcode_free(q);

        *ret = TAKE_PTR(m);
        return 0;
}

int qr_payload_split(const char *b32, char ***ret_texts) {
        _cleanup_strv_free_ char **l = NULL;
        size_t len = strlen(b32), n;
        int r;

        {
                _cleanup_(qr_matrix_freep) QrMatrix *single = NULL;

                r = qr_encode(b32, &single);
                if (r == 0) {
                        r = strv_extend(&l, b32);
                        if (r < 0)
                                return r;
                        *ret_texts = TAKE_PTR(l);
                        return 1;
                }
                if (r != -ERANGE)
                        return r;
        }

        n = DIV_ROUND_UP(len, QR_CHUNK_CHARS);
        if (n > QR_MAX_CODES)
                return -E2BIG;

        for (size_t i = 0; i < n; i++) {
                size_t k = MIN((size_t) QR_CHUNK_CHARS, len - i * QR_CHUNK_CHARS);
                char *t;

                if (asprintf(&t, "%02zu %.*s", i, (int) k, b32 + i * QR_CHUNK_CHARS) < 0)
                        return -ENOMEM;
                r = strv_consume(&l, t);
                if (r < 0)
                        return r;
        }

        *ret_texts = TAKE_PTR(l);
        return (int) n;
}

static bool text_is_chunk(const char *t) {
        return isdigit((unsigned char) t[0]) && isdigit((unsigned char) t[1]) && t[2] == ' ';
}

static bool text_is_base32(const char *t) {
        return *t && strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567=") == strlen(t);
}

int qr_payload_join(char *const *texts, size_t n, char **ret_b32, char **reterr) {
        const char *chunk[QR_MAX_CODES] = {};
        const char *single = NULL;
        _cleanup_free_ char *b32 = NULL, *missing = NULL;
        size_t n_chunks = 0, max = 0, total = 0, missing_count = 0;

        if (n == 0) {
                *reterr = strdup("no QR codes found");
                return -ENODATA;
        }

        for (size_t i = 0; i < n; i++) {
                const char *t = texts[i];

                if (text_is_chunk(t)) {
                        unsigned idx = (unsigned) (t[0] - '0') * 10 + (unsigned) (t[1] - '0');

                        if (!text_is_base32(t + 3)) {
                                return reterr_printf(reterr, -EINVAL,
                                                     "QR chunk %02u does not hold base32 text", idx);
                        }
                        if (chunk[idx]) {
                                if (!streq(chunk[idx], t + 3)) {
                                        (void) asprintf(reterr,
                                                        "two different QR codes claim to be chunk %02u "
                                                        "(scans of different env packages?)",
                                                        idx);
                                        return -EINVAL;
                                }
                                continue; /* the same chunk scanned twice */
                        }
                        chunk[idx] = t + 3;
                        n_chunks++;
                        max = MAX(max, (size_t) idx);
                } else if (text_is_base32(t)) {
                        if (single && !streq(single, t)) {
                                *reterr = strdup("found more than one unnumbered QR code "
                                                    "(scans of different env packages?)");
                                return -EINVAL;
                        }
                        single = t;
                } else {
                        *reterr = strdup("found a QR code that is not part of an env package "
                                            "(neither base32 nor an \"NN \" chunk)");
                        return -EINVAL;
                }
        }

        if (single && n_chunks > 0) {
                *reterr = strdup("found both a single unnumbered QR code and numbered chunks "
                                    "(scans of different env packages?)");
                return -EINVAL;
        }

        if (single) {
                b32 = strdup(single);
                if (!b32)
                        return -ENOMEM;
                *ret_b32 = TAKE_PTR(b32);
                return 0;
        }

        for (size_t i = 0; i <= max; i++) {
                if (chunk[i]) {
                        total += strlen(chunk[i]);
                        continue;
                }
                char *m;
                if (asprintf(&m, "%s%s%02zu", missing ?: "", missing ? ", " : "", i) < 0)
                        return -ENOMEM;
                free(missing);
                missing = m;
                missing_count++;
        }
        if (missing) {
                return reterr_printf(reterr, -ENODATA,
                                     "QR chunk%s %s missing (found %zu chunk%s, highest %02zu)",
                                     missing_count > 1 ? "s" : "", missing, n_chunks, n_chunks > 1 ? "s" : "",
                                     max);
        }

        for (size_t i = 0; i < max; i++)
                if (strlen(chunk[i]) != QR_CHUNK_CHARS) {
                        return reterr_printf(reterr, -EINVAL,
                                             "QR chunk %02zu holds %zu characters, expected %u", i,
                                             strlen(chunk[i]), QR_CHUNK_CHARS);
                }

        b32 = malloc(total + 1);
        if (!b32)
                return -ENOMEM;
        b32[0] = 0;
        for (size_t i = 0, off = 0; i <= max; i++) {
                size_t l = strlen(chunk[i]);
                memcpy(b32 + off, chunk[i], l + 1);
                off += l;
        }

        *ret_b32 = TAKE_PTR(b32);
        return 0;
}

int qr_texts_from_data(const void *data, size_t len, char ***ret_texts) {
        _cleanup_free_ void *gz = NULL;
        _cleanup_free_ char *b32 = NULL;
        size_t gz_size;
        int r;

        r = gzip_compress(data, len, &gz, &gz_size);
        if (r < 0)
                return r;
        b32 = base32_encode(gz, gz_size);
        if (!b32)
                return -ENOMEM;
        return qr_payload_split(b32, ret_texts);
}

int qr_texts_to_data(char *const *texts, size_t n, void **ret, size_t *ret_size, char **reterr) {
        _cleanup_free_ char *b32 = NULL;
        _cleanup_free_ void *gz = NULL;
        size_t gz_size;
        int r;

        r = qr_payload_join(texts, n, &b32, reterr);
        if (r < 0)
                return r;

        r = base32_decode(b32, strlen(b32), &gz, &gz_size);
        if (r < 0) {
                *reterr = strdup("the QR payload is not valid base32 (a chunk may be missing or damaged)");
                return r;
        }

        r = gzip_decompress(gz, gz_size, QR_MAX_PLAIN_SIZE, ret, ret_size);
        if (r == -EPIPE) {
                int max = -1;

                for (size_t i = 0; i < n; i++)
                        if (text_is_chunk(texts[i]))
                                max = MAX(max, (texts[i][0] - '0') * 10 + (texts[i][1] - '0'));
                if (max >= 0)
                        (void) asprintf(reterr, "the QR payload ends early: chunk %02d and later are missing",
                                        max + 1);
                else
                        *reterr = strdup("the QR payload ends early (damaged code?)");
                return -ENODATA;
        }
        if (r < 0) {
                *reterr = strdup(r == -EFBIG ? "the restored env would be larger than 16 MiB"
                                                : "the QR payload is not valid gzip data (damaged scan?)");
                return r;
        }
        return 0;
}
