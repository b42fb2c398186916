/**
 * Fuzzes the common seed reader (seedfs) starting from ISO 9660 images: the volume descriptors, the
 * root listing (Rock Ridge with its continuation areas, Joliet, 8.3 names), config-2 paths.
 * Directories that loop, extents beyond the image and huge sizes must give an error, never a read
 * outside the buffer. The body is shared with fuzz-fat.
 */
#include "fuzz-seedfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        return fuzz_seedfs_image(data, size);
}
