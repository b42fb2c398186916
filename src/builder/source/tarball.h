/**
 * The image's root tree, prepared on the host in a private scratch directory: extracted from a
 * root tarball with libarchive (tar, pax, gnu; plain, gzip, xz, zstd, bzip2), then completed with
 * files (agent, units, profile, env, fstab). Ownership is taken from the archive by number (the
 * image's passwd, never the host's), so extraction needs root. The tree then feeds mke2fs -d.
 */
#pragma once

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "disk/progress.h"

typedef struct RootfsInfo {
        char sha256[65];        /* of the tarball as stored */
        char *filter;           /* "zstd", "none", ... */
        char *format;           /* "POSIX pax interchange format" */
        uint64_t entries;
        uint64_t compressed_bytes;
} RootfsInfo;

void rootfs_info_done(RootfsInfo *i);

/* Extracts tarball into the existing empty directory dest. On failure *reterr names the tarball
 * and, where known, the entry. */
int rootfs_extract(const char *tarball, const char *dest, RootfsInfo *ret, char **reterr);

typedef struct RootfsUsage {
        uint64_t bytes;  /* 4 KiB blocks used by file data and directories */
        uint64_t inodes;
} RootfsUsage;

/* Walks the tree without following symlinks. */
int rootfs_usage(const char *root, RootfsUsage *ret);

/* The smallest ext4 (4 KiB blocks, 256-byte inodes, journal) that holds usage with some margin,
 * rounded up to 1 MiB. */
uint64_t rootfs_min_fs_bytes(const RootfsUsage *u);

/* Every path below is a path of the tree: resolved below root the way the image will see it
 * (chase.h), so a symlink the base brought (etc/shadow -> /etc/shadow, usr/lib/systemd -> /x)
 * stays inside the tree and never makes the builder read or write the host. */

/* Writes root/path (missing parents created 0755), mode applied exactly, owner root:root when run
 * as root. An existing file or symlink is replaced, never followed. -EINVAL for a relative path or
 * one with "..". */
int rootfs_write_file(const char *root, const char *path, const void *data, size_t len, mode_t mode);
/* The same with the owner given (an existing file's, kept). */
int rootfs_write_file_as(const char *root, const char *path, const void *data, size_t len, mode_t mode, uid_t uid,
                         gid_t gid);

/* Creates the directory root/path and its parents (mode for the ones created). */
int rootfs_mkdir_p(const char *root, const char *path, mode_t mode);

/* Makes root/path a symlink to target (replacing what is there; parents created). */
int rootfs_symlink(const char *root, const char *target, const char *path);

/* stat() of root/path; follow: a symlink in the last component is resolved (inside the tree). */
int rootfs_stat(const char *root, const char *path, bool follow, struct stat *ret);

/* Reads root/path with read_input() (regular files only, at most max bytes). */
int rootfs_read_file(const char *root, const char *path, bool follow, size_t max, char **ret, size_t *ret_size);

/* Opens the directory root/path for reading (closedir() it). */
int rootfs_open_dir(const char *root, const char *path, DIR **ret);

/* Copies the tree under src verbatim to root/dst: directories, regular files and symlinks with
 * their modes, owned by root. Directories that exist keep their mode. Returns the number of
 * entries copied. */
int rootfs_copy_tree(const char *src, const char *root, const char *dst);

/* Copies a host file (a regular file, read with read_input()) to root/path with the mode. */
int rootfs_install_file(const char *root, const char *src, const char *path, mode_t mode);

/* Reads /var/lib/dpkg/status of the tree: "name version" lines of installed packages, sorted.
 * An image without dpkg gives an empty list. */
int rootfs_packages(const char *root, char ***ret);

/* Sets every modification time in the tree that is later than t to t (SOURCE_DATE_EPOCH
 * clamping, symlinks included, not followed). Returns the number of entries changed. */
int rootfs_clamp_mtimes(const char *root, uint64_t t);

