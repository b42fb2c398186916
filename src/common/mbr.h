/**
 * DOS MBR partition tables: layout arithmetic and the 512-byte sector, without any I/O.
 *
 * Partitions start on 1 MiB boundaries (the first at sector 2048, which leaves room for the
 * bootloader's core image in sectors 1..2047) and are numbered in physical order, so the last entry
 * is the one that can grow into space appended to the disk. Sizes are rounded up to whole MiB.
 * MBR entries hold 32-bit LBAs: a disk may not reach beyond 2^32 sectors (2 TiB).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MBR_SECTOR_SIZE 512U
#define MBR_ALIGN_BYTES (1024U * 1024U)
#define MBR_FIRST_LBA 2048U
#define MBR_MAX_PARTITIONS 4U
#define MBR_BOOT_CODE_SIZE 440U /* bytes before the disk signature */
#define MBR_TYPE_LINUX 0x83

typedef struct MbrPartition {
        uint64_t start;  /* first sector */
        uint64_t size;   /* sectors */
        uint8_t type;    /* 0x83 */
        bool bootable;
} MbrPartition;

/* Lays out n partitions of the given byte sizes one after the other. Fills ret[0..n) (type 0x83,
 * the first one bootable) and *ret_disk_bytes (the end of the last partition). -EINVAL for n == 0,
 * n > 4 or a zero size, -E2BIG if the disk would exceed what MBR can address. */
int mbr_layout(const uint64_t *sizes, size_t n, MbrPartition *ret, uint64_t *ret_disk_bytes);

/* Converts an LBA to the legacy 3-byte CHS encoding (255 heads, 63 sectors per track); LBAs beyond
 * cylinder 1023 give the conventional 0xfe 0xff 0xff. */
void mbr_lba_to_chs(uint64_t lba, uint8_t ret[3]);

/* Builds sector 0: boot code (first 440 bytes of boot_code, or zeros if NULL), the disk signature,
 * up to 4 entries and 0x55 0xaa. -EINVAL if an entry does not fit in 32-bit LBAs. */
int mbr_build(uint8_t sector[MBR_SECTOR_SIZE], const uint8_t *boot_code, uint32_t disk_signature,
              const MbrPartition *parts, size_t n);

/* Parses sector 0 (for verification and tests): fills up to 4 non-empty entries in order and the
 * signature. -EBADMSG without the 0x55 0xaa marker. Returns the number of entries. */
int mbr_parse(const uint8_t sector[MBR_SECTOR_SIZE], MbrPartition ret[MBR_MAX_PARTITIONS],
              uint32_t *ret_disk_signature);
