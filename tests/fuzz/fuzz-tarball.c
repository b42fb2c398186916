/**
 * Fuzzes the root tarball extraction (libarchive: tar, pax, gnu, any compression) into a fresh
 * directory: ".." members, absolute paths and symlinks, hard links out, device nodes. Whatever the
 * input, nothing appears next to the extraction directory (a sentinel directory stays empty).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "log.h"
#include "rm-rf.h"
#include "source/tarball.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_entries(const char *dir) {
        DIR *d = opendir(dir);
        int n = 0;

        if (!d)
                return -1;
        for (struct dirent *de; (de = readdir(d));)
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        n++;
        closedir(d);
        return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(rm_rf_and_freep) char *top = NULL;
        _cleanup_free_ char *tar = NULL, *parent = NULL, *dest = NULL, *err = NULL;
        _cleanup_close_ int fd = -EBADF;
        RootfsInfo info = {};

        if (size > 1024 * 1024)
                return 0;
        log_set_max_level(LOG_CRIT);
        if (mkdtemp_tmpdir("fuzz-tarball", 64, &top) < 0)
                return 0;
        if (asprintf(&tar, "%s/base.tar", top) < 0 || asprintf(&parent, "%s/root", top) < 0 ||
            asprintf(&dest, "%s/root/tree", top) < 0)
                return 0;
        fd = open(tar, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || loop_write(fd, data, size) < 0)
                return 0;
        fd = safe_close(fd);
        if (mkdir(parent, 0755) < 0 || mkdir(dest, 0755) < 0)
                return 0;
        (void) rootfs_extract(tar, dest, &info, &err);
        rootfs_info_done(&info);
        /* top holds base.tar and root/; root/ holds tree alone. */
        if (count_entries(top) != 2 || count_entries(parent) != 1)
                abort();
        return 0;
}
