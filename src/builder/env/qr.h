/**
 * The paper format of an env file: gzip -9, RFC 4648 base32 (upper case, '=' padded), QR codes.
 *
 * If the whole base32 text fits into one QR code (error correction level M, version <= 40) it
 * becomes a single code without prefix. Otherwise it is cut into QR_CHUNK_CHARS-character pieces,
 * each stored as "NN " + piece, where NN is the 0-based two-digit chunk number (00, 01, ...), as
 * `split -a 2 -d` numbers them; at most QR_MAX_CODES codes. The text can therefore be restored
 * with `zbarimg --raw ... | sort -n | cut -f2 -d' ' | tr -d '\n' | base32 -d | gunzip`.
 *
 * Functions return 0 or -errno; human-readable detail goes into a reterr string (caller frees).
 * Nothing here logs above debug.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define QR_CHUNK_CHARS 2100
#define QR_MAX_CODES 100
/* Upper bound for a restored env file (gunzip output). */
#define QR_MAX_PLAIN_SIZE (16U * 1024U * 1024U)

/* Base32 (RFC 4648 alphabet, '=' padding). Returns NULL only on OOM. */
char *base32_encode(const void *data, size_t len);
/* Strict decoder: upper-case alphabet and correct padding only. -EINVAL on bad input. The result
 * is NUL-terminated (the NUL is not counted). */
int base32_decode(const char *s, size_t len, void **ret, size_t *ret_size);

/* A QR code as a square matrix of modules, 1 = dark, without quiet zone. */
typedef struct QrMatrix {
        unsigned width;
        unsigned version;
        uint8_t *modules; /* width * width, row-major */
} QrMatrix;

QrMatrix *qr_matrix_free(QrMatrix *m);
static inline void qr_matrix_freep(QrMatrix **m) {
        qr_matrix_free(*m);
}

/* Encodes text at level M, smallest version that holds it. -ERANGE if it does not fit in version 40. */
/* Loads libqrencode, and zbar with libpng (dlopen) on first use; -ENOPKG with a message naming the
 * missing package. The functions that use them call these first. */
int qr_encode_dlopen(char **reterr);
int qr_scan_dlopen(char **reterr);
int qr_encode(const char *text, QrMatrix **ret);

/* Makes the QR texts for a base32 payload (a single text or "NN " chunks). Returns the number of
 * texts (NULL-terminated strv in *ret_texts), -E2BIG if more than QR_MAX_CODES would be needed. */
int qr_payload_split(const char *b32, char ***ret_texts);

/* Reassembles the base32 payload from decoded QR texts in any order; identical duplicates are
 * accepted. Errors (-EINVAL, -ENODATA) name the problem, e.g. the missing chunk numbers. */
int qr_payload_join(char *const *texts, size_t n, char **ret_b32, char **reterr);

/* Whole pipeline both ways: env bytes -> QR texts, and QR texts -> env bytes (gunzipped). */
int qr_texts_from_data(const void *data, size_t len, char ***ret_texts);
int qr_texts_to_data(char *const *texts, size_t n, void **ret, size_t *ret_size, char **reterr);

/* Finds QR codes in an 8-bit grey image (row stride = width) with zbar. Appends every decoded text
 * to *texts (a strv, may be NULL initially); returns the number found. */
int qr_scan_gray(const uint8_t *pixels, unsigned width, unsigned height, char ***texts);

/* Loads an image (PNG, or binary PNM: PBM P4, PGM P5, PPM P6) and scans it as above. */
int qr_scan_file(const char *path, char ***texts, char **reterr);
