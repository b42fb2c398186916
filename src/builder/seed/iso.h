/**
 * Writing NoCloud seed images: an ISO 9660 file system with Rock Ridge and Joliet extensions whose
 * root directory holds the given files (user-data, meta-data, ...), written by seed/iso.c itself.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

typedef struct SeedFile {
        const char *name;  /* a plain file name in the root directory: no '/', at most 64 characters */
        const void *data;
        size_t size;
} SeedFile;

/* Writes an ISO 9660 (Rock Ridge + Joliet) with volume id volume_id (NULL = "cidata") containing
 * the files in its root, atomically to path with mode (output_mode(true) for a seed that carries
 * an env: private from the first byte). epoch: SOURCE_DATE_EPOCH-style fixed time for all dates,
 * or (time_t)-1 for now. Returns 0 or -errno; *reterr (may be NULL) gets a message.
 * (The message does not repeat path: callers say "Cannot write '<path>': <message>".)
 *
 * With a fixed epoch the image is byte-for-byte reproducible: every date in the volume descriptors,
 * directory records and Rock Ridge entries is the epoch, written in UTC. Nothing is left at path on
 * failure (an existing file there is kept unchanged). */
int seed_iso_write(const char *path, const char *volume_id, const SeedFile *files, size_t n_files, time_t epoch,
                   mode_t mode, char **reterr);

/* Parses a SOURCE_DATE_EPOCH value (decimal seconds since 1970). Returns 0 or -EINVAL/-ERANGE. */
int seed_parse_epoch(const char *s, time_t *ret);
