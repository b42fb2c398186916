/**
 * The printable env document, drawn with cairo into an in-memory PDF (see env-pdf.h). The only
 * file that includes cairo headers.
 */
#include <cairo-pdf.h>
#include <cairo.h>
#include <errno.h>
#include <fontconfig/fontconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "dlopen-util.h"
#include "env/pdf.h"
#include "env/qr.h"
#include "macro.h"
#include "reterr.h"
#include "strv.h"

#define CAIRO_SYMBOLS(X) \
        X(cairo_create) X(cairo_debug_reset_static_data) X(cairo_destroy) X(cairo_fill) \
        X(cairo_font_extents) X(cairo_image_surface_create) X(cairo_image_surface_get_data) \
        X(cairo_image_surface_get_stride) X(cairo_line_to) X(cairo_mask_surface) X(cairo_move_to) \
        X(cairo_pdf_surface_create_for_stream) X(cairo_pdf_surface_set_metadata) X(cairo_rectangle) \
        X(cairo_restore) X(cairo_save) X(cairo_scale) X(cairo_select_font_face) X(cairo_set_font_size) \
        X(cairo_set_line_width) X(cairo_set_source_rgb) X(cairo_show_page) X(cairo_show_text) \
        X(cairo_status) X(cairo_status_to_string) X(cairo_stroke) X(cairo_surface_destroy) \
        X(cairo_surface_finish) X(cairo_surface_flush) X(cairo_surface_mark_dirty) \
        X(cairo_surface_status) X(cairo_text_extents) X(cairo_translate)
CAIRO_SYMBOLS(DLSYM_DECLARE)

#define FONTCONFIG_SYMBOLS(X) \
        X(FcFini)
FONTCONFIG_SYMBOLS(DLSYM_DECLARE)

/* cairo and fontconfig are loaded on first use: only 'env package' needs them. */
static void *cairo_dl = NULL, *fontconfig_dl = NULL;

int env_pdf_dlopen(char **reterr) {
        int r = dlopen_symbols(&cairo_dl, "libcairo.so.2", "libcairo2", reterr, CAIRO_SYMBOLS(DLSYM_ARG) NULL);
        if (r < 0)
                return r;
        r = dlopen_symbols(&fontconfig_dl, "libfontconfig.so.1", "libfontconfig1", reterr,
                           FONTCONFIG_SYMBOLS(DLSYM_ARG) NULL);
        if (r < 0)
                return r;
        return qr_encode_dlopen(reterr);
}

/* A4 in PostScript points. */
#define PAGE_W 595.2756
#define PAGE_H 841.8898
#define MARGIN 42.0
#define HEADER_H 28.0
#define FONT_MONO "DejaVu Sans Mono"
#define FONT_SANS "DejaVu Sans"
#define TEXT_SIZE 7.5
#define TEXT_LEAD 9.2
/* Width of the line number column, in characters ("12345  "). */
#define NUM_COLS 7
#define QR_QUIET 4 /* modules of white border, as the standard requires */

typedef struct Buffer {
        uint8_t *data;
        size_t size, cap;
        bool oom;
} Buffer;

static cairo_status_t buffer_write(void *closure, const unsigned char *data, unsigned length) {
        Buffer *b = closure;

        if (b->size + length > b->cap) {
                size_t cap = MAX(b->cap * 2, b->size + length + 65536);
                uint8_t *p = realloc(b->data, cap);
                if (!p) {
                        b->oom = true;
                        return CAIRO_STATUS_WRITE_ERROR;
                }
                b->data = p;
                b->cap = cap;
        }
        memcpy(b->data + b->size, data, length);
        b->size += length;
        return CAIRO_STATUS_SUCCESS;
}

/* Decodes one UTF-8 sequence; returns its length, or 0 if invalid (overlong, surrogate, ...). */
static size_t utf8_sequence(const uint8_t *s, size_t left) {
        size_t n;
        uint32_t c;

        if (s[0] < 0x80)
                return 1;
        if ((s[0] & 0xe0) == 0xc0)
                n = 2, c = s[0] & 0x1f;
        else if ((s[0] & 0xf0) == 0xe0)
                n = 3, c = s[0] & 0x0f;
        else if ((s[0] & 0xf8) == 0xf0)
                n = 4, c = s[0] & 0x07;
        else
                return 0;
        if (n > left)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = c << 6 | (s[i] & 0x3f);
        }
        if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10ffff ||
            (c >= 0xd800 && c <= 0xdfff))
                return 0;
        return n;
}

int env_pdf_text_rows(const char *text, size_t size, size_t cols, char ***ret) {
        _cleanup_strv_free_ char **rows = NULL;
        size_t n_rows = 0, cap = 0;
        const uint8_t *p = (const uint8_t *) text, *end = p + size;
        size_t line_no = 0;

        while (p < end) {
                /* One source line. */
                const uint8_t *eol = memchr(p, '\n', (size_t) (end - p));
                if (!eol)
                        eol = end;
                line_no++;

                bool first = true;
                do {
                        _cleanup_free_ char *row = malloc(NUM_COLS + cols * 4 + 1);
                        size_t o, c = 0;

                        if (!row)
                                return -ENOMEM;
                        if (first)
                                o = (size_t) snprintf(row, NUM_COLS + 1, "%5zu  ", line_no % 100000); /* 5 digits */
                        else
                                o = (size_t) snprintf(row, NUM_COLS + 1, "    +  ");

                        while (p < eol && c < cols) {
                                size_t n = utf8_sequence(p, (size_t) (eol - p));

                                if (*p == '\t') {
                                        /* expand to the next multiple of 8 within the row */
                                        do
                                                row[o++] = ' ';
                                        while (++c % 8 != 0 && c < cols);
                                        p++;
                                } else if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
                                        row[o++] = '?';
                                        c++;
                                        p += n == 0 ? 1 : n;
                                } else {
                                        memcpy(row + o, p, n);
                                        o += n;
                                        c++;
                                        p += n;
                                }
                        }
                        row[o] = 0;
                        /* grow by doubling: one row per line of a large file */
                        if (n_rows + 2 > cap) {
                                size_t new_cap = MAX(cap * 2, (size_t) 64);
                                char **grown = reallocarray(rows, new_cap, sizeof(char *));
                                if (!grown)
                                        return -ENOMEM;
                                rows = grown;
                                cap = new_cap;
                        }
                        rows[n_rows++] = TAKE_PTR(row);
                        rows[n_rows] = NULL;
                        first = false;
                } while (p < eol);

                p = eol + 1;
        }

        *ret = TAKE_PTR(rows);
        return 0;
}

static void draw_header(cairo_t *cr, const char *title, unsigned page, unsigned pages) {
        char buf[64];
        cairo_text_extents_t ext;

        sym_cairo_set_source_rgb(cr, 0, 0, 0);
        sym_cairo_select_font_face(cr, FONT_SANS, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
        sym_cairo_set_font_size(cr, 10);
        sym_cairo_move_to(cr, MARGIN, MARGIN);
        sym_cairo_show_text(cr, title);

        (void) snprintf(buf, sizeof buf, "page %u of %u", page, pages);
        sym_cairo_select_font_face(cr, FONT_SANS, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
        sym_cairo_text_extents(cr, buf, &ext);
        sym_cairo_move_to(cr, PAGE_W - MARGIN - ext.x_advance, MARGIN);
        sym_cairo_show_text(cr, buf);

        sym_cairo_set_line_width(cr, 0.5);
        sym_cairo_move_to(cr, MARGIN, MARGIN + 6);
        sym_cairo_line_to(cr, PAGE_W - MARGIN, MARGIN + 6);
        sym_cairo_stroke(cr);
}

/* Draws a QR code as a 1-bit image with PX_PER_MODULE pixels per module. Renderers scale it down
 * with averaging, which keeps module edges where they belong; one pixel per module, scaled up, comes
 * out with uneven modules that zbar fails to read at 150 dpi. (x, y) is the top-left corner of the
 * quiet zone; size includes it. */
#define PX_PER_MODULE 8
static int draw_qr(cairo_t *cr, const QrMatrix *m, double x, double y, double size) {
        unsigned side = (m->width + 2 * QR_QUIET) * PX_PER_MODULE;
        cairo_surface_t *img = sym_cairo_image_surface_create(CAIRO_FORMAT_A1, (int) side, (int) side);
        int stride;
        uint8_t *px;

        if (sym_cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
                sym_cairo_surface_destroy(img);
                return -ENOMEM;
        }
        sym_cairo_surface_flush(img);
        stride = sym_cairo_image_surface_get_stride(img);
        px = sym_cairo_image_surface_get_data(img);
        memset(px, 0, (size_t) stride * side);
        for (unsigned yy = 0; yy < side; yy++) {
                uint32_t *row = (uint32_t *) (px + (size_t) yy * (size_t) stride);
                unsigned my = yy / PX_PER_MODULE;
                for (unsigned xx = 0; xx < side; xx++) {
                        unsigned mx = xx / PX_PER_MODULE;
                        bool dark = mx >= QR_QUIET && my >= QR_QUIET && mx < QR_QUIET + m->width &&
                                    my < QR_QUIET + m->width &&
                                    m->modules[(my - QR_QUIET) * m->width + (mx - QR_QUIET)];
                        if (!dark)
                                continue;
                        /* A1 packs pixels into native-endian 32-bit words, the first pixel in the
                         * least significant bit on little-endian machines, the most on big-endian. */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
                        row[xx / 32] |= UINT32_C(0x80000000) >> (xx % 32);
#else
                        row[xx / 32] |= UINT32_C(1) << (xx % 32);
#endif
                }
        }
        sym_cairo_surface_mark_dirty(img);

        sym_cairo_save(cr);
        sym_cairo_set_source_rgb(cr, 1, 1, 1);
        sym_cairo_rectangle(cr, x, y, size, size);
        sym_cairo_fill(cr);
        sym_cairo_translate(cr, x, y);
        sym_cairo_scale(cr, size / side, size / side);
        sym_cairo_set_source_rgb(cr, 0, 0, 0);
        sym_cairo_mask_surface(cr, img, 0, 0);
        sym_cairo_restore(cr);
        sym_cairo_surface_destroy(img);
        return 0;
}

static void draw_lines(cairo_t *cr, const char *font, double size, double lead, double x, double y,
                       const char *const *lines) {
        sym_cairo_select_font_face(cr, font, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
        sym_cairo_set_font_size(cr, size);
        for (const char *const *l = lines; *l; l++) {
                sym_cairo_move_to(cr, x, y);
                sym_cairo_show_text(cr, *l);
                y += lead;
        }
}

static int render(cairo_t *cr, const EnvPdfInput *in, char **reterr) {
        _cleanup_strv_free_ char **rows = NULL;
        cairo_font_extents_t fe;
        cairo_text_extents_t te;
        size_t n_qr = strv_length(in->qr_texts), cols, rows_per_page, n_rows;
        unsigned text_pages, qr_pages, pages, page = 0;
        bool single = n_qr == 1;
        int r;

        sym_cairo_select_font_face(cr, FONT_MONO, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
        sym_cairo_set_font_size(cr, TEXT_SIZE);
        sym_cairo_font_extents(cr, &fe);
        sym_cairo_text_extents(cr, "0", &te);
        if (te.x_advance <= 0) {
                *reterr = strdup("the monospace font has no usable glyph metrics");
                return -EINVAL;
        }
        cols = (size_t) ((PAGE_W - 2 * MARGIN) / te.x_advance) - NUM_COLS;
        rows_per_page = (size_t) ((PAGE_H - 2 * MARGIN - HEADER_H) / TEXT_LEAD);

        r = env_pdf_text_rows(in->text, in->text_size, cols, &rows);
        if (r < 0)
                return r;
        n_rows = strv_length(rows);

        text_pages = (unsigned) MAX((size_t) 1, DIV_ROUND_UP(n_rows, rows_per_page));
        qr_pages = single ? 1 : (unsigned) DIV_ROUND_UP(n_qr, 4);
        pages = text_pages + qr_pages + 1;

        /* 1. The text. */
        for (unsigned p = 0; p < text_pages; p++) {
                size_t first = p * rows_per_page, k = MIN(rows_per_page, n_rows - MIN(first, n_rows));
                _cleanup_free_ char **slice = calloc(k + 1, sizeof(char *));

                if (!slice)
                        return -ENOMEM;
                memcpy(slice, rows + first, k * sizeof(char *));
                draw_header(cr, in->title, ++page, pages);
                draw_lines(cr, FONT_MONO, TEXT_SIZE, TEXT_LEAD, MARGIN, MARGIN + HEADER_H, (const char *const *) slice);
                sym_cairo_show_page(cr);
        }

        /* 2. The QR codes. */
        for (unsigned p = 0; p < qr_pages; p++) {
                char label[128];

                draw_header(cr, in->title, ++page, pages);
                for (unsigned i = 0; i < (single ? 1U : 4U); i++) {
                        size_t idx = (size_t) p * 4 + i;
                        _cleanup_(qr_matrix_freep) QrMatrix *m = NULL;
                        double size, x, y;

                        if (idx >= n_qr)
                                break;
                        r = qr_encode(in->qr_texts[idx], &m);
                        if (r < 0) {
                                return reterr_printf(reterr, r, "failed to encode QR code %zu: %s", idx,
                                                     strerror(-r));
                        }
                        if (single) {
                                size = PAGE_W - 2 * MARGIN;
                                x = MARGIN;
                                y = MARGIN + HEADER_H;
                                (void) snprintf(label, sizeof label, "%s, gzip -9 | base32: single QR code",
                                                in->file_name);
                        } else {
                                double cell_h = (PAGE_H - 2 * MARGIN - HEADER_H) / 2;
                                size = (PAGE_W - 2 * MARGIN - 12) / 2;
                                x = MARGIN + (i % 2) * (size + 12);
                                y = MARGIN + HEADER_H + (i / 2) * cell_h;
                                (void) snprintf(label, sizeof label, "chunk %02zu (of 00-%02zu)", idx, n_qr - 1);
                        }
                        r = draw_qr(cr, m, x, y, size);
                        if (r < 0)
                                return r;
                        sym_cairo_select_font_face(cr, FONT_SANS, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
                        sym_cairo_set_font_size(cr, 11);
                        sym_cairo_text_extents(cr, label, &te);
                        sym_cairo_move_to(cr, x + (size - te.x_advance) / 2, y + size + 14);
                        sym_cairo_show_text(cr, label);
                }
                sym_cairo_show_page(cr);
        }

        /* 3. How to restore. */
        {
                _cleanup_free_ char *l_sum = NULL, *l_codes = NULL, *l_cmd = NULL, *l_tool = NULL;
                if (asprintf(&l_codes, "QR codes: %zu%s", n_qr,
                             single ? " (one code without a chunk number)"
                                    : " (each starts with its two-digit chunk number 00, 01, ... and a space)") < 0 ||
                    asprintf(&l_sum, "sha256 of %s: %s", in->file_name, in->sha256_hex) < 0 ||
                    asprintf(&l_tool, "   appliance-builder env unpack-qr -o %s scan-*.png", in->file_name) < 0 ||
                    asprintf(&l_cmd, "     | sort -n | cut -f2 -d' ' | tr -d '\\n' | base32 -d | gunzip > %s",
                             in->file_name) < 0)
                        return -ENOMEM;

                const char *lines[] = {
                        "Restoring the env file from this printout",
                        "",
                        l_codes,
                        "Payload: the file compressed with gzip -9, then base32 (RFC 4648) encoded.",
                        l_sum,
                        "",
                        "1. Scan the QR code pages (200-300 dpi) into PNG files, or convert this PDF:",
                        "   pdftoppm -r 200 -png env.yml.pdf scan",
                        "2. Decode the codes (in any order) and restore the file:",
                        l_tool,
                        "   or, with zbar-tools and coreutils only:",
                        "   zbarimg --raw -q -S'*.enable=0' -Sqrcode.enable=1 scan-*.png \\",
                        l_cmd,
                        "3. Check the result with sha256sum and compare with the value above.",
                        NULL,
                };

                draw_header(cr, in->title, ++page, pages);
                draw_lines(cr, FONT_MONO, 9, 13, MARGIN, MARGIN + HEADER_H, lines);
                sym_cairo_show_page(cr);
        }

        return 0;
}

int env_pdf_render(const EnvPdfInput *in, void **ret, size_t *ret_size, char **reterr) {
        Buffer b = {};
        cairo_surface_t *s;
        cairo_t *cr;
        cairo_status_t st;
        int r;

        r = env_pdf_dlopen(reterr);
        if (r < 0)
                return r;
        s = sym_cairo_pdf_surface_create_for_stream(buffer_write, &b, PAGE_W, PAGE_H);
        sym_cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, in->title);
        sym_cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "appliance-builder env package");
        if (in->creation != (time_t) -1) {
                /* A fixed date (SOURCE_DATE_EPOCH) makes the PDF, and the ISO holding it, reproducible. */
                struct tm tm;
                char date[32];

                if (gmtime_r(&in->creation, &tm) && strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0) {
                        sym_cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE, date);
                        sym_cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_MOD_DATE, date);
                }
        }
        cr = sym_cairo_create(s);

        r = render(cr, in, reterr);
        st = sym_cairo_status(cr);
        sym_cairo_destroy(cr);
        sym_cairo_surface_finish(s);
        if (st == CAIRO_STATUS_SUCCESS)
                st = sym_cairo_surface_status(s);
        sym_cairo_surface_destroy(s);
        /* The PDF is made once per run: release cairo's and fontconfig's caches instead of keeping
         * them until exit (fontconfig initialises itself again if it is needed later). */
        sym_cairo_debug_reset_static_data();
        sym_FcFini();

        if (r >= 0 && (st != CAIRO_STATUS_SUCCESS || b.oom)) {
                r = b.oom || st == CAIRO_STATUS_NO_MEMORY ? -ENOMEM : -EIO;
                if (!*reterr)
                        (void) asprintf(reterr, "cairo failed to render the PDF: %s",
                                        sym_cairo_status_to_string(st));
        }
        if (r < 0) {
                free(b.data);
                return r;
        }

        *ret = b.data;
        *ret_size = b.size;
        return 0;
}
