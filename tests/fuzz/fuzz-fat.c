/**
 * Fuzzes the common seed reader (seedfs) starting from FAT12/16/32 images: the boot sector, cluster
 * chains (loops, out of range), directories (long names, deleted entries, subdirectories, "." and
 * ".."), sizes beyond the image, the label probe. The body is shared with fuzz-iso.
 */
#include "fuzz-seedfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        return fuzz_seedfs_image(data, size);
}
