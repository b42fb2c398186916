/**
 * The tar.gz of the env package (see bundle.h); its encryption is env/gpg.c's.
 */
#define _GNU_SOURCE 1
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "env/bundle.h"
#include "fileio.h"
#include "macro.h"

typedef struct Growbuf {
        uint8_t *data;
        size_t size, cap;
} Growbuf;

static la_ssize_t growbuf_write(struct archive *a, void *userdata, const void *buf, size_t len) {
        Growbuf *g = userdata;

        if (g->size + len > g->cap) {
                size_t cap = MAX(g->cap * 2, g->size + len + 65536);
                uint8_t *p = realloc(g->data, cap);
                if (!p) {
                        archive_set_error(a, ENOMEM, "out of memory");
                        return -1;
                }
                g->data = p;
                g->cap = cap;
        }
        memcpy(g->data + g->size, buf, len);
        g->size += len;
        return (la_ssize_t) len;
}

static int archive_fail(struct archive *a, char **reterr) {
        int e = archive_errno(a);

        (void) asprintf(reterr, "libarchive: %s", strna(archive_error_string(a)));
        archive_write_free(a);
        return e > 0 ? -e : -EIO;
}

int bundle_tar_gz(const BundleFile *files, size_t n_files, time_t mtime, void **ret, size_t *ret_size,
                  char **reterr) {
        struct archive *a = archive_write_new();
        Growbuf g = {};
        int r;

        if (!a)
                return -ENOMEM;
        if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
            archive_write_open2(a, &g, NULL, growbuf_write, NULL, NULL) != ARCHIVE_OK) {
                r = archive_fail(a, reterr); /* may still write through the callback */
                free(g.data);
                return r;
        }

        for (size_t i = 0; i < n_files; i++) {
                struct archive_entry *e = archive_entry_new();

                if (!e) {
                        archive_write_free(a);
                        free(g.data);
                        return -ENOMEM;
                }
                archive_entry_set_pathname(e, files[i].name);
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, 0600);
                archive_entry_set_size(e, (la_int64_t) files[i].size);
                archive_entry_set_mtime(e, mtime, 0);
                archive_entry_set_uid(e, 0);
                archive_entry_set_gid(e, 0);
                r = archive_write_header(a, e);
                archive_entry_free(e);
                if (r != ARCHIVE_OK ||
                    archive_write_data(a, files[i].data, files[i].size) != (la_ssize_t) files[i].size) {
                        r = archive_fail(a, reterr);
                        free(g.data);
                        return r;
                }
        }

        if (archive_write_close(a) != ARCHIVE_OK) {
                r = archive_fail(a, reterr); /* may still write through the callback */
                free(g.data);
                return r;
        }
        archive_write_free(a);

        *ret = g.data;
        *ret_size = g.size;
        return 0;
}
