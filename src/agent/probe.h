/**
 * Filesystem probing without blkid: the type and label of a block device or image (ISO 9660 with
 * its Joliet label, FAT12/16/32 with the root-directory or boot-sector label, ext2/3/4), finding a
 * device by label under the agent root, and reading files from ISO 9660 and FAT seeds without
 * mounting them. Never logs above debug.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "agent.h"

typedef enum FsType {
        FS_UNKNOWN,
        FS_ISO9660,
        FS_VFAT,
        FS_EXT,
        _FS_TYPE_MAX,
        _FS_TYPE_INVALID = -EINVAL,
} FsType;

const char *fs_type_to_string(FsType t);

/* Probes the start of a device or image. Returns 0 and sets *ret_type (FS_UNKNOWN if none found)
 * and *ret_label (newly allocated, trailing blanks removed; NULL if there is none). */
int probe_fd(int fd, FsType *ret_type, char **ret_label);
int probe_path(const char *path, FsType *ret_type, char **ret_label);

/* Finds a device whose label equals one of labels (case-insensitive, as cloud-init accepts both
 * "cidata" and "CIDATA"): first ROOT/dev/disk/by-label/LABEL, then every ROOT/sys/class/block/NAME
 * probed at ROOT/dev/NAME. Returns 0 and the path, or -ENOENT. */
int probe_find_label(const Agent *a, const char *const *labels, char **ret_path, FsType *ret_type);

/* Reads a file (path with '/' separators, relative to the root of the filesystem) from a FAT12/16/32
 * image, matching long (VFAT) and 8.3 names case-insensitively. Returns 0, -ENOENT, -EMEDIUMTYPE
 * (not FAT), -EFBIG (over max bytes), -EBADMSG (corrupt). The buffer is NUL-terminated. */
int fat_read_file(int fd, const char *path, size_t max, char **ret, size_t *ret_size);

/* Reads a file from an ISO 9660 image (Rock Ridge / Joliet names; subdirectories allowed). */
int iso_read_file(const char *image, const char *path, size_t max, char **ret, size_t *ret_size);
