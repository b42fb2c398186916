/**
 * Growing the last partition of a disk to the disk's end, and its ext4 online.
 *
 * The MBR is edited in place (no libfdisk: Debian ships no static one): the entry of partition N
 * (446 + 16 * (N - 1); start LBA at +8, sector count at +12, little-endian) gets the new count, the
 * end capped at the disk end, the 2^32 sector limit and any partition that starts after it, and
 * rounded down to a 1 MiB boundary. The kernel learns the new size through BLKPG_RESIZE_PARTITION
 * (BLKRRPART fails with EBUSY while the disk is in use), the filesystem through EXT4_IOC_RESIZE_FS.
 * GPT disks (vendor cloud images) get the same: the entry's last LBA grows, the backup header and
 * entries move to the new disk end, both CRCs are recomputed, and the protective MBR is updated.
 * Each of the three stages checks first, so a run interrupted anywhere completes on the next boot.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define GROW_ALIGN_BYTES (1024U * 1024U)

typedef struct GrowPlan {
        unsigned partno;          /* 1..4 */
        uint64_t start;           /* logical sectors */
        uint64_t old_size;
        uint64_t new_size;
} GrowPlan;

/* Plans growing primary partition partno of the MBR in sector0 on a disk of disk_sectors logical
 * sectors of sector_size bytes. Returns 1 with a plan, 0 if it already ends within 1 MiB of the
 * possible end, -EMEDIUMTYPE if there is no MBR, -EPROTOTYPE for a GPT (protective MBR), -ENOENT
 * if the partition does not exist, -ERANGE if the table does not fit the disk. */
int mbr_plan_grow(const uint8_t sector0[512], unsigned partno, uint64_t disk_sectors, uint32_t sector_size,
                  GrowPlan *ret);
/* Writes the planned size into the entry. */
void mbr_apply_plan(uint8_t sector0[512], const GrowPlan *plan);
/* The partition number of the primary partition that starts last, or -ENOENT. */
int mbr_last_partition(const uint8_t sector0[512]);

/* GPT: the primary header and entries, checked (signature, CRCs) by gpt_parse(). */
typedef struct Gpt {
        uint8_t hdr[512];
        uint8_t *entries;
        size_t entries_len;
        uint32_t n_entries, entry_size;
} Gpt;

uint32_t crc32_ieee(const void *data, size_t len);
int gpt_parse(const uint8_t *hdr, const uint8_t *entries, size_t entries_len, Gpt *ret);
void gpt_done(Gpt *g);
int gpt_last_partition(const Gpt *g);
/* As mbr_plan_grow(); 1 if the partition grows, 0 if only the backup table may move, -ERANGE if
 * the partition is not the last one or the table does not fit the disk. */
int gpt_plan_grow(const Gpt *g, unsigned partno, uint64_t disk_sectors, uint32_t sector_size, GrowPlan *ret);
int gpt_write(int fd, Gpt *g, const GrowPlan *plan, uint64_t disk_sectors, uint32_t sector_size, uint8_t sector0[512]);

/* Grows the last partition of the disk that holds the filesystem mounted at path (the agent root),
 * then the ext4 on it if mounted. Returns 1 if something changed, 0 if nothing to do, <0 on error
 * (logged). MBR and GPT disks. */
int grow_last_partition(const char *path);
