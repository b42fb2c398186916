/**
 * Unit tests of the env package pieces: base32, gzip, QR chunking and reassembly, QR encoding
 * read back with zbar (from memory, PNG and PGM files), the PDF renderer and the tar.gz bundle.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <cairo.h>
#include <math.h>
#include <archive_entry.h>
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "env/bundle.h"
#include "env/gpg.h"
#include "env/pdf.h"
#include "env/qr.h"
#include "lib/gzip.h"
#include "fileio.h"
#include "strv.h"

static char tmpdir[] = "/tmp/test-env-package.XXXXXX";

/* Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
static void fill_random(uint8_t *p, size_t n, uint32_t seed) {
        uint32_t x = seed ?: 1;
        for (size_t i = 0; i < n; i++) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                p[i] = (uint8_t) x;
        }
}

static void test_base32_vectors(void **state) {
        /* RFC 4648 section 10. */
        static const struct {
                const char *in, *out;
        } rows[] = {
                { "", "" },
                { "f", "MY======" },
                { "fo", "MZXQ====" },
                { "foo", "MZXW6===" },
                { "foob", "MZXW6YQ=" },
                { "fooba", "MZXW6YTB" },
                { "foobar", "MZXW6YTBOI======" },
        };

        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                _cleanup_free_ char *e = base32_encode(rows[i].in, strlen(rows[i].in));
                _cleanup_free_ void *d = NULL;
                size_t n;

                assert_non_null(e);
                if (strcmp(e, rows[i].out) != 0)
                        fail_msg("row %zu: encoded '%s', expected '%s'", i, e, rows[i].out);
                assert_int_equal(base32_decode(e, strlen(e), &d, &n), 0);
                assert_int_equal(n, strlen(rows[i].in));
                assert_memory_equal(d, rows[i].in, n);
        }
}

static void test_base32_invalid(void **state) {
        static const char *const bad[] = {
                "MY=====",           /* not a multiple of 8 */
                "my======",          /* lower case */
                "M=======",          /* one data character cannot make a byte */
                "MZX=====",          /* three data characters neither */
                "MY=A====",          /* data after padding */
                "MY======MZXW6YTB",  /* padding before the last group */
                "MZXW6YT1",          /* '1' is not in the alphabet */
                "MZXW 6YT",          /* no white space */
        };

        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                _cleanup_free_ void *d = NULL;
                size_t n;
                int r = base32_decode(bad[i], strlen(bad[i]), &d, &n);
                if (r != -EINVAL)
                        fail_msg("'%s' gave %d, expected -EINVAL", bad[i], r);
        }
}

static void test_base32_roundtrip_random(void **state) {
        for (size_t len = 0; len < 300; len += 7) {
                uint8_t buf[300];
                _cleanup_free_ char *e = NULL;
                _cleanup_free_ void *d = NULL;
                size_t n;

                fill_random(buf, len, (uint32_t) len + 11);
                e = base32_encode(buf, len);
                assert_non_null(e);
                assert_int_equal(strlen(e) % 8, 0);
                assert_int_equal(base32_decode(e, strlen(e), &d, &n), 0);
                assert_int_equal(n, len);
                assert_memory_equal(d, buf, len);
        }
}

static void test_gzip(void **state) {
        static const char text[] = "#cloud-config\nappliance:\n  domain: example.org\n";
        _cleanup_free_ void *gz = NULL, *plain = NULL, *broken = NULL;
        size_t gz_size, n;
        uint8_t *b;

        assert_int_equal(gzip_compress(text, strlen(text), &gz, &gz_size), 0);
        b = gz;
        assert_int_equal(b[0], 0x1f);
        assert_int_equal(b[1], 0x8b);
        assert_int_equal(b[2], 8);  /* deflate */
        assert_int_equal(b[8], 2);  /* XFL: maximum compression, as gzip -9 */

        assert_int_equal(gzip_decompress(gz, gz_size, 1 << 20, &plain, &n), 0);
        assert_int_equal(n, strlen(text));
        assert_memory_equal(plain, text, n);
        free(plain);
        plain = NULL;

        /* truncated (the CRC trailer and some data missing) */
        assert_int_equal(gzip_decompress(gz, gz_size - 10, 1 << 20, &plain, &n), -EPIPE);

        /* a flipped bit in the deflate data or the CRC */
        broken = malloc(gz_size);
        memcpy(broken, gz, gz_size);
        ((uint8_t *) broken)[gz_size - 6] ^= 0x40;
        assert_int_equal(gzip_decompress(broken, gz_size, 1 << 20, &plain, &n), -EBADMSG);

        /* larger than allowed */
        assert_int_equal(gzip_decompress(gz, gz_size, 10, &plain, &n), -EFBIG);

        /* not gzip at all */
        assert_int_equal(gzip_decompress(text, strlen(text), 1 << 20, &plain, &n), -EBADMSG);
}

static void test_split_single(void **state) {
        _cleanup_strv_free_ char **l = NULL;
        uint8_t buf[1000];

        fill_random(buf, sizeof buf, 5);
        assert_int_equal(qr_texts_from_data(buf, sizeof buf, &l), 1);
        assert_int_equal(strv_length(l), 1);
        assert_null(strchr(l[0], ' ')); /* no chunk prefix */
}

static void test_split_chunks_and_join(void **state) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ uint8_t *buf = malloc(20000);
        _cleanup_free_ void *back = NULL;
        _cleanup_free_ char *err = NULL;
        size_t n, size;
        int count;

        /* incompressible: 20000 bytes -> about 32000 base32 characters -> 16 chunks */
        fill_random(buf, 20000, 7);
        count = qr_texts_from_data(buf, 20000, &l);
        assert_int_equal(count, 16);
        n = strv_length(l);
        assert_int_equal(n, 16);
        for (size_t i = 0; i < n; i++) {
                char prefix[24];
                snprintf(prefix, sizeof prefix, "%02zu ", i);
                assert_memory_equal(l[i], prefix, 3);
                if (i + 1 < n)
                        assert_int_equal(strlen(l[i]), 3 + QR_CHUNK_CHARS);
                else
                        assert_true(strlen(l[i]) <= 3 + QR_CHUNK_CHARS);
        }

        /* any order, with a duplicate */
        char *shuffled[17];
        for (size_t i = 0; i < n; i++)
                shuffled[i] = l[(i * 7 + 3) % n];
        shuffled[16] = l[4];
        assert_int_equal(qr_texts_to_data(shuffled, 17, &back, &size, &err), 0);
        assert_null(err);
        assert_int_equal(size, 20000);
        assert_memory_equal(back, buf, 20000);
}

static void test_join_missing(void **state) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ uint8_t *buf = malloc(20000);
        char *some[16];
        size_t k = 0;

        fill_random(buf, 20000, 9);
        assert_int_equal(qr_texts_from_data(buf, 20000, &l), 16);

        /* chunks 03 and 07 missing */
        for (size_t i = 0; i < 16; i++)
                if (i != 3 && i != 7)
                        some[k++] = l[i];
        {
                _cleanup_free_ void *d = NULL;
                _cleanup_free_ char *err = NULL;
                size_t size;

                assert_int_equal(qr_texts_to_data(some, k, &d, &size, &err), -ENODATA);
                assert_non_null(err);
                assert_non_null(strstr(err, "03, 07"));
        }

        /* the last chunks missing: chunks 00..13 present, 14 and 15 not */
        {
                _cleanup_free_ void *d = NULL;
                _cleanup_free_ char *err = NULL;
                size_t size;
                int r = qr_texts_to_data(l, 14, &d, &size, &err);

                assert_true(r < 0);
                assert_non_null(err);
                /* 14 x 2100 characters is whole base32 groups: the gzip stream shows the cut */
                assert_int_equal(r, -ENODATA);
                if (!strstr(err, "chunk 14 and later are missing"))
                        fail_msg("unexpected message: %s", err);
        }
}

static void test_join_inconsistent(void **state) {
        static const struct {
                const char *texts[3];
                size_t n;
                const char *needle;
        } rows[] = {
                { { "00 MZXW6YTB", "00 MZXW6YTC" }, 2, "chunk 00" },
                { { "MZXW6YTB", "00 MZXW6YTB" }, 2, "both" },
                { { "MZXW6YTB", "MZXW6YTC" }, 2, "more than one" },
                { { "hello world" }, 1, "not part of" },
                { { "05 hello" }, 1, "chunk 05" },
                { {}, 0, "no QR codes" },
        };

        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                _cleanup_free_ char *b32 = NULL, *err = NULL;
                int r = qr_payload_join((char *const *) rows[i].texts, rows[i].n, &b32, &err);

                if (r >= 0 || !err || !strstr(err, rows[i].needle))
                        fail_msg("row %zu: r=%d err='%s', expected '%s'", i, r, err ?: "(null)", rows[i].needle);
        }
}

static void test_too_large(void **state) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 140000; /* base32 of that (incompressible) needs 107 chunks */
        _cleanup_free_ uint8_t *buf = malloc(n);

        fill_random(buf, n, 3);
        assert_int_equal(qr_texts_from_data(buf, n, &l), -E2BIG);
        assert_null(l);
}

/* Renders a QR matrix at scale px per module with a quiet zone into an 8-bit grey buffer. */
static uint8_t *render_gray(const QrMatrix *m, unsigned scale, unsigned *ret_side) {
        unsigned side = (m->width + 8) * scale;
        uint8_t *p = malloc((size_t) side * side);

        assert_non_null(p);
        for (unsigned y = 0; y < side; y++)
                for (unsigned x = 0; x < side; x++) {
                        int mx = (int) (x / scale) - 4, my = (int) (y / scale) - 4;
                        bool dark = mx >= 0 && my >= 0 && mx < (int) m->width && my < (int) m->width &&
                                    m->modules[my * m->width + mx];
                        p[(size_t) y * side + x] = dark ? 0 : 255;
                }
        *ret_side = side;
        return p;
}

static void test_qr_encode_scan(void **state) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ uint8_t *buf = malloc(6000);

        fill_random(buf, 6000, 13);
        assert_int_equal(qr_texts_from_data(buf, 6000, &l), 5);

        STRV_FOREACH(t, l) {
                _cleanup_(qr_matrix_freep) QrMatrix *m = NULL;
                _cleanup_strv_free_ char **found = NULL;
                _cleanup_free_ uint8_t *px = NULL;
                unsigned side;

                assert_int_equal(qr_encode(*t, &m), 0);
                assert_true(m->version <= 40);
                px = render_gray(m, 3, &side);
                assert_int_equal(qr_scan_gray(px, side, side, &found), 1);
                assert_string_equal(found[0], *t);
        }

        /* The largest single code: a version 40 symbol. */
        {
                _cleanup_(qr_matrix_freep) QrMatrix *m = NULL;
                _cleanup_strv_free_ char **one = NULL, **found = NULL;
                _cleanup_free_ uint8_t *px = NULL;
                uint8_t data[2000];
                unsigned side;

                fill_random(data, sizeof data, 17);
                assert_int_equal(qr_texts_from_data(data, sizeof data, &one), 1);
                assert_int_equal(qr_encode(one[0], &m), 0);
                px = render_gray(m, 3, &side);
                assert_int_equal(qr_scan_gray(px, side, side, &found), 1);
                assert_string_equal(found[0], one[0]);
        }

        /* An empty image has no codes. */
        {
                _cleanup_strv_free_ char **found = NULL;
                uint8_t white[64 * 64];

                memset(white, 255, sizeof white);
                assert_int_equal(qr_scan_gray(white, 64, 64, &found), 0);
                assert_null(found);
        }
}

/* A code as a scanner sees it: turned by a few degrees, 3.3 pixels per module, antialiased edges,
 * grey paper and dark grey toner. */
static void test_qr_scan_rotated(void **state) {
        _cleanup_strv_free_ char **l = NULL, **found = NULL;
        _cleanup_free_ uint8_t *buf = malloc(6000), *grey = NULL;
        _cleanup_(qr_matrix_freep) QrMatrix *m = NULL;
        const int W = 700;
        cairo_surface_t *s;
        cairo_t *cr;

        fill_random(buf, 6000, 21);
        assert_int_equal(qr_texts_from_data(buf, 6000, &l), 5);
        assert_int_equal(qr_encode(l[2], &m), 0);

        s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, W);
        cr = cairo_create(s);
        cairo_set_source_rgb(cr, 0.92, 0.92, 0.9);
        cairo_paint(cr);
        cairo_translate(cr, W / 2.0, W / 2.0);
        cairo_rotate(cr, 4.0 * M_PI / 180.0);
        cairo_scale(cr, 3.3, 3.3);
        cairo_translate(cr, -(m->width / 2.0), -(m->width / 2.0));
        cairo_set_source_rgb(cr, 0.15, 0.15, 0.17);
        for (unsigned y = 0; y < m->width; y++)
                for (unsigned x = 0; x < m->width; x++)
                        if (m->modules[y * m->width + x])
                                cairo_rectangle(cr, x, y, 1, 1);
        cairo_fill(cr);
        cairo_destroy(cr);
        cairo_surface_flush(s);

        grey = malloc((size_t) W * W);
        assert_non_null(grey);
        for (int y = 0; y < W; y++) {
                const uint32_t *row = (const uint32_t *) (cairo_image_surface_get_data(s) +
                                                          (size_t) y * (size_t) cairo_image_surface_get_stride(s));
                for (int x = 0; x < W; x++)
                        grey[(size_t) y * W + x] = (uint8_t) ((row[x] >> 8) & 0xff); /* green channel */
        }
        cairo_surface_destroy(s);

        assert_int_equal(qr_scan_gray(grey, (unsigned) W, (unsigned) W, &found), 1);
        assert_string_equal(found[0], l[2]);
}

static void test_qr_scan_files(void **state) {
        static const char text[] = "07 MZXW6YTBOI======";
        _cleanup_(qr_matrix_freep) QrMatrix *m = NULL;
        _cleanup_free_ uint8_t *px = NULL;
        _cleanup_free_ char *png = NULL, *pgm = NULL, *txt = NULL;
        unsigned side;

        assert_int_equal(qr_encode(text, &m), 0);
        px = render_gray(m, 4, &side);

        assert_true(asprintf(&png, "%s/code.png", tmpdir) > 0);
        assert_true(asprintf(&pgm, "%s/code.pgm", tmpdir) > 0);
        assert_true(asprintf(&txt, "%s/code.txt", tmpdir) > 0);

        /* PNG through libpng's writer */
        png_image img = { .version = PNG_IMAGE_VERSION, .width = side, .height = side, .format = PNG_FORMAT_GRAY };
        assert_true(png_image_write_to_file(&img, png, 0, px, (png_int_32) side, NULL));

        /* PGM by hand, with a comment in the header */
        {
                _cleanup_fclose_ FILE *f = fopen(pgm, "we");
                assert_non_null(f);
                fprintf(f, "P5\n# scan\n%u %u\n255\n", side, side);
                assert_int_equal(fwrite(px, 1, (size_t) side * side, f), (size_t) side * side);
        }
        assert_int_equal(write_file_atomic(txt, "hello", 5, 0644), 0);

        /* PBM (1 = black, rows padded to whole bytes) and 16-bit PPM */
        _cleanup_free_ char *pbm = NULL, *ppm = NULL;
        assert_true(asprintf(&pbm, "%s/code.pbm", tmpdir) > 0);
        assert_true(asprintf(&ppm, "%s/code.ppm", tmpdir) > 0);
        {
                _cleanup_fclose_ FILE *f = fopen(pbm, "we"), *g = fopen(ppm, "we");
                assert_non_null(f);
                assert_non_null(g);
                fprintf(f, "P4 %u %u\n", side, side);
                fprintf(g, "P6\n%u %u\n65535\n", side, side);
                for (unsigned y = 0; y < side; y++) {
                        for (unsigned x = 0; x < side; x += 8) {
                                uint8_t byte = 0;
                                for (unsigned b = 0; b < 8 && x + b < side; b++)
                                        if (px[y * side + x + b] == 0)
                                                byte |= (uint8_t) (0x80 >> b);
                                fputc(byte, f);
                        }
                        for (unsigned x = 0; x < side; x++)
                                for (unsigned c = 0; c < 6; c++)
                                        fputc(px[y * side + x], g);
                }
        }

        const char *const ok[] = { png, pgm, pbm, ppm };
        for (size_t i = 0; i < 4; i++) {
                _cleanup_strv_free_ char **found = NULL;
                _cleanup_free_ char *err = NULL;

                assert_int_equal(qr_scan_file(ok[i], &found, &err), 1);
                assert_null(err);
                assert_string_equal(found[0], text);
        }

        {
                _cleanup_strv_free_ char **found = NULL;
                _cleanup_free_ char *err = NULL;

                assert_int_equal(qr_scan_file(txt, &found, &err), -EMEDIUMTYPE);
                assert_non_null(strstr(err, "unsupported image format"));
        }
        {
                _cleanup_strv_free_ char **found = NULL;
                _cleanup_free_ char *err = NULL, *missing = NULL;

                assert_true(asprintf(&missing, "%s/nope.png", tmpdir) > 0);
                assert_int_equal(qr_scan_file(missing, &found, &err), -ENOENT);
                assert_non_null(err);
        }
        {
                /* a PGM header promising more pixels than there are */
                _cleanup_strv_free_ char **found = NULL;
                _cleanup_free_ char *err = NULL;

                assert_int_equal(write_file_atomic(txt, "P5 100 100 255\n\x01\x02", 17, 0644), 0);
                assert_int_equal(qr_scan_file(txt, &found, &err), -EBADMSG);
                assert_non_null(strstr(err, "truncated"));
        }
        {
                /* a PNG signature followed by garbage */
                _cleanup_strv_free_ char **found = NULL;
                _cleanup_free_ char *err = NULL;

                assert_int_equal(write_file_atomic(txt, "\x89PNG\r\n\x1a\nxxxxxxxxxxxxxxxx", 24, 0644), 0);
                assert_true(qr_scan_file(txt, &found, &err) < 0);
                assert_non_null(err);
        }
}

static void test_pdf_render(void **state) {
        static const char text[] = "#cloud-config\n"
                                   "appliance:\n"
                                   "  domain: example.org\n"
                                   "\tkey: \"tab and \xc3\xa4 and a bad \xff byte and a very long line that has to "
                                   "be wrapped because it does not fit on the printed page at all, no way, "
                                   "not even close to fitting on one single row of the page\"\n";
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ void *pdf = NULL;
        _cleanup_free_ char *err = NULL;
        size_t size;

        assert_int_equal(qr_texts_from_data(text, strlen(text), &l), 1);
        EnvPdfInput in = {
                .title = "example.org: env.yml",
                .file_name = "env.yml",
                .text = text,
                .text_size = strlen(text),
                .qr_texts = l,
                .sha256_hex = "00",
                .creation = 1700000000,
        };
        assert_int_equal(env_pdf_render(&in, &pdf, &size, &err), 0);
        assert_non_null(memmem(pdf, size, "(20231114221320Z)", 17)); /* the fixed creation date */
        assert_null(err);
        assert_true(size > 1000);
        assert_memory_equal(pdf, "%PDF-", 5);
        /* text page + QR page + instructions page */
        assert_non_null(memmem(pdf, size, "/Count 3", 8));
}

static void test_pdf_text_rows(void **state) {
        static const char text[] = "ab\tc\n"              /* tab to column 8 */
                                   "\xc3\xa4\xff\x01z\n"  /* UTF-8 kept, bad byte and control char replaced */
                                   "0123456789abc\n"       /* wrapped at 10 columns */
                                   "\n"
                                   "last";                 /* no final newline */
        _cleanup_strv_free_ char **rows = NULL;

        assert_int_equal(env_pdf_text_rows(text, strlen(text), 10, &rows), 0);
        assert_int_equal(strv_length(rows), 6);
        assert_string_equal(rows[0], "    1  ab      c");
        assert_string_equal(rows[1], "    2  \xc3\xa4??z");
        assert_string_equal(rows[2], "    3  0123456789");
        assert_string_equal(rows[3], "    +  abc");
        assert_string_equal(rows[4], "    4  ");
        assert_string_equal(rows[5], "    5  last");
}

/* More lines than the five-digit line number column holds. */
static void test_pdf_many_lines(void **state) {
        size_t n = 100002;
        _cleanup_free_ char *text = malloc(n * 2 + 1);
        _cleanup_strv_free_ char **rows = NULL;

        assert_non_null(text);
        for (size_t i = 0; i < n; i++)
                memcpy(text + 2 * i, "#\n", 2);
        text[2 * n] = 0;
        assert_int_equal(env_pdf_text_rows(text, 2 * n, 100, &rows), 0);
        assert_int_equal(strv_length(rows), n);
        assert_string_equal(rows[99998], "99999  #");
        assert_string_equal(rows[99999], "    0  #");
        assert_string_equal(rows[100001], "    2  #");
}

static void test_tar_gz(void **state) {
        static const char a[] = "#cloud-config\n", b[] = "%PDF-1.5 ...";
        const BundleFile files[] = { { "env.yml", a, strlen(a) }, { "env.yml.pdf", b, strlen(b) } };
        _cleanup_free_ void *tgz = NULL;
        _cleanup_free_ char *err = NULL;
        struct archive_entry *e;
        size_t size;
        struct archive *r;

        assert_int_equal(bundle_tar_gz(files, 2, 1700000000, &tgz, &size, &err), 0);

        r = archive_read_new();
        archive_read_support_filter_gzip(r);
        archive_read_support_format_tar(r);
        assert_int_equal(archive_read_open_memory(r, tgz, size), ARCHIVE_OK);
        assert_int_equal(archive_filter_code(r, 0), ARCHIVE_FILTER_GZIP);
        for (size_t i = 0; i < 2; i++) {
                char buf[64] = {};

                assert_int_equal(archive_read_next_header(r, &e), ARCHIVE_OK);
                assert_string_equal(archive_entry_pathname(e), files[i].name);
                assert_int_equal(archive_entry_perm(e), 0600);
                assert_int_equal(archive_entry_mtime(e), 1700000000);
                assert_int_equal(archive_read_data(r, buf, sizeof buf), (la_ssize_t) files[i].size);
                assert_memory_equal(buf, files[i].data, files[i].size);
        }
        assert_int_equal(archive_read_next_header(r, &e), ARCHIVE_EOF);
        archive_read_free(r);
}

static void test_gpg_bad_keyfile(void **state) {
        _cleanup_free_ char *keys = NULL, *err = NULL;
        _cleanup_free_ void *out = NULL;
        size_t size;

        assert_true(asprintf(&keys, "%s/keys.txt", tmpdir) > 0);
        assert_int_equal(write_file_atomic(keys, "this is not a key\n", 18, 0644), 0);
        assert_int_equal(gpg_encrypt_to_keyfile(keys, "x", 1, &out, &size, &err), -ENOKEY);
        assert_non_null(err);
        free(err);
        err = NULL;

        assert_int_equal(gpg_encrypt_to_keyfile("/nonexistent/keys.txt", "x", 1, &out, &size, &err), -ENOENT);
        assert_non_null(err);
}

static int setup(void **state) {
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_base32_vectors),
                cmocka_unit_test(test_base32_invalid),
                cmocka_unit_test(test_base32_roundtrip_random),
                cmocka_unit_test(test_gzip),
                cmocka_unit_test(test_split_single),
                cmocka_unit_test(test_split_chunks_and_join),
                cmocka_unit_test(test_join_missing),
                cmocka_unit_test(test_join_inconsistent),
                cmocka_unit_test(test_too_large),
                cmocka_unit_test(test_qr_encode_scan),
                cmocka_unit_test(test_qr_scan_rotated),
                cmocka_unit_test(test_qr_scan_files),
                cmocka_unit_test(test_pdf_render),
                cmocka_unit_test(test_pdf_text_rows),
                cmocka_unit_test(test_pdf_many_lines),
                cmocka_unit_test(test_tar_gz),
                cmocka_unit_test(test_gpg_bad_keyfile),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("env-package", tests, setup, teardown);
}
