#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ext2fs/ext2fs.h>

#include "lib/ext2.h"
#include "cleanup.h"
#include "reterr.h"

static int ext2_errno(errcode_t e) {
        return e > 0 && e < 4096 ? -(int) e : -EIO;
}

static void ext2fs_closep(ext2_filsys *fs) {
        if (*fs)
                (void) ext2fs_close_free(fs);
}

/* Clamps one time (low 32 bits in the inode, 2 epoch bits and nanoseconds in *extra). */
static bool clamp(__u32 *lo, __u32 *extra, uint64_t t) {
        int64_t v = (int32_t) *lo;

        if (extra)
                v += (int64_t) (*extra & EXT4_EPOCH_MASK) << 32;
        if (v <= (int64_t) t && (!extra || v < (int64_t) t || (*extra >> EXT4_EPOCH_BITS) == 0))
                return false;
        *lo = (__u32) t;
        if (extra)
                *extra = (__u32) ((t >> 32) & EXT4_EPOCH_MASK);
        return true;
}

int ext2_clamp_times(const char *path, uint64_t offset, uint64_t t, char **reterr) {
        _cleanup_(ext2fs_closep) ext2_filsys fs = NULL;
        _cleanup_free_ struct ext2_inode_large *inode = NULL;
        ext2_inode_scan scan = NULL;
        char opts[64];
        ext2_ino_t ino;
        errcode_t e;
        int n = 0, isz;

        snprintf(opts, sizeof opts, "offset=%" PRIu64, offset);
        e = ext2fs_open2(path, opts, EXT2_FLAG_RW | EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs);
        if (e)
                return reterr_printf(reterr, ext2_errno(e), "%s: cannot open the filesystem at offset %" PRIu64 ": %s",
                                     path, offset, error_message(e));
        isz = EXT2_INODE_SIZE(fs->super);
        inode = calloc(1, (size_t) isz);
        if (!inode)
                return -ENOMEM;
        e = ext2fs_open_inode_scan(fs, 0, &scan);
        if (e)
                return reterr_printf(reterr, ext2_errno(e), "%s: cannot scan the inodes: %s", path, error_message(e));
        for (;;) {
                bool large, changed = false;

                e = ext2fs_get_next_inode_full(scan, &ino, (struct ext2_inode *) inode, isz);
                if (e) {
                        ext2fs_close_inode_scan(scan);
                        return reterr_printf(reterr, ext2_errno(e), "%s: inode scan: %s", path, error_message(e));
                }
                if (ino == 0)
                        break;
                if (inode->i_links_count == 0 && inode->i_mode == 0)
                        continue;
                large = isz > EXT2_GOOD_OLD_INODE_SIZE &&
                        (size_t) EXT2_GOOD_OLD_INODE_SIZE + inode->i_extra_isize >=
                                offsetof(struct ext2_inode_large, i_crtime_extra) + 4;
                changed |= clamp(&inode->i_atime, large ? &inode->i_atime_extra : NULL, t);
                changed |= clamp(&inode->i_ctime, large ? &inode->i_ctime_extra : NULL, t);
                changed |= clamp(&inode->i_mtime, large ? &inode->i_mtime_extra : NULL, t);
                if (large)
                        changed |= clamp(&inode->i_crtime, &inode->i_crtime_extra, t);
                if (!changed)
                        continue;
                e = ext2fs_write_inode_full(fs, ino, (struct ext2_inode *) inode, isz);
                if (e) {
                        ext2fs_close_inode_scan(scan);
                        return reterr_printf(reterr, ext2_errno(e), "%s: cannot write inode %u: %s", path, ino,
                                             error_message(e));
                }
                n++;
        }
        ext2fs_close_inode_scan(scan);

        fs->super->s_wtime = fs->super->s_mtime = fs->super->s_lastcheck = (__u32) t;
        if (fs->super->s_mkfs_time > t)
                fs->super->s_mkfs_time = (__u32) t;
        ext2fs_mark_super_dirty(fs);
        e = ext2fs_close_free(&fs);
        if (e)
                return reterr_printf(reterr, ext2_errno(e), "%s: cannot write the filesystem: %s", path, error_message(e));
        return n;
}
