/**
 * The tar.gz of the env package (see bundle.h); its encryption is env/gpg.c's.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "env/bundle.h"
#include "lib/archive.h"
#include "macro.h"
#include "reterr.h"

typedef struct Growbuf {
        uint8_t *data;
        size_t size, cap;
} Growbuf;

static ssize_t growbuf_write(void *userdata, const void *buf, size_t len) {
        Growbuf *g = userdata;

        if (g->size + len > g->cap) {
                size_t cap = MAX(g->cap * 2, g->size + len + 65536);
                uint8_t *p = realloc(g->data, cap);
                if (!p)
                        return -ENOMEM;
                g->data = p;
                g->cap = cap;
        }
        memcpy(g->data + g->size, buf, len);
        g->size += len;
        return (ssize_t) len;
}

static int bundle_write(ArWriter *w, Growbuf *g, const BundleFile *files, size_t n_files, time_t mtime,
                        char **reterr) {
        int r;

        r = ar_writer_open_sink(w, growbuf_write, g, reterr);
        for (size_t i = 0; r >= 0 && i < n_files; i++) {
                const ArMember m = { .name = files[i].name, .size = files[i].size, .perm = 0600, .mtime = mtime };

                r = ar_writer_begin(w, &m, reterr);
                if (r >= 0)
                        r = ar_writer_data(w, files[i].data, files[i].size, reterr);
        }
        if (r >= 0)
                r = ar_writer_close(w, reterr);
        return r;
}

int bundle_tar_gz(const BundleFile *files, size_t n_files, time_t mtime, void **ret, size_t *ret_size,
                  char **reterr) {
        _cleanup_(ar_writer_freep) ArWriter *w = NULL;
        _cleanup_free_ char *err = NULL;
        Growbuf g = {};
        int r;

        r = ar_writer_new(AR_PAX, AR_GZIP, &w, &err);
        if (r >= 0)
                r = bundle_write(w, &g, files, n_files, mtime, &err);
        w = ar_writer_free(w); /* may still write through the callback */
        if (r < 0) {
                free(g.data);
                if (err)
                        (void) reterr_printf(reterr, 0, "libarchive: %s", err);
                return r;
        }
        *ret = g.data;
        *ret_size = g.size;
        return 0;
}
