/**
 * Reading NoCloud seed images (ISO 9660) without mounting them, through libcdio/libiso9660 only,
 * so that the static first-boot agent can use it. Never logs above debug.
 */
#pragma once

#include <stddef.h>

/* Largest file cidata_iso_read_file() returns (-EFBIG beyond). */
#define CIDATA_FILE_MAX (64U * 1024U * 1024U)

/* Reads file `name` (e.g. "user-data") from the root directory of the ISO 9660 image or block device
 * at path, through Rock Ridge or Joliet names (also accepting the upper-case alias "USER_DATA"/
 * "user_data" per formats-and-peers §2). The buffer is NUL-terminated; *ret_size excludes the NUL.
 * Returns 0, -ENOENT if absent, -EMEDIUMTYPE if not ISO 9660 (other -errno if path can't be read). */
int cidata_iso_read_file(const char *path, const char *name, char **ret, size_t *ret_size);

/* Routes libcdio's own messages (e.g. "error reading PVD sector" for a non-ISO file) to debug
 * logging instead of stderr. Called by the functions here; idempotent. */
void cidata_quiet_libcdio(void);

/* Volume id as blkid would show it (Joliet if present). Returns 0, -EMEDIUMTYPE, -ENODATA (empty). */
int cidata_iso_volume_id(const char *path, char **ret);
