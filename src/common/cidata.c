/**
 * Seed ISO reading with libiso9660. Opening with ISO_EXTENSION_ALL makes libiso9660 use the Joliet
 * tree when there is one; Rock Ridge names are used whenever Rock Ridge entries exist. A file is
 * looked up under its own name and then under the aliases some seed makers use (upper case, '_'
 * for '-'); plain ISO 9660 names ("USER_DATA;1") are found through the translated lookup.
 */
#include <cdio/iso9660.h>
#include <cdio/logging.h>
#include <ctype.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cidata.h"
#include "chase.h"
#include "cleanup.h"
#include "log.h"
#include "macro.h"

static void cdio_log_debug(cdio_log_level_t level, const char *message) {
        log_debug("libcdio (%d): %s", (int) level, message);
}

void cidata_quiet_libcdio(void) {
        static bool done = false;

        if (!done) {
                (void) cdio_log_set_handler(cdio_log_debug);
                done = true;
        }
}

static void iso9660_closep(iso9660_t **p) {
        if (*p)
                (void) iso9660_close(*p);
}

static void iso9660_stat_freep(iso9660_stat_t **p) {
        if (*p)
                iso9660_stat_free(*p);
}

/* Distinguishes "cannot read the path" from "not ISO 9660" before libiso9660 sees it. */
static int open_iso(const char *path, iso9660_t **ret) {
        _cleanup_close_ int fd = -EBADF;
        char fd_path[sizeof "/proc/self/fd/" + 12];
        iso9660_t *iso;
        int r;

        /* Only a regular file or a block device (a FIFO would block libcdio forever), and libcdio
         * opens that very inode through /proc/self/fd. */
        r = open_input(AT_FDCWD, path, INPUT_FOLLOW | INPUT_ALLOW_BLOCK, UINT64_MAX, &fd, NULL);
        if (r < 0)
                return r;
        snprintf(fd_path, sizeof fd_path, "/proc/self/fd/%d", fd);

        cidata_quiet_libcdio();
        iso = iso9660_open_ext(fd_path, ISO_EXTENSION_ALL);
        if (!iso)
                return -EMEDIUMTYPE;
        *ret = iso;
        return 0;
}

static iso9660_stat_t *stat_name(iso9660_t *iso, const char *name) {
        char alias[2][256];
        size_t n = strlen(name);
        char p[260];

        if (n == 0 || n >= sizeof alias[0] || strchr(name, '/'))
                return NULL;

        /* The name itself, then "user_data", then "USER_DATA" (and "USER-DATA"). */
        for (size_t i = 0; i <= n; i++) {
                alias[0][i] = name[i] == '-' ? '_' : name[i];
                alias[1][i] = (char) toupper((unsigned char) alias[0][i]);
        }
        const char *candidates[] = { name, alias[0], alias[1] };

        for (size_t i = 0; i < ELEMENTSOF(candidates); i++) {
                iso9660_stat_t *st;

                if (i > 0 && streq(candidates[i], candidates[i - 1]))
                        continue;
                snprintf(p, sizeof p, "/%s", candidates[i]);
                st = iso9660_ifs_stat_translate(iso, p);
                if (!st)
                        st = iso9660_ifs_stat(iso, p);
                if (st && st->type == _STAT_FILE)
                        return st;
                if (st)
                        iso9660_stat_free(st);
        }
        return NULL;
}

int cidata_iso_read_file(const char *path, const char *name, char **ret, size_t *ret_size) {
        _cleanup_(iso9660_closep) iso9660_t *iso = NULL;
        _cleanup_(iso9660_stat_freep) iso9660_stat_t *st = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t blocks, size;
        long n;
        int r;

        if (!path || !name || !ret)
                return -EINVAL;

        r = open_iso(path, &iso);
        if (r < 0)
                return r;

        st = stat_name(iso, name);
        if (!st)
                return -ENOENT;

        size = st->size;
        if (size > CIDATA_FILE_MAX)
                return -EFBIG;
        blocks = DIV_ROUND_UP(size, (size_t) ISO_BLOCKSIZE);
        buf = calloc(blocks + 1, ISO_BLOCKSIZE); /* +1: room for the NUL even when size is whole blocks */
        if (!buf)
                return -ENOMEM;
        if (blocks > 0) {
                n = iso9660_iso_seek_read(iso, buf, st->lsn, (long) blocks);
                if (n < 0 || (size_t) n < size)
                        return -EIO;
        }
        buf[size] = 0;

        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

int cidata_iso_volume_id(const char *path, char **ret) {
        _cleanup_(iso9660_closep) iso9660_t *iso = NULL;
        char *v = NULL;
        size_t l;
        int r;

        if (!path || !ret)
                return -EINVAL;

        r = open_iso(path, &iso);
        if (r < 0)
                return r;

        if (!iso9660_ifs_get_volume_id(iso, &v) || !v) {
                free(v);
                return -ENODATA;
        }
        l = strlen(v);
        while (l > 0 && v[l - 1] == ' ')
                v[--l] = 0;
        if (l == 0) {
                free(v);
                return -ENODATA;
        }
        *ret = v;
        return 0;
}
