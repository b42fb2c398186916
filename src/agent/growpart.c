/**
 * Growing the last MBR partition and its ext4 online (see growpart.h). The plan is pure arithmetic
 * on the sector-0 bytes (unit-tested); the apply part works on the running kernel's /sys and /dev,
 * also under --root (the partition is the one that holds the root directory's filesystem).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/blkpg.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "growpart.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"
#include "unaligned.h"

#ifndef EXT4_IOC_RESIZE_FS
#define EXT4_IOC_RESIZE_FS _IOW('f', 16, uint64_t)
#endif
#define EXT4_SUPER_MAGIC_VALUE 0xEF53

static int mbr_check(const uint8_t s[512]) {
        if (s[510] != 0x55 || s[511] != 0xAA)
                return -EMEDIUMTYPE;
        for (unsigned i = 0; i < 4; i++)
                if (s[446 + 16 * i + 4] == 0xEE)
                        return -EPROTOTYPE;
        return 0;
}

int mbr_last_partition(const uint8_t s[512]) {
        uint32_t best = 0;
        int n = -ENOENT;

        if (mbr_check(s) < 0)
                return mbr_check(s);
        for (unsigned i = 0; i < 4; i++) {
                const uint8_t *e = s + 446 + 16 * i;
                if (e[4] == 0 || get_le32(e + 12) == 0)
                        continue;
                if (n < 0 || get_le32(e + 8) > best) {
                        best = get_le32(e + 8);
                        n = (int) i + 1;
                }
        }
        return n;
}

int mbr_plan_grow(const uint8_t s[512], unsigned partno, uint64_t disk_sectors, uint32_t sector_size, GrowPlan *ret) {
        const uint8_t *e;
        uint64_t start, size, limit, align, end;
        int r;

        r = mbr_check(s);
        if (r < 0)
                return r;
        if (partno < 1 || partno > 4 || sector_size < 512)
                return -ENOENT;
        e = s + 446 + 16 * (partno - 1);
        if (e[4] == 0 || get_le32(e + 12) == 0)
                return -ENOENT;
        start = get_le32(e + 8);
        size = get_le32(e + 12);
        if (start + size > disk_sectors)
                return -ERANGE;

        /* The end may not pass the disk, the 32-bit count, or any partition that starts later. */
        limit = MIN(disk_sectors, start + (uint64_t) UINT32_MAX);
        for (unsigned i = 0; i < 4; i++) {
                const uint8_t *o = s + 446 + 16 * i;
                uint64_t os = get_le32(o + 8);
                if (i == partno - 1 || o[4] == 0 || get_le32(o + 12) == 0)
                        continue;
                if (os >= start + size && os < limit)
                        limit = os;
                if (os > start && os < start + size)
                        return -ERANGE;   /* overlapping entries: leave the table alone */
        }
        align = GROW_ALIGN_BYTES / sector_size;
        end = limit / align * align;
        if (end <= start + size || (end - start - size) * sector_size < GROW_ALIGN_BYTES)
                return 0;
        *ret = (GrowPlan) { .partno = partno, .start = start, .old_size = size, .new_size = end - start };
        return 1;
}

void mbr_apply_plan(uint8_t s[512], const GrowPlan *plan) {
        put_le32(s + 446 + 16 * (plan->partno - 1) + 12, (uint32_t) plan->new_size);
}

/* ---- GPT ---- */

uint32_t crc32_ieee(const void *data, size_t len) {
        static uint32_t table[256];
        const uint8_t *p = data;
        uint32_t c = 0xFFFFFFFFU;

        if (table[1] == 0)
                for (uint32_t i = 0; i < 256; i++) {
                        uint32_t v = i;
                        for (int k = 0; k < 8; k++)
                                v = (v & 1) ? 0xEDB88320U ^ (v >> 1) : v >> 1;
                        table[i] = v;
                }
        for (size_t i = 0; i < len; i++)
                c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFU;
}

static uint32_t gpt_header_crc(const uint8_t *hdr) {
        uint8_t copy[512];
        uint32_t size = get_le32(hdr + 12);

        memcpy(copy, hdr, size);
        put_le32(copy + 16, 0);
        return crc32_ieee(copy, size);
}

void gpt_done(Gpt *g) {
        free(g->entries);
        *g = (Gpt) {};
}

int gpt_parse(const uint8_t *hdr, const uint8_t *entries, size_t entries_len, Gpt *ret) {
        uint32_t hsize = get_le32(hdr + 12), n = get_le32(hdr + 80), esize = get_le32(hdr + 84);
        Gpt g = {};

        if (memcmp(hdr, "EFI PART", 8) != 0)
                return -EMEDIUMTYPE;
        if (hsize < 92 || hsize > 512 || gpt_header_crc(hdr) != get_le32(hdr + 16))
                return -EBADMSG;
        if (esize < 128 || esize > 4096 || n == 0 || n > 4096 || (size_t) n * esize > entries_len)
                return -EBADMSG;
        if (crc32_ieee(entries, (size_t) n * esize) != get_le32(hdr + 88))
                return -EBADMSG;
        memcpy(g.hdr, hdr, 512);
        g.entries_len = (size_t) n * esize;
        g.entries = malloc(g.entries_len);
        if (!g.entries)
                return -ENOMEM;
        memcpy(g.entries, entries, g.entries_len);
        g.n_entries = n;
        g.entry_size = esize;
        *ret = g;
        return 0;
}

static bool gpt_entry_used(const Gpt *g, uint32_t i) {
        static const uint8_t zero[16];
        return memcmp(g->entries + (size_t) i * g->entry_size, zero, 16) != 0;
}

int gpt_last_partition(const Gpt *g) {
        uint64_t best = 0;
        int n = -ENOENT;

        for (uint32_t i = 0; i < g->n_entries; i++) {
                uint64_t first = get_le64(g->entries + (size_t) i * g->entry_size + 32);
                if (gpt_entry_used(g, i) && (n < 0 || first > best)) {
                        best = first;
                        n = (int) i + 1;
                }
        }
        return n;
}

int gpt_plan_grow(const Gpt *g, unsigned partno, uint64_t disk_sectors, uint32_t sector_size, GrowPlan *ret) {
        uint64_t entry_sectors = DIV_ROUND_UP(g->entries_len, sector_size), last_usable, first, last, end, align;
        const uint8_t *e;

        if (partno < 1 || partno > g->n_entries || !gpt_entry_used(g, partno - 1))
                return -ENOENT;
        if (disk_sectors < 2 * entry_sectors + 3)
                return -ERANGE;
        /* The backup table moves to the disk end; the last usable sector is right before it. */
        last_usable = disk_sectors - 1 - entry_sectors - 1;
        e = g->entries + (size_t) (partno - 1) * g->entry_size;
        first = get_le64(e + 32);
        last = get_le64(e + 40);
        if (last < first || last > last_usable)
                return -ERANGE;
        for (uint32_t i = 0; i < g->n_entries; i++) {
                uint64_t of = get_le64(g->entries + (size_t) i * g->entry_size + 32);
                if (i != partno - 1 && gpt_entry_used(g, i) && of > first)
                        return -ERANGE;   /* not the last partition */
        }
        align = GROW_ALIGN_BYTES / sector_size;
        end = (last_usable + 1) / align * align;   /* exclusive */
        if (end <= last + 1 || (end - last - 1) * sector_size < GROW_ALIGN_BYTES)
                end = last + 1;
        *ret = (GrowPlan) { .partno = partno, .start = first, .old_size = last - first + 1, .new_size = end - first };
        /* 1: the partition grows; 0: only the backup table may need to move. */
        return end > last + 1;
}

/* Writes the grown table: backup entries and header at the disk end, then the primary ones, and
 * the protective MBR's size. */
int gpt_write(int fd, Gpt *g, const GrowPlan *plan, uint64_t disk_sectors, uint32_t ss, uint8_t s0[512]) {
        uint64_t entry_sectors = DIV_ROUND_UP(g->entries_len, ss), backup_lba = disk_sectors - 1,
                 backup_entries = backup_lba - entry_sectors;
        _cleanup_free_ uint8_t *sector = calloc(1, ss), *ents = calloc(entry_sectors, ss);
        uint8_t backup[512];

        if (!sector || !ents)
                return -ENOMEM;
        if (plan)
                put_le64(g->entries + (size_t) (plan->partno - 1) * g->entry_size + 40, plan->start + plan->new_size - 1);
        memcpy(ents, g->entries, g->entries_len);

        put_le64(g->hdr + 32, backup_lba);
        put_le64(g->hdr + 48, backup_entries - 1);
        put_le32(g->hdr + 88, crc32_ieee(g->entries, g->entries_len));
        put_le32(g->hdr + 16, gpt_header_crc(g->hdr));

        memcpy(backup, g->hdr, 512);
        put_le64(backup + 24, backup_lba);
        put_le64(backup + 32, 1);
        put_le64(backup + 72, backup_entries);
        put_le32(backup + 16, gpt_header_crc(backup));

        if (pwrite(fd, ents, entry_sectors * ss, (off_t) (backup_entries * ss)) != (ssize_t) (entry_sectors * ss))
                return errno ? -errno : -EIO;
        memcpy(sector, backup, 512);
        if (pwrite(fd, sector, ss, (off_t) (backup_lba * ss)) != (ssize_t) ss)
                return errno ? -errno : -EIO;
        if (fsync(fd) < 0)
                return -errno;
        if (pwrite(fd, ents, entry_sectors * ss, (off_t) (get_le64(g->hdr + 72) * ss)) != (ssize_t) (entry_sectors * ss))
                return errno ? -errno : -EIO;
        memset(sector, 0, ss);
        memcpy(sector, g->hdr, 512);
        if (pwrite(fd, sector, ss, (off_t) ss) != (ssize_t) ss)
                return errno ? -errno : -EIO;
        for (unsigned i = 0; i < 4; i++) {
                uint8_t *e = s0 + 446 + 16 * i;
                if (e[4] == 0xEE)
                        put_le32(e + 12, (uint32_t) MIN(disk_sectors - 1, (uint64_t) UINT32_MAX));
        }
        if (pwrite(fd, s0, 512, 0) != 512 || fsync(fd) < 0)
                return errno ? -errno : -EIO;
        return 0;
}

static int gpt_read(int fd, uint32_t ss, Gpt *ret) {
        _cleanup_free_ uint8_t *hdr = malloc(ss), *entries = NULL;
        uint64_t lba;
        size_t len;

        if (!hdr)
                return -ENOMEM;
        if (pread(fd, hdr, ss, (off_t) ss) != (ssize_t) ss)
                return errno ? -errno : -EIO;
        if (memcmp(hdr, "EFI PART", 8) != 0)
                return -EMEDIUMTYPE;
        lba = get_le64(hdr + 72);
        len = (size_t) get_le32(hdr + 80) * get_le32(hdr + 84);
        if (len == 0 || len > 4096 * 4096)
                return -EBADMSG;
        len = DIV_ROUND_UP(len, ss) * ss;
        entries = malloc(len);
        if (!entries)
                return -ENOMEM;
        if (pread(fd, entries, len, (off_t) (lba * ss)) != (ssize_t) len)
                return errno ? -errno : -EIO;
        return gpt_parse(hdr, entries, len, ret);
}

static int read_sysfs_u64(const char *dir, const char *file, uint64_t *ret) {
        _cleanup_free_ char *p = NULL, *t = NULL;
        int r;

        if (asprintf(&p, "%s/%s", dir, file) < 0)
                return -ENOMEM;
        r = read_full_file(p, &t, NULL, 4096);
        if (r < 0)
                return r;
        t[strcspn(t, "\n")] = 0;
        return safe_atou64(t, ret);
}

/* The mount point of a block device (MAJ:MIN) from /proc/self/mountinfo, or NULL. */
static char *find_mount(dev_t dev) {
        _cleanup_free_ char *text = NULL;
        char want[32];

        snprintf(want, sizeof want, "%u:%u", major(dev), minor(dev));
        if (read_full_file("/proc/self/mountinfo", &text, NULL, 0) < 0)
                return NULL;
        for (char *l = text, *next; l && *l; l = next) {
                char id[32], mm[32], root[PATH_MAX], where[PATH_MAX];
                size_t n = strcspn(l, "\n");
                next = l[n] ? l + n + 1 : NULL;
                l[n] = 0;
                if (sscanf(l, "%31s %*s %31s %4095s %4095s", id, mm, root, where) == 4 && streq(mm, want) &&
                    streq(root, "/"))
                        return strdup(where);
        }
        return NULL;
}

typedef struct PartInfo {
        char name[256];
        unsigned partno;
        uint64_t start512, size512;
        dev_t dev;
} PartInfo;

static int grow_fs(const char *where, const char *partdev, uint64_t part_bytes) {
        _cleanup_close_ int mfd = -EBADF, pfd = -EBADF;
        uint8_t sb[1024];
        uint64_t blocks, want;
        uint32_t bs;
        struct statfs sfs;

        if (statfs(where, &sfs) < 0)
                return log_error_errno(errno, "Failed to statfs '%s': %m", where);
        if (sfs.f_type != EXT4_SUPER_MAGIC_VALUE) {
                log_info("Filesystem on '%s' is not ext2/3/4, not resizing it.", where);
                return 0;
        }
        pfd = open(partdev, O_RDONLY | O_CLOEXEC);
        if (pfd < 0)
                return log_error_errno(errno, "Failed to open '%s': %m", partdev);
        if (pread(pfd, sb, sizeof sb, 1024) != (ssize_t) sizeof sb)
                return log_error_errno(errno ?: EIO, "Failed to read the superblock of '%s': %m", partdev);
        if ((sb[56] | sb[57] << 8) != EXT4_SUPER_MAGIC_VALUE)
                return log_error_errno(EINVAL, "'%s' has no ext4 superblock.", partdev);
        bs = 1024U << get_le32(sb + 24);
        blocks = get_le32(sb + 4);
        if (get_le32(sb + 96) & 0x80)   /* INCOMPAT_64BIT: s_blocks_count_hi */
                blocks |= (uint64_t) get_le32(sb + 0x150) << 32;
        want = part_bytes / bs;
        if (want <= blocks) {
                log_info("ext4 on '%s' already fills its partition (%llu blocks).", where, (unsigned long long) blocks);
                return 0;
        }
        mfd = open(where, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (mfd < 0)
                return log_error_errno(errno, "Failed to open '%s': %m", where);
        if (ioctl(mfd, EXT4_IOC_RESIZE_FS, &want) < 0)
                return log_error_errno(errno, "Failed to resize ext4 on '%s' to %llu blocks: %m", where,
                                       (unsigned long long) want);
        log_info("Resized ext4 on '%s' from %llu to %llu blocks of %u bytes.", where, (unsigned long long) blocks,
                 (unsigned long long) want, bs);
        return 1;
}

int grow_last_partition(const char *path) {
        _cleanup_free_ char *sysdir = NULL, *real = NULL, *diskdir = NULL, *diskdev = NULL, *partdev = NULL,
                           *where = NULL;
        uint8_t s0[512];
        _cleanup_close_ int fd = -EBADF;
        uint64_t disk_bytes, partno64, start512;
        PartInfo last = {};
        struct stat st;
        int sector_size, r, changed = 0, lastno;
        _cleanup_(gpt_done) Gpt gpt = {};
        uint64_t disk_sectors;
        bool is_gpt = false;
        GrowPlan plan;
        DIR *d;

        if (stat(path, &st) < 0)
                return log_error_errno(errno, "Failed to stat '%s': %m", path);
        if (major(st.st_dev) == 0) {
                log_info("'%s' is not on a block device, not growing anything.", path);
                return 0;
        }
        if (asprintf(&sysdir, "/sys/dev/block/%u:%u", major(st.st_dev), minor(st.st_dev)) < 0)
                return log_oom();
        if (read_sysfs_u64(sysdir, "partition", &partno64) < 0) {
                log_info("'%s' is not on a partition, not growing anything.", path);
                return 0;
        }
        real = realpath(sysdir, NULL);
        if (!real)
                return log_error_errno(errno, "Failed to resolve '%s': %m", sysdir);
        {
                const char *base;
                r = path_split(real, &diskdir, &base);
                if (r < 0)
                        return log_oom();
                if (asprintf(&diskdev, "/dev/%s", strrchr(diskdir, '/') + 1) < 0)
                        return log_oom();
        }

        fd = open(diskdev, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open disk '%s': %m", diskdev);
        /* udev and other partitioners take the same lock on the whole disk. */
        if (flock(fd, LOCK_EX) < 0)
                return log_error_errno(errno, "Failed to lock '%s': %m", diskdev);
        if (ioctl(fd, BLKGETSIZE64, &disk_bytes) < 0 || ioctl(fd, BLKSSZGET, &sector_size) < 0)
                return log_error_errno(errno, "Failed to query the size of '%s': %m", diskdev);
        if (pread(fd, s0, sizeof s0, 0) != (ssize_t) sizeof s0)
                return log_error_errno(errno ?: EIO, "Failed to read the partition table of '%s': %m", diskdev);

        lastno = mbr_last_partition(s0);
        if (lastno == -EPROTOTYPE) {
                r = gpt_read(fd, (uint32_t) sector_size, &gpt);
                if (r < 0)
                        return log_error_errno(r, "Cannot read the GPT of '%s': %m", diskdev);
                is_gpt = true;
                lastno = gpt_last_partition(&gpt);
        }
        if (lastno < 0) {
                log_info("'%s' has no partition table, not growing anything.", diskdev);
                return 0;
        }

        /* The kernel's view of that partition: /sys/block/DISK/DISKpN. */
        d = opendir(diskdir);
        if (!d)
                return log_error_errno(errno, "Failed to open '%s': %m", diskdir);
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *pd = NULL;
                uint64_t no, size;
                _cleanup_free_ char *devtext = NULL, *devpath = NULL;
                unsigned ma, mi;

                if (de->d_name[0] == '.')
                        continue;
                if (asprintf(&pd, "%s/%s", diskdir, de->d_name) < 0) {
                        closedir(d);
                        return log_oom();
                }
                if (read_sysfs_u64(pd, "partition", &no) < 0 || no != (uint64_t) lastno)
                        continue;
                if (read_sysfs_u64(pd, "start", &start512) < 0 || read_sysfs_u64(pd, "size", &size) < 0)
                        continue;
                if (asprintf(&devpath, "%s/dev", pd) < 0 || read_full_file(devpath, &devtext, NULL, 4096) < 0 ||
                    sscanf(devtext, "%u:%u", &ma, &mi) != 2)
                        continue;
                snprintf(last.name, sizeof last.name, "%s", de->d_name);
                last.partno = (unsigned) no;
                last.start512 = start512;
                last.size512 = size;
                last.dev = makedev(ma, mi);
        }
        closedir(d);
        if (last.partno == 0)
                return log_error_errno(ENOENT, "The kernel does not know partition %d of '%s'.", lastno,
                                       diskdev);
        if (asprintf(&partdev, "/dev/%s", last.name) < 0)
                return log_oom();

        /* 1. The table. */
        disk_sectors = disk_bytes / (uint64_t) sector_size;
        if (is_gpt)
                r = gpt_plan_grow(&gpt, (unsigned) lastno, disk_sectors, (uint32_t) sector_size, &plan);
        else
                r = mbr_plan_grow(s0, (unsigned) lastno, disk_sectors, (uint32_t) sector_size, &plan);
        if (r < 0)
                return log_error_errno(r, "Cannot grow partition %d of '%s': %m", lastno, diskdev);
        if (r > 0 && plan.start * (uint64_t) sector_size != last.start512 * 512)
                return log_error_errno(EINVAL,
                                       "Partition %d of '%s' starts elsewhere in the table than in the kernel, "
                                       "not touching it.",
                                       lastno, diskdev);
        if (is_gpt && (r > 0 || get_le64(gpt.hdr + 32) != disk_sectors - 1)) {
                /* Also when the partition cannot grow: the backup table belongs at the new disk end. */
                int k = gpt_write(fd, &gpt, r > 0 ? &plan : NULL, disk_sectors, (uint32_t) sector_size, s0);
                if (k < 0)
                        return log_error_errno(k, "Failed to write the GPT of '%s': %m", diskdev);
                if (r == 0)
                        log_info("Moved the backup GPT of '%s' to the disk end.", diskdev);
                changed = 1;
        } else if (r > 0) {
                mbr_apply_plan(s0, &plan);
                if (pwrite(fd, s0, sizeof s0, 0) != (ssize_t) sizeof s0 || fsync(fd) < 0)
                        return log_error_errno(errno ?: EIO, "Failed to write the partition table of '%s': %m",
                                               diskdev);
        }
        if (r > 0) {
                log_info("Grew partition %d of '%s' from %llu to %llu sectors.", lastno, diskdev,
                         (unsigned long long) plan.old_size, (unsigned long long) plan.new_size);
                changed = 1;
        }

        /* 2. The kernel. */
        uint64_t table_bytes = plan.new_size * (uint64_t) sector_size;
        if (last.size512 * 512 < table_bytes) {
                struct blkpg_partition bp = {
                        .start = (long long) (plan.start * (uint64_t) sector_size),
                        .length = (long long) table_bytes,
                        .pno = (int) plan.partno,
                };
                struct blkpg_ioctl_arg arg = { .op = BLKPG_RESIZE_PARTITION, .datalen = sizeof bp, .data = &bp };

                if (ioctl(fd, BLKPG, &arg) < 0)
                        return log_error_errno(errno, "Failed to tell the kernel the new size of '%s': %m", partdev);
                log_info("Kernel partition '%s' resized to %llu bytes.", partdev, (unsigned long long) table_bytes);
                changed = 1;
        }
        fd = safe_close(fd);   /* drop the lock before the filesystem work */

        /* 3. The filesystem, if it is mounted. */
        where = find_mount(last.dev);
        if (!where) {
                log_info("'%s' is not mounted, its filesystem is not resized online.", partdev);
                return changed;
        }
        r = grow_fs(where, partdev, table_bytes);
        if (r < 0)
                return r;
        return changed || r > 0;
}
