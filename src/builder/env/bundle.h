/**
 * The env archive: a tar.gz of in-memory files (libarchive), which env/gpg.h encrypts.
 */
#pragma once

#include <stddef.h>
#include <time.h>

typedef struct BundleFile {
        const char *name;
        const void *data;
        size_t size;
} BundleFile;

/* Writes the files as a gzip-compressed POSIX tar (mode 0600, owner 0:0, the given mtime). */
int bundle_tar_gz(const BundleFile *files, size_t n_files, time_t mtime, void **ret, size_t *ret_size,
                  char **reterr);
