/**
 * GRUB i386-pc boot code for a raw disk (see disk-boot.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "disk/bootcode.h"
#include "disk/util.h"
#include "source/tarball.h"
#include "escape.h"
#include "fileio.h"
#include "macro.h"
#include "reterr.h"
#include "spawn.h"

/* Modules linked into the core image: enough to find the root by UUID on an MBR disk, read ext4,
 * talk over the serial port and boot Linux with an initrd. */
static const char *const grub_modules[] = {
        "biosdisk", "part_msdos", "ext2",   "search",   "search_fs_uuid", "normal", "linux",
        "boot",     "serial",     "terminal", "echo",   "test",           "configfile", "gzio",
};

int grub_boot_code(const uint8_t *boot_img, size_t len, uint64_t core_lba, uint8_t ret[MBR_BOOT_CODE_SIZE]) {
        uint8_t code[MBR_BOOT_CODE_SIZE];

        if (!boot_img || len != MBR_SECTOR_SIZE || boot_img[510] != 0x55 || boot_img[511] != 0xaa)
                return -EINVAL;

        memcpy(code, boot_img, sizeof code);
        for (unsigned i = 0; i < 8; i++)
                code[GRUB_BOOT_KERNEL_SECTOR + i] = (core_lba >> (8 * i)) & 0xff;
        code[GRUB_BOOT_DRIVE] = 0xff;
        /* Some BIOSes pass a wrong drive number: for a hard disk, grub-bios-setup replaces the
         * jump over the drive check with two NOPs, which makes boot.img trust 0x80 and up. */
        code[GRUB_BOOT_DRIVE_CHECK] = 0x90;
        code[GRUB_BOOT_DRIVE_CHECK + 1] = 0x90;

        memcpy(ret, code, sizeof code);
        return 0;
}

int grub_core_patch(uint8_t *core_img, size_t len, uint64_t core_lba) {
        /* struct grub_boot_blocklist { uint64 start; uint16 len; uint16 segment; } at the end of the
         * first sector, followed (downwards) by a terminating all-zero entry. */
        uint8_t *bl = core_img + MBR_SECTOR_SIZE - 12, *term = bl - 12;
        uint64_t start = core_lba + 1, sectors;

        if (!core_img || len < 2 * MBR_SECTOR_SIZE)
                return -EINVAL;
        sectors = DIV_ROUND_UP(len, MBR_SECTOR_SIZE) - 1;
        if (sectors > UINT16_MAX)
                return -E2BIG;

        for (unsigned i = 0; i < 8; i++)
                bl[i] = (start >> (8 * i)) & 0xff;
        bl[8] = sectors & 0xff;
        bl[9] = (sectors >> 8) & 0xff;
        bl[10] = 0x20; /* segment 0x820: right after the first sector loaded at 0x8000 */
        bl[11] = 0x08;
        memset(term, 0, 12);
        return 0;
}

int grub_config_text(const char *kernel, const char *initrd, const char *root_uuid, const char *cmdline,
                     char **ret, char **reterr) {
        _cleanup_free_ char *qkernel = NULL, *qinitrd = NULL, *quuid = NULL, *root_arg = NULL, *qroot_arg = NULL,
                            *qcmdline = NULL, *initrd_line = NULL;
        size_t bad = 0;
        int r;

        /* Everything from the base or the profile is quoted with GRUB's rules: a file name or a
         * command line must never end the menu entry or run a GRUB command. */
        r = grub_quote(kernel, &qkernel);
        if (r < 0)
                return reterr_printf(reterr, r, "kernel file name '%s' holds a control character", kernel);
        if (initrd) {
                r = grub_quote(initrd, &qinitrd);
                if (r < 0)
                        return reterr_printf(reterr, r, "initrd file name '%s' holds a control character", initrd);
                if (asprintf(&initrd_line, "        initrd %s\n", qinitrd) < 0)
                        return -ENOMEM;
        }
        if (asprintf(&root_arg, "root=UUID=%s", root_uuid) < 0)
                return -ENOMEM;
        r = grub_quote(root_uuid, &quuid);
        if (r >= 0)
                r = grub_quote(root_arg, &qroot_arg);
        if (r < 0)
                return reterr_printf(reterr, r, "root UUID '%s' holds a control character", root_uuid);
        if (kernel_cmdline_check(strempty_or(cmdline), &bad) < 0)
                return reterr_printf(reterr, -EINVAL,
                                     "kernel_cmdline: character 0x%02x at offset %zu cannot be passed through GRUB "
                                     "(no quotes, backslashes, $ ` ; & | < > { } ( ) # or control characters)",
                                     (unsigned) (unsigned char) cmdline[bad], bad);
        r = grub_quote_cmdline(strempty_or(cmdline), &qcmdline);
        if (r < 0)
                return r;

        if (asprintf(ret,
                     "# /boot/grub/grub.cfg, written by appliance-builder.\n"
                     "# The BIOS boot code is GRUB's i386-pc core image in sectors 1..2047 of the disk.\n"
                     "serial --unit=0 --speed=115200\n"
                     "terminal_input serial console\n"
                     "terminal_output serial console\n"
                     "set default=0\n"
                     "set timeout=1\n"
                     "\n"
                     "menuentry 'Appliance' {\n"
                     "        search --no-floppy --fs-uuid --set=root %s\n"
                     "        linux %s %s 'ro'%s%s\n"
                     "%s"
                     "}\n",
                     quuid, qkernel, qroot_arg, isempty(qcmdline) ? "" : " ", qcmdline, strempty_or(initrd_line)) < 0)
                return -ENOMEM;
        return 0;
}

/* Compares Debian kernel versions well enough to pick the newest "6.1.0-50-cloud-amd64". */
static int version_cmp(const char *a, const char *b) {
        while (*a && *b) {
                if (isdigit_c(*a) && isdigit_c(*b)) {
                        char *ea, *eb;
                        unsigned long long x = strtoull(a, &ea, 10), y = strtoull(b, &eb, 10);
                        if (x != y)
                                return x < y ? -1 : 1;
                        a = ea;
                        b = eb;
                        continue;
                }
                if (*a != *b)
                        return (unsigned char) *a < (unsigned char) *b ? -1 : 1;
                a++;
                b++;
        }
        return *a ? 1 : *b ? -1 : 0;
}

/* A regular file at path of the tree, symlinks resolved inside it (Debian's /vmlinuz is one). */
static bool root_has(const char *root, const char *path) {
        struct stat st;

        return rootfs_stat(root, path, true, &st) >= 0 && S_ISREG(st.st_mode);
}

int grub_find_kernel(const char *root, char **ret_kernel, char **ret_initrd) {
        _cleanup_free_ char *best = NULL, *kernel = NULL, *initrd = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int r;

        if (root_has(root, "/vmlinuz")) {
                kernel = strdup("/vmlinuz");
                if (!kernel)
                        return -ENOMEM;
                if (root_has(root, "/initrd.img") && !(initrd = strdup("/initrd.img")))
                        return -ENOMEM;
                *ret_kernel = TAKE_PTR(kernel);
                *ret_initrd = TAKE_PTR(initrd);
                return 0;
        }

        r = rootfs_open_dir(root, "/boot", &d);
        if (r < 0)
                return r;
        while ((de = readdir(d))) {
                const char *v;

                if (!startswith(de->d_name, "vmlinuz-"))
                        continue;
                v = de->d_name + strlen("vmlinuz-");
                if (!best || version_cmp(v, best) > 0) {
                        free(best);
                        best = strdup(v);
                        if (!best)
                                return -ENOMEM;
                }
        }
        if (!best)
                return -ENOENT;

        if (asprintf(&kernel, "/boot/vmlinuz-%s", best) < 0 || asprintf(&initrd, "/boot/initrd.img-%s", best) < 0)
                return -ENOMEM;
        if (!root_has(root, initrd))
                initrd = mfree(initrd);
        *ret_kernel = TAKE_PTR(kernel);
        *ret_initrd = TAKE_PTR(initrd);
        return 0;
}

int grub_install_core(int fd, const char *root_uuid, const char *tmpdir, uint8_t ret[MBR_BOOT_CODE_SIZE],
                      char **reterr) {
        _cleanup_free_ char *early = NULL, *early_path = NULL, *core_path = NULL, *boot_img = NULL,
                            *core = NULL, *out = NULL;
        const char *argv[8 + ELEMENTSOF(grub_modules) + 1];
        size_t boot_len = 0, core_len = 0, k = 0;
        uint8_t code[MBR_BOOT_CODE_SIZE];
        int r;

        r = read_full_file(GRUB_I386_PC_DIR "/boot.img", &boot_img, &boot_len, 4096);
        if (r < 0)
                return asprintf(reterr, "cannot read GRUB's '%s/boot.img' (is grub-pc-bin installed?): %s",
                                GRUB_I386_PC_DIR, strerror(-r)) < 0 ? -ENOMEM : r;
        r = grub_boot_code((const uint8_t *) boot_img, boot_len, 1, code);
        if (r < 0)
                return asprintf(reterr, "'%s/boot.img' is not a GRUB boot sector", GRUB_I386_PC_DIR) < 0 ? -ENOMEM : r;

        if (asprintf(&early,
                     "search --no-floppy --fs-uuid --set=root %s\n"
                     "set prefix=($root)/boot/grub\n",
                     root_uuid) < 0 ||
            asprintf(&early_path, "%s/grub-early.cfg", tmpdir) < 0 ||
            asprintf(&core_path, "%s/grub-core.img", tmpdir) < 0)
                return -ENOMEM;
        r = write_file_atomic(early_path, early, strlen(early), 0644);
        if (r < 0)
                return asprintf(reterr, "cannot write '%s': %s", early_path, strerror(-r)) < 0 ? -ENOMEM : r;

        argv[k++] = "grub-mkimage";
        argv[k++] = "--format=i386-pc";
        argv[k++] = "--directory=" GRUB_I386_PC_DIR;
        argv[k++] = "--prefix=/boot/grub";
        argv[k++] = "--config";
        argv[k++] = early_path;
        argv[k++] = "--output";
        argv[k++] = core_path;
        for (size_t i = 0; i < ELEMENTSOF(grub_modules); i++)
                argv[k++] = grub_modules[i];
        argv[k] = NULL;

        r = spawn_capture((char *const *) argv, NULL, 0, SPAWN_STDERR_TO_STDOUT, &out, NULL);
        if (r == -ENOENT)
                return asprintf(reterr, "grub-mkimage not found (install grub-common and grub-pc-bin)") < 0 ? -ENOMEM : r;
        if (r != 0)
                return asprintf(reterr, "grub-mkimage failed (%d): %s", r, strempty_or(out)) < 0 ? -ENOMEM : -EIO;

        r = read_full_file(core_path, &core, &core_len, 4 << 20);
        if (r < 0)
                return asprintf(reterr, "cannot read the core image '%s': %s", core_path, strerror(-r)) < 0 ? -ENOMEM : r;
        if (1 + DIV_ROUND_UP(core_len, MBR_SECTOR_SIZE) > MBR_FIRST_LBA)
                return asprintf(reterr, "GRUB core image of %zu bytes does not fit in front of the first partition",
                                core_len) < 0 ? -ENOMEM : -E2BIG;
        r = grub_core_patch((uint8_t *) core, core_len, 1);
        if (r < 0)
                return asprintf(reterr, "GRUB core image of %zu bytes cannot be patched", core_len) < 0 ? -ENOMEM : r;

        if (pwrite(fd, core, core_len, MBR_SECTOR_SIZE) != (ssize_t) core_len)
                return asprintf(reterr, "cannot write the GRUB core image: %m") < 0 ? -ENOMEM : -EIO;

        memcpy(ret, code, sizeof code);
        return 0;
}
