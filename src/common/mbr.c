/**
 * MBR arithmetic and encoding (see disk-mbr.h).
 */
#include <errno.h>
#include <string.h>

#include "mbr.h"
#include "macro.h"
#include "unaligned.h"

#define MBR_TABLE_OFFSET 446U
#define MBR_SIGNATURE_OFFSET 440U
#define MBR_MAX_LBA UINT64_C(0xffffffff)

int mbr_layout(const uint64_t *sizes, size_t n, MbrPartition *ret, uint64_t *ret_disk_bytes) {
        const uint64_t align = MBR_ALIGN_BYTES / MBR_SECTOR_SIZE;
        MbrPartition parts[MBR_MAX_PARTITIONS] = {};
        uint64_t next = MBR_FIRST_LBA;

        if (n == 0 || n > MBR_MAX_PARTITIONS)
                return -EINVAL;

        for (size_t i = 0; i < n; i++) {
                uint64_t sectors;

                if (sizes[i] == 0)
                        return -EINVAL;
                if (sizes[i] > (MBR_MAX_LBA + 1) * MBR_SECTOR_SIZE)
                        return -E2BIG;
                sectors = ALIGN_TO(DIV_ROUND_UP(sizes[i], MBR_SECTOR_SIZE), align);
                /* The last sector of every partition must be addressable with a 32-bit LBA. */
                if (next + sectors - 1 > MBR_MAX_LBA)
                        return -E2BIG;
                parts[i] = (MbrPartition) {
                        .start = next,
                        .size = sectors,
                        .type = MBR_TYPE_LINUX,
                        .bootable = i == 0,
                };
                next += sectors;
        }

        memcpy(ret, parts, n * sizeof(MbrPartition));
        *ret_disk_bytes = next * MBR_SECTOR_SIZE;
        return 0;
}

void mbr_lba_to_chs(uint64_t lba, uint8_t ret[3]) {
        const uint64_t heads = 255, spt = 63;
        uint64_t c = lba / (heads * spt), h = (lba / spt) % heads, s = lba % spt + 1;

        if (c > 1023) {
                ret[0] = 0xfe;
                ret[1] = 0xff;
                ret[2] = 0xff;
                return;
        }
        ret[0] = (uint8_t) h;
        ret[1] = (uint8_t) (s | ((c >> 2) & 0xc0));
        ret[2] = (uint8_t) (c & 0xff);
}

int mbr_build(uint8_t sector[MBR_SECTOR_SIZE], const uint8_t *boot_code, uint32_t disk_signature,
              const MbrPartition *parts, size_t n) {
        if (n > MBR_MAX_PARTITIONS)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (parts[i].size == 0 || parts[i].start == 0 || parts[i].start > MBR_MAX_LBA ||
                    parts[i].size > MBR_MAX_LBA || parts[i].start + parts[i].size - 1 > MBR_MAX_LBA)
                        return -EINVAL;

        memset(sector, 0, MBR_SECTOR_SIZE);
        if (boot_code)
                memcpy(sector, boot_code, MBR_BOOT_CODE_SIZE);
        put_le32(sector + MBR_SIGNATURE_OFFSET, disk_signature);

        for (size_t i = 0; i < n; i++) {
                uint8_t *e = sector + MBR_TABLE_OFFSET + 16 * i;

                e[0] = parts[i].bootable ? 0x80 : 0x00;
                mbr_lba_to_chs(parts[i].start, e + 1);
                e[4] = parts[i].type;
                mbr_lba_to_chs(parts[i].start + parts[i].size - 1, e + 5);
                put_le32(e + 8, (uint32_t) parts[i].start);
                put_le32(e + 12, (uint32_t) parts[i].size);
        }

        sector[510] = 0x55;
        sector[511] = 0xaa;
        return 0;
}

int mbr_parse(const uint8_t sector[MBR_SECTOR_SIZE], MbrPartition ret[MBR_MAX_PARTITIONS],
              uint32_t *ret_disk_signature) {
        int n = 0;

        if (sector[510] != 0x55 || sector[511] != 0xaa)
                return -EBADMSG;

        for (size_t i = 0; i < MBR_MAX_PARTITIONS; i++) {
                const uint8_t *e = sector + MBR_TABLE_OFFSET + 16 * i;

                if (e[4] == 0)
                        continue;
                ret[n++] = (MbrPartition) {
                        .start = get_le32(e + 8),
                        .size = get_le32(e + 12),
                        .type = e[4],
                        .bootable = e[0] == 0x80,
                };
        }
        if (ret_disk_signature)
                *ret_disk_signature = get_le32(sector + MBR_SIGNATURE_OFFSET);
        return n;
}
