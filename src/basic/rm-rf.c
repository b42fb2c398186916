/**
 * Removing trees (nftw, depth first, physical) and making throw-away directories under $TMPDIR.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "rm-rf.h"

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        int r;

        (void) st;
        (void) ftw;
        r = flag == FTW_DP ? rmdir(path) : unlink(path);
        /* An entry gone by now is fine: a gpg-agent told to stop removes its sockets as it exits,
         * while the walk is on its way. */
        return r < 0 && errno != ENOENT ? -1 : 0;
}

int rm_rf(const char *path) {
        struct stat st;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlink(path) < 0 ? -errno : 0;
        if (nftw(path, rm_cb, 64, FTW_DEPTH | FTW_PHYS) != 0)
                return -errno;
        return 0;
}

char *rm_rf_and_free(char *path) {
        if (path)
                (void) rm_rf(path);
        free(path);
        return NULL;
}

int mkdtemp_tmpdir(const char *name, size_t max_len, char **ret) {
        const char *tmp = getenv("TMPDIR");
        char *p;

        if (isempty(tmp) || tmp[0] != '/' || (max_len > 0 && strlen(tmp) + strlen(name) + 8 > max_len))
                tmp = "/tmp";
        if (asprintf(&p, "%s/%s.XXXXXX", tmp, name) < 0)
                return -ENOMEM;
        if (!mkdtemp(p)) {
                int r = -errno;
                free(p);
                return r;
        }
        *ret = p;
        return 0;
}
