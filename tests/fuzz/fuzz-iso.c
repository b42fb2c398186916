/**
 * Fuzzes the ISO 9660 seed readers on arbitrary images: the common layer's root-directory reader
 * (Rock Ridge, Joliet, the upper-case aliases) and the agent's path reader (config-2 drives), and
 * the label probe. Directories that loop, extents beyond the image and huge sizes must give an
 * error, never a read outside the buffer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cidata.h"
#include "cleanup.h"
#include "fileio.h"
#include "log.h"
#include "probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *label = NULL, *vol = NULL;
        char path[64];
        FsType t;

        if (size > 4 * 1024 * 1024)
                return 0;
        log_set_max_level(LOG_CRIT);
        fd = memfd_create("fuzz-iso", MFD_CLOEXEC);
        if (fd < 0 || loop_write(fd, data, size) < 0)
                return 0;
        (void) snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        (void) probe_fd(fd, &t, &label);
        (void) cidata_iso_volume_id(path, &vol);
        (void) cidata_iso_read_file(path, "user-data", &a, NULL);
        (void) iso_read_file(path, "openstack/latest/meta_data.json", 64 * 1024, &b, NULL);
        (void) iso_read_file(path, "meta-data", 64 * 1024, &c, NULL);
        return 0;
}
