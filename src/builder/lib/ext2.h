/**
 * ext4 filesystems after mke2fs, the builder's one use of libext2fs (no mount: mounting would
 * change the superblock's times).
 */
#pragma once

#include <stdint.h>

/* Clamps every inode's access, change, modification and creation time in the filesystem at byte
 * OFFSET of the file PATH to at most T (nanoseconds dropped where clamped), and sets the
 * superblock's write, mount and check times to T: mke2fs -d of e2fsprogs 1.47.0 copies the change
 * and access times of the tree, which differ from run to run. Returns the number of inodes
 * changed, or -errno with *reterr set. */
int ext2_clamp_times(const char *path, uint64_t offset, uint64_t t, char **reterr);
