/**
 * The printable env document (A4 PDF, rendered with cairo):
 *   1. the env text, monospaced, with line numbers; long lines are wrapped and the continuation is
 *      marked with '+' in the line number column;
 *   2. the QR codes of env-qr.h: a single code on its own page, or "NN " chunks four per page, each
 *      labelled with its chunk number;
 *   3. a page saying how to restore the file from the printout (with and without this program).
 * Every page carries the title and "page X of Y".
 */
#pragma once

#include <stddef.h>
#include <time.h>

typedef struct EnvPdfInput {
        const char *title;     /* e.g. "example.org: env.yml" */
        const char *file_name; /* the restored file's name, e.g. "env.yml" */
        const char *text;      /* the env file's bytes (need not be NUL-terminated) */
        size_t text_size;
        char *const *qr_texts; /* from qr_texts_from_data(), NULL-terminated */
        const char *sha256_hex; /* of the env bytes, printed for checking a restore */
        time_t creation;        /* the document's creation date; (time_t) -1 = now */
} EnvPdfInput;

/* Splits text into printable rows of at most cols characters, each with the 7-character line number
 * column ("%5u  ", or "    +  " for the continuation of a wrapped line; numbers modulo 100000). Tabs
 * become spaces to the next multiple of 8, control characters and invalid UTF-8 become '?', so the
 * rows are always valid UTF-8. Returns 0 or -ENOMEM; *ret is a strv. */
int env_pdf_text_rows(const char *text, size_t size, size_t cols, char ***ret);

/* Renders the PDF into memory. Returns 0 or -errno (detail in *reterr). */
/* Loads cairo, fontconfig and libqrencode (dlopen); -ENOPKG with a message naming the missing
 * package. env_pdf_render() calls it. */
int env_pdf_dlopen(char **reterr);
int env_pdf_render(const EnvPdfInput *in, void **ret, size_t *ret_size, char **reterr);
