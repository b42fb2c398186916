/**
 * The BIOS bootloader, installed without mounting anything: GRUB 2 for i386-pc from the build
 * host (grub-pc-bin). The MBR carries GRUB's boot.img (patched as grub-bios-setup would for a hard
 * disk); the core image, built by grub-mkimage with every module it needs (biosdisk, part_msdos,
 * ext2, linux, serial, ...) and an early config that finds the root filesystem by UUID, goes into
 * sectors 1..2047 in front of the first partition. GRUB reads /boot/grub/grub.cfg from the root
 * filesystem by path, so no block lists inside the filesystem have to be maintained.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "mbr.h"

#define GRUB_I386_PC_DIR "/usr/lib/grub/i386-pc"

/* Offsets inside boot.img (grub-core/boot/i386/pc/boot.S, include/grub/i386/pc/boot.h). */
#define GRUB_BOOT_KERNEL_SECTOR 0x5c /* LE64: LBA of the first core image sector */
#define GRUB_BOOT_DRIVE 0x64         /* 0xff: use the drive the BIOS booted from */
#define GRUB_BOOT_DRIVE_CHECK 0x66   /* a 2-byte jump that hard disks replace with two NOPs */

/* Derives the 440-byte MBR boot code from boot.img for a core image at core_lba. -EINVAL if
 * boot.img is not 512 bytes or does not look like GRUB's (no 0x55aa). */
int grub_boot_code(const uint8_t *boot_img, size_t len, uint64_t core_lba, uint8_t ret[MBR_BOOT_CODE_SIZE]);

/* Points the first block list of core.img (the end of its first sector) at the sectors following
 * core_lba. -EINVAL if the image is shorter than two sectors. */
int grub_core_patch(uint8_t *core_img, size_t len, uint64_t core_lba);

/* Text of /boot/grub/grub.cfg: serial console, one entry booting kernel/initrd (paths inside the
 * root filesystem; initrd may be NULL) with "root=UUID=<uuid> ro <cmdline>", every value quoted
 * with GRUB's rules (escape.h). -EINVAL with a message naming the value if one cannot be written
 * (a control character in a file name, a kernel_cmdline that kernel_cmdline_check() refuses). */
int grub_config_text(const char *kernel, const char *initrd, const char *root_uuid, const char *cmdline,
                     char **ret, char **reterr);

/* Finds the kernel and initrd in an extracted root: /vmlinuz and /initrd.img when they are there
 * (Debian keeps them pointing at the newest kernel), else the newest /boot/vmlinuz-VERSION.
 * Paths are returned as seen from the root ("/vmlinuz"); *ret_initrd may be NULL. -ENOENT if the
 * root has no kernel. */
int grub_find_kernel(const char *root, char **ret_kernel, char **ret_initrd);

/* Builds the core image with grub-mkimage (scratch files in tmpdir), writes it at sector 1 of
 * the disk open as fd and returns the MBR boot code. The caller then writes sector 0 with
 * mbr_build(). -ENOENT if GRUB's i386-pc files are missing, -E2BIG if the core image does not fit
 * in front of the first partition. *reterr gets a message on failure. */
int grub_install_core(int fd, const char *root_uuid, const char *tmpdir, uint8_t ret[MBR_BOOT_CODE_SIZE],
                      char **reterr);
