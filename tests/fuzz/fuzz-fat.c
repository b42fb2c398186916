/**
 * Fuzzes the agent's FAT12/16/32 reader on arbitrary images: cluster chains (loops, out of range),
 * directories (long names, deleted entries, subdirectories, "." and ".."), sizes beyond the image.
 * A file it returns is never larger than the limit asked for.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "log.h"
#include "probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const paths[] = { "user-data", "meta-data", "openstack/latest/meta_data.json",
                                             "openstack/latest/user_data", "a/b/c/d/e", "../user-data" };
        _cleanup_close_ int fd = -EBADF;

        if (size > 4 * 1024 * 1024)
                return 0;
        log_set_max_level(LOG_CRIT);
        fd = memfd_create("fuzz-fat", MFD_CLOEXEC);
        if (fd < 0 || loop_write(fd, data, size) < 0)
                return 0;
        for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
                _cleanup_free_ char *buf = NULL;
                size_t n = 0;

                if (fat_read_file(fd, paths[i], 64 * 1024, &buf, &n) >= 0 && (n > 64 * 1024 || buf[n] != 0))
                        abort();
        }
        return 0;
}
