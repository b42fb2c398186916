/**
 * libarchive behind one door: writing tar archives (pax, ustar, optionally gzip) from
 * members given in memory or streamed, and extracting a tar stream into the working directory with
 * the secure-extraction flags. Callers never see struct archive; every failure is a negative errno
 * with libarchive's message in *reterr (callers prefix it with what they were doing).
 *
 * Writing:
 *     _cleanup_(ar_writer_freep) ArWriter *w = NULL;
 *     r = ar_writer_new(AR_PAX, AR_GZIP, &w, reterr);
 *     r = ar_writer_open_fd(w, fd, reterr);                  (or ar_writer_open_sink())
 *     for each member: ar_writer_begin(w, &m, reterr); ar_writer_data(w, data, len, reterr) ...
 *     r = ar_writer_close(w, reterr);                        (the archive is complete only now)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum ArFormat {
        AR_PAX,     /* pax restricted: ustar where it fits */
        AR_USTAR,
} ArFormat;

typedef enum ArFlags {
        AR_GZIP = 1 << 0,
} ArFlags;

typedef struct ArWriter ArWriter;

/* Receives the archive's bytes; returns len or -errno. */
typedef ssize_t (*ArSink)(void *userdata, const void *buf, size_t len);

int ar_writer_new(ArFormat format, ArFlags flags, ArWriter **ret, char **reterr);
int ar_writer_open_fd(ArWriter *w, int fd, char **reterr);
int ar_writer_open_sink(ArWriter *w, ArSink sink, void *userdata, char **reterr);

/* A regular file member. uname/gname NULL: numeric owners only. all_times: atime and ctime are
 * mtime too. */
typedef struct ArMember {
        const char *name;
        uint64_t size;
        mode_t perm;
        int64_t mtime;
        bool all_times;
        uid_t uid;
        gid_t gid;
        const char *uname, *gname;
} ArMember;

/* The member's header, then exactly m->size bytes through ar_writer_data(). */
int ar_writer_begin(ArWriter *w, const ArMember *m, char **reterr);
int ar_writer_data(ArWriter *w, const void *data, size_t len, char **reterr);
/* Lays out and flushes the archive. Returns 0 or -errno (libarchive's errno where it has one). */
int ar_writer_close(ArWriter *w, char **reterr);
ArWriter *ar_writer_free(ArWriter *w);
static inline void ar_writer_freep(ArWriter **w) {
        if (*w)
                *w = ar_writer_free(*w);
}

/* Supplies the next block of the compressed stream: its length (0 at the end) or -errno. */
typedef ssize_t (*ArSource)(void *userdata, const void **ret_buf);
/* Whether a device node entry may be created. */
typedef bool (*ArDeviceFilter)(bool block, unsigned major, unsigned minor);

typedef struct ArExtractInfo {
        char *filter; /* "zstd", "none", ... */
        char *format; /* "POSIX pax interchange format" */
        uint64_t entries;
} ArExtractInfo;

void ar_extract_info_done(ArExtractInfo *i);

/* Extracts the tar stream (any compression libarchive reads) into the working directory: owners,
 * modes, times, xattrs and ACLs kept; "..", absolute paths and writes through symlinks refused; a
 * device entry that device_ok refuses fails the extraction. name is the archive's name in messages
 * ("'NAME': cannot extract entry 'X': ..."). An empty archive is -EBADMSG. */
int ar_extract_tar(const char *name, ArSource source, void *userdata, ArDeviceFilter device_ok, ArExtractInfo *ret,
                   char **reterr);
