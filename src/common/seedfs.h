/**
 * The one reader of seed filesystems, without mounting them and without any library: ISO 9660
 * (Rock Ridge and Joliet names) and FAT12/16/32 (VFAT long names), as cloud-init's NoCloud and
 * config-drive datasources accept them, plus the type and label probe (ext2/3/4 too) that blkid
 * would give. Used by the agent's seed probe and the builder's `seed inspect`.
 *
 * Every structure read from the image is untrusted: extents and cluster chains are checked against
 * the image size, directory and continuation reads are bounded, loops are cut, names "." and "..",
 * names holding '/' or NUL are never returned or matched, and a file larger than the caller's
 * maximum is refused before anything is allocated. Never logs.
 *
 * Calling sequence:
 *     _cleanup_(seedfs_freep) SeedFs *fs = NULL;
 *     r = seedfs_open(fd, &fs);                    (-EMEDIUMTYPE: neither ISO 9660 nor FAT)
 *     r = seedfs_read_file(fs, "user-data", SEEDFS_ALIASES, SEEDFS_FILE_MAX, &text, &len);
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Default bound of a seed file (callers pass a smaller one where they have it). */
#define SEEDFS_FILE_MAX (64U * 1024U * 1024U)

typedef enum FsType {
        FS_UNKNOWN,
        FS_ISO9660,
        FS_VFAT,
        FS_EXT,
        _FS_TYPE_MAX,
        _FS_TYPE_INVALID = -EINVAL,
} FsType;

const char *fs_type_to_string(FsType t);

/* Probes the start of a device or image, as blkid would: ISO 9660 (the Joliet volume id wins over
 * the primary's), ext2/3/4, FAT (the root directory's label entry wins over the boot sector's).
 * Returns 0 and sets *ret_type (FS_UNKNOWN if none) and *ret_label (newly allocated, trailing
 * blanks removed; NULL if there is none), or -ENOMEM. */
int fs_probe_fd(int fd, FsType *ret_type, char **ret_label);

typedef struct SeedFs SeedFs;

/* Reads the volume structures of the ISO 9660 or FAT image on fd (not owned; it must stay open
 * until seedfs_free()). Returns 0, -EMEDIUMTYPE (neither), -EBADMSG (corrupt), other -errno. */
int seedfs_open(int fd, SeedFs **ret);
SeedFs *seedfs_free(SeedFs *fs);
static inline void seedfs_freep(SeedFs **fs) {
        if (*fs)
                *fs = seedfs_free(*fs);
}

FsType seedfs_type(const SeedFs *fs);
/* The label blkid shows (ISO: Joliet's if there is one; FAT: the root's label entry, else the boot
 * sector's); NULL if none. */
const char *seedfs_label(const SeedFs *fs);
/* ISO only: the primary volume descriptor's id, whether Rock Ridge and Joliet are present. */
const char *seedfs_iso_pvd_label(const SeedFs *fs);
bool seedfs_iso_rock_ridge(const SeedFs *fs);
bool seedfs_iso_joliet(const SeedFs *fs);

typedef struct SeedFsEntry {
        char *name;     /* as Linux shows it: ISO Rock Ridge, else Joliet, else the 8.3 name in lower
                         * case without ";1"; FAT the long name, else the 8.3 name */
        uint64_t size;
        bool directory;
} SeedFsEntry;

/* Lists the root directory. Entries "." and "..", and names holding '/' or NUL, are left out. At most
 * SEEDFS_DIR_ENTRIES_MAX entries (-E2BIG beyond). */
#define SEEDFS_DIR_ENTRIES_MAX 1000000U
int seedfs_list_root(SeedFs *fs, SeedFsEntry **ret, size_t *ret_n);
void seedfs_entries_free(SeedFsEntry *e, size_t n);

typedef enum SeedFsFlags {
        /* The last component may also be found as "user_data" or "USER_DATA" for "user-data" (the
         * names some seed makers use); see formats-and-peers §2. */
        SEEDFS_ALIASES = 1 << 0,
} SeedFsFlags;

/* Reads the file at path ('/'-separated below the root; "." and ".." components refused) under the
 * names Linux shows: exact on ISO 9660, case-insensitive on FAT (as vfat looks names up). The
 * buffer is NUL-terminated; *ret_size excludes the NUL. Returns 0, -ENOENT (absent), -EISDIR,
 * -EFBIG (over max), -EBADMSG (corrupt or truncated image), -EINVAL (bad path), -ENOMEM, -EIO. */
int seedfs_read_file(SeedFs *fs, const char *path, SeedFsFlags flags, size_t max, char **ret, size_t *ret_size);
