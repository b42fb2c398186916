/**
 * Reading QR codes back from scans: image loading (libpng, binary PNM) and decoding with libzbar.
 * The only file that includes <zbar.h> and <png.h>.
 */
#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zbar.h>

#include "chase.h"
#include "dlopen-util.h"
#include "cleanup.h"
#include "env/qr.h"
#include "fileio.h"
#include "macro.h"
#include "reterr.h"
#include "strv.h"

#define PNG_SYMBOLS(X) \
        X(png_image_begin_read_from_memory) X(png_image_finish_read) X(png_image_free)
PNG_SYMBOLS(DLSYM_DECLARE)

#define ZBAR_SYMBOLS(X) \
        X(zbar_image_create) X(zbar_image_destroy) X(zbar_image_first_symbol) \
        X(zbar_image_scanner_create) X(zbar_image_scanner_destroy) X(zbar_image_scanner_set_config) \
        X(zbar_image_set_data) X(zbar_image_set_format) X(zbar_image_set_size) X(zbar_scan_image) \
        X(zbar_symbol_get_data) X(zbar_symbol_get_data_length) X(zbar_symbol_get_type) \
        X(zbar_symbol_next)
ZBAR_SYMBOLS(DLSYM_DECLARE)

/* zbar and libpng are loaded on first use: only 'env unpack-qr' needs them. */
static void *zbar_dl = NULL, *png_dl = NULL;

int qr_scan_dlopen(char **reterr) {
        int r = dlopen_symbols(&zbar_dl, "libzbar.so.0", "libzbar0", reterr, ZBAR_SYMBOLS(DLSYM_ARG) NULL);
        if (r < 0)
                return r;
        return dlopen_symbols(&png_dl, "libpng16.so.16", "libpng16-16", reterr, PNG_SYMBOLS(DLSYM_ARG) NULL);
}

/* An A4 page scanned at 1200 dpi has 139 million pixels; the limits cap memory use. */
#define SCAN_MAX_SIDE 30000U
#define SCAN_MAX_PIXELS (160UL * 1000UL * 1000UL)
#define SCAN_MAX_FILE (512U * 1024U * 1024U)

int qr_scan_gray(const uint8_t *pixels, unsigned width, unsigned height, char ***texts) {
        zbar_image_scanner_t *scanner;
        zbar_image_t *image;
        int n, found = 0, r;

        r = qr_scan_dlopen(NULL);
        if (r < 0)
                return r;
        scanner = sym_zbar_image_scanner_create();
        if (!scanner)
                return -ENOMEM;
        image = sym_zbar_image_create();
        if (!image) {
                sym_zbar_image_scanner_destroy(scanner);
                return -ENOMEM;
        }

        /* QR only: the other symbologies would only add false positives and time. */
        (void) sym_zbar_image_scanner_set_config(scanner, 0, ZBAR_CFG_ENABLE, 0);
        (void) sym_zbar_image_scanner_set_config(scanner, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);

        sym_zbar_image_set_format(image, zbar_fourcc('Y', '8', '0', '0'));
        sym_zbar_image_set_size(image, width, height);
        sym_zbar_image_set_data(image, pixels, (unsigned long) width * height, NULL);

        n = sym_zbar_scan_image(scanner, image);
        if (n < 0)
                r = -EIO;
        else
                for (const zbar_symbol_t *s = sym_zbar_image_first_symbol(image); s; s = sym_zbar_symbol_next(s)) {
                        const char *d = sym_zbar_symbol_get_data(s);
                        unsigned l = sym_zbar_symbol_get_data_length(s);
                        char *t;

                        if (sym_zbar_symbol_get_type(s) != ZBAR_QRCODE || !d)
                                continue;
                        t = strndup(d, l);
                        if (!t) {
                                r = -ENOMEM;
                                break;
                        }
                        /* zbar may end a symbol's text with a newline; the payload never has one. */
                        t[strcspn(t, "\r\n")] = 0;
                        r = strv_consume(texts, t);
                        if (r < 0)
                                break;
                        found++;
                }

        sym_zbar_image_destroy(image);
        sym_zbar_image_scanner_destroy(scanner);
        return r < 0 ? r : found;
}

static int load_png(const void *data, size_t size, uint8_t **ret, unsigned *ret_w, unsigned *ret_h, char **reterr) {
        png_image img = { .version = PNG_IMAGE_VERSION };
        _cleanup_free_ uint8_t *buf = NULL;

        if (!sym_png_image_begin_read_from_memory(&img, data, size)) {
                (void) asprintf(reterr, "not a readable PNG image: %s", img.message);
                sym_png_image_free(&img);
                return -EBADMSG;
        }
        if (img.width == 0 || img.height == 0 || img.width > SCAN_MAX_SIDE || img.height > SCAN_MAX_SIDE ||
            (unsigned long) img.width * img.height > SCAN_MAX_PIXELS) {
                (void) asprintf(reterr, "unsupported image size %ux%u", img.width, img.height);
                sym_png_image_free(&img);
                return -EFBIG;
        }

        /* Grey, alpha composited over white: transparent areas count as paper. */
        img.format = PNG_FORMAT_GRAY;
        buf = malloc((size_t) img.width * img.height);
        if (!buf) {
                sym_png_image_free(&img);
                return -ENOMEM;
        }
        png_color white = { 255, 255, 255 };
        if (!sym_png_image_finish_read(&img, &white, buf, (png_int_32) img.width, NULL)) {
                (void) asprintf(reterr, "failed to decode PNG image: %s", img.message);
                sym_png_image_free(&img);
                return -EBADMSG;
        }

        *ret_w = img.width;
        *ret_h = img.height;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* Reads the next header number of a PNM file, skipping white space and comments. */
static int pnm_number(const uint8_t **p, const uint8_t *end, unsigned *ret) {
        unsigned long v = 0;
        bool any = false;

        for (;;) {
                while (*p < end && strchr(" \t\r\n", **p))
                        (*p)++;
                if (*p < end && **p == '#') {
                        while (*p < end && **p != '\n')
                                (*p)++;
                        continue;
                }
                break;
        }
        while (*p < end && **p >= '0' && **p <= '9') {
                v = v * 10 + (unsigned long) (**p - '0');
                if (v > 1000000)
                        return -EINVAL;
                (*p)++;
                any = true;
        }
        if (!any)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

static int load_pnm(const uint8_t *data, size_t size, uint8_t **ret, unsigned *ret_w, unsigned *ret_h,
                    char **reterr) {
        const uint8_t *p = data + 2, *end = data + size;
        _cleanup_free_ uint8_t *buf = NULL;
        unsigned w, h, maxval = 1, channels, bps;
        char kind = (char) data[1];
        size_t need;

        if (pnm_number(&p, end, &w) < 0 || pnm_number(&p, end, &h) < 0 ||
            (kind != '4' && pnm_number(&p, end, &maxval) < 0) || p >= end) {
                *reterr = strdup("damaged PNM header");
                return -EBADMSG;
        }
        p++; /* the single white space character before the raster */
        if (w == 0 || h == 0 || w > SCAN_MAX_SIDE || h > SCAN_MAX_SIDE ||
            (unsigned long) w * h > SCAN_MAX_PIXELS || maxval == 0 || maxval > 65535) {
                return reterr_printf(reterr, -EFBIG, "unsupported PNM image %ux%u, maxval %u", w, h, maxval);
        }

        channels = kind == '6' ? 3 : 1;
        bps = maxval > 255 ? 2 : 1;
        need = kind == '4' ? (size_t) DIV_ROUND_UP(w, 8) * h : (size_t) w * h * channels * bps;
        if ((size_t) (end - p) < need) {
                *reterr = strdup("PNM image data is truncated");
                return -EBADMSG;
        }

        buf = malloc((size_t) w * h);
        if (!buf)
                return -ENOMEM;

        for (size_t y = 0; y < h; y++)
                for (size_t x = 0; x < w; x++) {
                        unsigned v;

                        if (kind == '4') {
                                const uint8_t *row = p + y * DIV_ROUND_UP(w, 8);
                                v = (row[x / 8] >> (7 - x % 8)) & 1 ? 0 : 255; /* 1 = black */
                        } else {
                                const uint8_t *px = p + (y * w + x) * channels * bps;
                                unsigned sum = 0;

                                for (unsigned c = 0; c < channels; c++)
                                        sum += bps == 2 ? (unsigned) px[c * 2] << 8 | px[c * 2 + 1] : px[c];
                                v = (unsigned) ((unsigned long) sum * 255 / (channels * maxval));
                        }
                        buf[y * w + x] = (uint8_t) MIN(v, 255U);
                }

        *ret_w = w;
        *ret_h = h;
        *ret = TAKE_PTR(buf);
        return 0;
}

int qr_scan_file(const char *path, char ***texts, char **reterr) {
        _cleanup_free_ char *data = NULL;
        _cleanup_free_ uint8_t *pixels = NULL;
        unsigned w = 0, h = 0;
        size_t size;
        int r;

        r = qr_scan_dlopen(reterr);
        if (r < 0)
                return r;
        r = read_input(AT_FDCWD, path, INPUT_FOLLOW, SCAN_MAX_FILE, &data, &size);
        if (r < 0)
                return reterr_printf(reterr, r, "cannot read: %s", input_strerror(r));

        if (size >= 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0)
                r = load_png(data, size, &pixels, &w, &h, reterr);
        else if (size >= 3 && data[0] == 'P' && strchr("456", data[1]) && data[1])
                r = load_pnm((const uint8_t *) data, size, &pixels, &w, &h, reterr);
        else {
                *reterr = strdup("unsupported image format (PNG, PBM, PGM or PPM expected; convert a PDF "
                                    "with 'pdftoppm -r 200 -png')");
                return -EMEDIUMTYPE;
        }
        if (r < 0)
                return r;

        return qr_scan_gray(pixels, w, h, texts);
}
