/**
 * libarchive behind archive.h: the only file that includes <archive.h> and <archive_entry.h>.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "dlopen-util.h"
#include "lib/archive.h"
#include "macro.h"
#include "reterr.h"

/* libarchive is loaded when a command first writes or extracts an archive (dlopen-util.h): the
 * commands that never do (seed, env, size) do not map it and the libraries it pulls in. */
#define ARCHIVE_SYMBOLS(X) \
        X(archive_entry_filetype) \
        X(archive_entry_free) \
        X(archive_entry_new) \
        X(archive_entry_pathname) \
        X(archive_entry_rdevmajor) \
        X(archive_entry_rdevminor) \
        X(archive_entry_set_atime) \
        X(archive_entry_set_ctime) \
        X(archive_entry_set_filetype) \
        X(archive_entry_set_gid) \
        X(archive_entry_set_gname) \
        X(archive_entry_set_mtime) \
        X(archive_entry_set_pathname) \
        X(archive_entry_set_perm) \
        X(archive_entry_set_size) \
        X(archive_entry_set_uid) \
        X(archive_entry_set_uname) \
        X(archive_entry_size) \
        X(archive_errno) \
        X(archive_error_string) \
        X(archive_filter_name) \
        X(archive_format_name) \
        X(archive_read_data_block) \
        X(archive_read_free) \
        X(archive_read_new) \
        X(archive_read_next_header) \
        X(archive_read_open) \
        X(archive_read_support_filter_all) \
        X(archive_read_support_format_tar) \
        X(archive_set_error) \
        X(archive_write_add_filter_gzip) \
        X(archive_write_close) \
        X(archive_write_data) \
        X(archive_write_data_block) \
        X(archive_write_disk_new) \
        X(archive_write_disk_set_options) \
        X(archive_write_finish_entry) \
        X(archive_write_free) \
        X(archive_write_header) \
        X(archive_write_new) \
        X(archive_write_open2) \
        X(archive_write_open_fd) \
        X(archive_write_set_bytes_in_last_block) \
        X(archive_write_set_format_pax_restricted) \
        X(archive_write_set_format_ustar)
ARCHIVE_SYMBOLS(DLSYM_DECLARE)
static void *archive_dl = NULL;

static int archive_dlopen(char **reterr) {
        return dlopen_symbols(&archive_dl, "libarchive.so.13", "libarchive13", reterr, ARCHIVE_SYMBOLS(DLSYM_ARG) NULL);
}

struct ArWriter {
        struct archive *a;
        ArSink sink;
        void *userdata;
};

static void archive_read_freep(struct archive **a) {
        if (*a)
                (void) sym_archive_read_free(*a);
}

static void archive_write_freep(struct archive **a) {
        if (*a)
                (void) sym_archive_write_free(*a);
}

static void archive_entry_freep(struct archive_entry **e) {
        if (*e)
                sym_archive_entry_free(*e);
}

static const char *ar_error(struct archive *a) {
        return sym_archive_error_string(a) ?: "unknown error";
}

/* libarchive's errno where it has one, else fallback; the message into *reterr. */
static int ar_fail(struct archive *a, int fallback, char **reterr) {
        int e = sym_archive_errno(a);

        (void) reterr_printf(reterr, 0, "%s", ar_error(a));
        return e > 0 ? -e : fallback;
}

int ar_writer_new(ArFormat format, ArFlags flags, ArWriter **ret, char **reterr) {
        _cleanup_(ar_writer_freep) ArWriter *w = NULL;
        int r;

        r = archive_dlopen(reterr);
        if (r < 0)
                return r;
        w = calloc(1, sizeof *w);
        if (!w || !(w->a = sym_archive_write_new()))
                return -ENOMEM;
        switch (format) {
        case AR_PAX:
                r = sym_archive_write_set_format_pax_restricted(w->a);
                break;
        case AR_USTAR:
                r = sym_archive_write_set_format_ustar(w->a);
                break;
        default:
                return -EINVAL;
        }
        if (r != ARCHIVE_OK)
                return ar_fail(w->a, -EOPNOTSUPP, reterr);
        if ((flags & AR_GZIP) && sym_archive_write_add_filter_gzip(w->a) != ARCHIVE_OK)
                return ar_fail(w->a, -EOPNOTSUPP, reterr);
        if (sym_archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK)
                return ar_fail(w->a, -EIO, reterr);
        *ret = TAKE_PTR(w);
        return 0;
}

int ar_writer_open_fd(ArWriter *w, int fd, char **reterr) {
        if (sym_archive_write_open_fd(w->a, fd) != ARCHIVE_OK)
                return ar_fail(w->a, -EIO, reterr);
        return 0;
}

static la_ssize_t sink_write(struct archive *a, void *userdata, const void *buf, size_t len) {
        ArWriter *w = userdata;
        ssize_t n = w->sink(w->userdata, buf, len);

        if (n < 0) {
                sym_archive_set_error(a, (int) -n, "%s", strerror((int) -n));
                return -1;
        }
        return (la_ssize_t) n;
}

int ar_writer_open_sink(ArWriter *w, ArSink sink, void *userdata, char **reterr) {
        w->sink = sink;
        w->userdata = userdata;
        if (sym_archive_write_open2(w->a, w, NULL, sink_write, NULL, NULL) != ARCHIVE_OK)
                return ar_fail(w->a, -EIO, reterr);
        return 0;
}

int ar_writer_begin(ArWriter *w, const ArMember *m, char **reterr) {
        _cleanup_(archive_entry_freep) struct archive_entry *e = sym_archive_entry_new();

        if (!e)
                return -ENOMEM;
        if (m->size > INT64_MAX)
                return -EFBIG;
        sym_archive_entry_set_pathname(e, m->name);
        sym_archive_entry_set_filetype(e, AE_IFREG);
        sym_archive_entry_set_perm(e, m->perm);
        sym_archive_entry_set_size(e, (la_int64_t) m->size);
        sym_archive_entry_set_mtime(e, (time_t) m->mtime, 0);
        if (m->all_times) {
                sym_archive_entry_set_atime(e, (time_t) m->mtime, 0);
                sym_archive_entry_set_ctime(e, (time_t) m->mtime, 0);
        }
        sym_archive_entry_set_uid(e, m->uid);
        sym_archive_entry_set_gid(e, m->gid);
        if (m->uname)
                sym_archive_entry_set_uname(e, m->uname);
        if (m->gname)
                sym_archive_entry_set_gname(e, m->gname);
        if (sym_archive_write_header(w->a, e) != ARCHIVE_OK)
                return ar_fail(w->a, -EIO, reterr);
        return 0;
}

int ar_writer_data(ArWriter *w, const void *data, size_t len, char **reterr) {
        la_ssize_t n;

        if (len == 0)
                return 0;
        n = sym_archive_write_data(w->a, data, len);
        if (n < 0 || (size_t) n != len)
                return ar_fail(w->a, -EIO, reterr);
        return 0;
}

int ar_writer_close(ArWriter *w, char **reterr) {
        if (sym_archive_write_close(w->a) != ARCHIVE_OK)
                return ar_fail(w->a, -EIO, reterr);
        return 0;
}

ArWriter *ar_writer_free(ArWriter *w) {
        if (w) {
                if (w->a)
                        (void) sym_archive_write_free(w->a);
                free(w);
        }
        return NULL;
}

void ar_extract_info_done(ArExtractInfo *i) {
        free(i->filter);
        free(i->format);
        *i = (ArExtractInfo) {};
}

typedef struct Source {
        ArSource read;
        void *userdata;
} Source;

static la_ssize_t source_read(struct archive *a, void *userdata, const void **ret) {
        Source *s = userdata;
        ssize_t n = s->read(s->userdata, ret);

        if (n < 0) {
                sym_archive_set_error(a, (int) -n, "read error");
                return -1;
        }
        return (la_ssize_t) n;
}

static int extract_stream(struct archive *in, struct archive *out, const char *tarball, ArDeviceFilter device_ok,
                          uint64_t *ret_entries, char **reterr) {
        _cleanup_free_ char *last = NULL;
        struct archive_entry *e;
        uint64_t n = 0;
        int r;

        while ((r = sym_archive_read_next_header(in, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
                const void *buf;
                size_t size;
                la_int64_t off;
                bool block = sym_archive_entry_filetype(e) == AE_IFBLK;

                free(last);
                last = strdup(sym_archive_entry_pathname(e) ?: "?");
                if (!last)
                        return -ENOMEM;

                if ((block || sym_archive_entry_filetype(e) == AE_IFCHR) &&
                    !(device_ok && device_ok(block, (unsigned) sym_archive_entry_rdevmajor(e),
                                             (unsigned) sym_archive_entry_rdevminor(e))))
                        return reterr_printf(reterr, -EPERM, "'%s': entry '%s' is a %s device %u:%u, which a root tree "
                                             "does not carry: refusing it", tarball, last,
                                             block ? "block" : "character",
                                             (unsigned) sym_archive_entry_rdevmajor(e), (unsigned) sym_archive_entry_rdevminor(e));

                r = sym_archive_write_header(out, e);
                if (r < ARCHIVE_WARN)
                        return reterr_printf(reterr, -EIO, "'%s': cannot extract entry '%s': %s", tarball, last,
                                             ar_error(out));
                if (sym_archive_entry_size(e) > 0)
                        while ((r = sym_archive_read_data_block(in, &buf, &size, &off)) == ARCHIVE_OK) {
                                /* libarchive reports a failed write(2) (ENOSPC, EIO) as ARCHIVE_WARN:
                                 * anything but OK leaves the file cut short. */
                                if (sym_archive_write_data_block(out, buf, size, off) != ARCHIVE_OK)
                                        return reterr_printf(reterr, sym_archive_errno(out) > 0 ? -sym_archive_errno(out) : -EIO,
                                                             "'%s': cannot write entry '%s': %s%s%s", tarball, last,
                                                             ar_error(out), sym_archive_errno(out) > 0 ? ": " : "",
                                                             sym_archive_errno(out) > 0 ? strerror(sym_archive_errno(out)) : "");
                        }
                else
                        r = ARCHIVE_EOF;
                if (r != ARCHIVE_EOF)
                        return reterr_printf(reterr, -EBADMSG, "'%s': corrupt data in entry '%s': %s", tarball, last,
                                             ar_error(in));
                r = sym_archive_write_finish_entry(out);
                if (r < ARCHIVE_WARN ||
                    (r == ARCHIVE_WARN && (sym_archive_errno(out) == ENOSPC || sym_archive_errno(out) == EDQUOT ||
                                           sym_archive_errno(out) == EIO)))
                        return reterr_printf(reterr, -EIO, "'%s': cannot finish entry '%s': %s", tarball, last,
                                             ar_error(out));
                n++;
        }
        if (r != ARCHIVE_EOF) {
                if (n == 0)
                        return reterr_printf(reterr, -EBADMSG, "'%s': not a readable tar archive: %s", tarball,
                                             ar_error(in));
                return reterr_printf(reterr, -EBADMSG, "'%s': corrupt archive after entry %" PRIu64 " ('%s'): %s",
                                     tarball, n, last ?: "", ar_error(in));
        }
        if (n == 0)
                return reterr_printf(reterr, -EBADMSG, "'%s': the archive is empty", tarball);
        *ret_entries = n;
        return 0;
}

int ar_extract_tar(const char *name, ArSource source, void *userdata, ArDeviceFilter device_ok, ArExtractInfo *ret,
                   char **reterr) {
        _cleanup_(archive_read_freep) struct archive *in = NULL;
        _cleanup_(archive_write_freep) struct archive *out = NULL;
        Source s = { source, userdata };
        uint64_t entries = 0;
        int r;

        r = archive_dlopen(reterr);
        if (r < 0)
                return r;
        in = sym_archive_read_new();
        out = sym_archive_write_disk_new();
        if (!in || !out)
                return -ENOMEM;
        (void) sym_archive_read_support_filter_all(in);
        (void) sym_archive_read_support_format_tar(in);
        (void) sym_archive_write_disk_set_options(
                out, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR |
                             ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                             ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
                             ARCHIVE_EXTRACT_UNLINK);
        /* No archive_write_disk_set_standard_lookup(): owners are the image's numeric ids. */

        if (sym_archive_read_open(in, &s, NULL, source_read, NULL) != ARCHIVE_OK)
                return reterr_printf(reterr, -EBADMSG, "'%s': not a readable tar archive: %s", name, ar_error(in));
        r = extract_stream(in, out, name, device_ok, &entries, reterr);
        if (r < 0)
                return r;
        if (sym_archive_write_close(out) != ARCHIVE_OK)
                return reterr_printf(reterr, -EIO, "'%s': cannot finish extraction: %s", name, ar_error(out));

        *ret = (ArExtractInfo) {
                .filter = strdup(sym_archive_filter_name(in, 0) ?: "none"),
                .format = strdup(sym_archive_format_name(in) ?: "tar"),
                .entries = entries,
        };
        if (!ret->filter || !ret->format) {
                ar_extract_info_done(ret);
                return -ENOMEM;
        }
        return 0;
}
