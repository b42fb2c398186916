/**
 * Fuzzes the agent's blkid-free probing and FAT seed reader on arbitrary images: label probing
 * (ISO 9660, FAT, ext4) and reading user-data and openstack/latest/user_data from FAT.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "probe.h"
#include "cleanup.h"
#include "fileio.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *label = NULL, *a = NULL, *b = NULL;
        FsType t;

        if (size > 4 * 1024 * 1024)
                return 0;
        log_set_max_level(LOG_CRIT);
        fd = memfd_create("fuzz-seed", MFD_CLOEXEC);
        if (fd < 0 || loop_write(fd, data, size) < 0)
                return 0;
        (void) probe_fd(fd, &t, &label);
        (void) fat_read_file(fd, "user-data", 1024 * 1024, &a, NULL);
        (void) fat_read_file(fd, "openstack/latest/user_data", 1024 * 1024, &b, NULL);
        return 0;
}
