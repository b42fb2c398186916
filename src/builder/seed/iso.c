/**
 * The seed ISO writer: libarchive's ISO 9660 format (through lib/archive.h) with Rock Ridge and Joliet, written through an
 * AtomicFile so that a failed run leaves nothing behind.
 *
 * Reproducibility: libarchive stamps the volume descriptors and the root directory with time() at
 * archive_write_close() and offers no option to override it, and it writes local time plus a GMT
 * offset. So this file defines time() for the whole executable (libarchive.so binds to it) and
 * makes it return the fixed epoch only while an image is being written, with TZ=UTC in force for
 * that span; outside it, time() is the real clock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "fileio.h"
#include "lib/archive.h"
#include "macro.h"
#include "reterr.h"
#include "seed/iso.h"

static volatile time_t iso_fixed_time = (time_t) -1;

time_t time(time_t *t) {
        time_t v = iso_fixed_time;

        if (v == (time_t) -1) {
                struct timespec ts;

                if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                        v = (time_t) -1;
                else
                        v = ts.tv_sec;
        }
        if (t)
                *t = v;
        return v;
}

int seed_parse_epoch(const char *s, time_t *ret) {
        unsigned long long v = 0;

        if (isempty(s))
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                if (v > (9999999999ULL - (unsigned long long) (*p - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (unsigned long long) (*p - '0');
        }
        /* ISO 9660 dates have four-digit years: 9999-12-31 is 253402300799. */
        if (v > 253402300799ULL)
                return -ERANGE;
        *ret = (time_t) v;
        return 0;
}

static bool volume_id_valid(const char *v) {
        size_t n = strlen(v);

        /* d-characters (upper-cased by the writer for the primary descriptor); Joliet allows 16. */
        if (n == 0 || n > 16)
                return false;
        for (const char *p = v; *p; p++)
                if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
                        return false;
        return true;
}

static bool file_name_valid(const char *n) {
        size_t l = strlen(n);

        if (l == 0 || l > 64 || streq(n, ".") || streq(n, ".."))
                return false;
        for (const char *p = n; *p; p++)
                if (*p == '/' || (unsigned char) *p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

typedef struct TimeOverride {
        char *saved_tz;
        bool had_tz;
        bool active;
} TimeOverride;

static int time_override_begin(TimeOverride *o, time_t epoch) {
        const char *tz = getenv("TZ");

        *o = (TimeOverride) { .had_tz = !!tz };
        if (tz) {
                o->saved_tz = strdup(tz);
                if (!o->saved_tz)
                        return -ENOMEM;
        }
        if (setenv("TZ", "UTC", 1) < 0) {
                free(o->saved_tz);
                o->saved_tz = NULL;
                return -errno;
        }
        tzset();
        iso_fixed_time = epoch;
        o->active = true;
        return 0;
}

static void time_override_end(TimeOverride *o) {
        if (!o->active)
                return;
        iso_fixed_time = (time_t) -1;
        if (o->had_tz)
                (void) setenv("TZ", o->saved_tz, 1);
        else
                (void) unsetenv("TZ");
        tzset();
        free(o->saved_tz);
        *o = (TimeOverride) {};
}

static int write_entries(ArWriter *w, const SeedFile *files, size_t n_files, time_t stamp, char **reterr) {
        for (size_t i = 0; i < n_files; i++) {
                const ArMember m = {
                        .name = files[i].name,
                        .size = files[i].size,
                        .perm = 0644,
                        .mtime = stamp,
                        .all_times = true,
                };
                _cleanup_free_ char *err = NULL;
                int r;

                r = ar_writer_begin(w, &m, &err);
                if (r >= 0)
                        r = ar_writer_data(w, files[i].data, files[i].size, &err);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        reterr_printf(reterr, 0, "cannot add '%s' to the image: %s", files[i].name, strna(err));
                        return -EIO;
                }
        }
        return 0;
}

static int write_iso_fd(int fd, const char *volume_id, const SeedFile *files, size_t n_files, time_t stamp,
                        char **reterr) {
        _cleanup_(ar_writer_freep) ArWriter *w = NULL;
        _cleanup_free_ char *options = NULL, *err = NULL;
        int r;

        if (asprintf(&options, "volume-id=%s,rockridge,joliet,!pad", volume_id) < 0)
                return -ENOMEM;
        r = ar_writer_new(AR_ISO9660, 0, options, &w, &err);
        if (r == -EOPNOTSUPP)
                return reterr_printf(reterr, r, "ISO 9660 writer unavailable: %s", strna(err));
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return reterr_printf(reterr, -EINVAL, "ISO 9660 writer options '%s': %s", options, strna(err));
        r = ar_writer_open_fd(w, fd, &err);
        if (r < 0)
                return reterr_printf(reterr, -EIO, "cannot start the image: %s", strna(err));

        r = write_entries(w, files, n_files, stamp, reterr);
        if (r < 0)
                return r;

        /* The image is laid out and written here. */
        r = ar_writer_close(w, &err);
        if (r < 0)
                return reterr_printf(reterr, r, "cannot write the image: %s", strna(err));
        return 0;
}

int seed_iso_write(const char *path, const char *volume_id, const SeedFile *files, size_t n_files, time_t epoch,
                   mode_t mode, char **reterr) {
        AtomicFile f = { .fd = -EBADF };
        TimeOverride o = {};
        time_t stamp;
        int r;

        if (!path || (n_files > 0 && !files))
                return -EINVAL;
        if (!volume_id)
                volume_id = "cidata";
        if (!volume_id_valid(volume_id))
                return reterr_printf(reterr, 0, "invalid volume id '%s' (1-16 characters A-Z a-z 0-9 _)", volume_id),
                       -EINVAL;
        for (size_t i = 0; i < n_files; i++) {
                if (!files[i].name || !file_name_valid(files[i].name))
                        return reterr_printf(reterr, 0, "invalid file name '%s' for the image root",
                                         strna(files[i].name)),
                               -EINVAL;
                if (files[i].size > 0 && !files[i].data)
                        return -EINVAL;
                if (files[i].size > UINT32_MAX)
                        return reterr_printf(reterr, 0, "'%s' is too large for a single ISO 9660 extent", files[i].name),
                               -EFBIG;
                for (size_t j = 0; j < i; j++)
                        if (streq(files[i].name, files[j].name))
                                return reterr_printf(reterr, 0, "file '%s' given twice", files[i].name), -EEXIST;
        }

        r = atomic_file_open(&f, AT_FDCWD, path, mode);
        if (r < 0)
                return reterr_printf(reterr, 0, "cannot create the file: %s", strerror(-r)), r;

        if (epoch != (time_t) -1) {
                r = time_override_begin(&o, epoch);
                if (r < 0) {
                        atomic_file_done(&f);
                        return r;
                }
                stamp = epoch;
        } else
                stamp = time(NULL);

        r = write_iso_fd(f.fd, volume_id, files, n_files, stamp, reterr);
        time_override_end(&o);
        if (r >= 0) {
                r = atomic_file_commit(&f);
                if (r < 0)
                        reterr_printf(reterr, 0, "cannot commit the file: %s", strerror(-r));
        } else if (reterr && !*reterr)
                reterr_printf(reterr, 0, "%s", strerror(-r));
        atomic_file_done(&f);
        return r;
}
