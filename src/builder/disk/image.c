/**
 * Disk image assembly (see disk-image.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chase.h"
#include "cleanup.h"
#include "crypto.h"
#include "escape.h"
#include "disk/bootcode.h"
#include "disk/env-bake.h"
#include "disk/image.h"
#include "disk/prefill.h"
#include "disk/package.h"
#include "disk/sbom.h"
#include "disk/util.h"
#include "lib/ext2.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"
#include "disk/progress.h"
#include "random-util.h"
#include "reterr.h"
#include "spawn.h"
#include "strv.h"

int image_formats_from_string(const char *s, unsigned *ret) {
        _cleanup_strv_free_ char **l = NULL;
        unsigned f = 0;

        if (strv_split(s, ", ", &l) < 0)
                return -ENOMEM;
        STRV_FOREACH(i, l) {
                if (streq(*i, "raw"))
                        f |= IMAGE_FORMAT_RAW;
                else if (streq(*i, "qcow2"))
                        f |= IMAGE_FORMAT_QCOW2;
                else if (streq(*i, "vmdk"))
                        f |= IMAGE_FORMAT_VMDK;
                else if (streq(*i, "box"))
                        f |= IMAGE_FORMAT_BOX | IMAGE_FORMAT_QCOW2 | IMAGE_FORMAT_VMDK;
                else if (streq(*i, "ova"))
                        f |= IMAGE_FORMAT_OVA | IMAGE_FORMAT_QCOW2;
                else
                        return -EINVAL;
        }
        if (f == 0)
                return -EINVAL;
        *ret = f;
        return 0;
}

static int make_uuid(char ret[37]) {
        uint8_t b[16];
        int r = random_bytes(b, sizeof b);

        if (r < 0)
                return r;
        b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
        b[8] = (b[8] & 0x3f) | 0x80; /* RFC 4122 variant */
        snprintf(ret, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
                 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
        return 0;
}

/* 32 bytes from the plan's seed and WHAT. */
static int derive(const ImagePlan *plan, const char *what, uint8_t ret[static SHA256_DIGEST_SIZE]) {
        _cleanup_(sha256_freep) Sha256 *s = NULL;
        int r = sha256_new(&s);

        if (r >= 0)
                r = sha256_update(s, plan->seed, strlen(plan->seed));
        if (r >= 0)
                r = sha256_update(s, what, strlen(what) + 1);
        if (r >= 0)
                r = sha256_final(s, ret);
        return r;
}

static void format_uuid(const uint8_t b_in[16], char ret[37]) {
        uint8_t b[16];

        memcpy(b, b_in, sizeof b);
        b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
        b[8] = (b[8] & 0x3f) | 0x80; /* RFC 4122 variant */
        snprintf(ret, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
                 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

int image_plan_derive_ids(ImagePlan *plan, uint64_t epoch, const char *inputs) {
        _cleanup_(sha256_freep) Sha256 *s = NULL;
        uint8_t h[SHA256_DIGEST_SIZE];
        char t[32];
        int r;

        snprintf(t, sizeof t, "%" PRIu64 "\n", epoch);
        r = sha256_new(&s);
        if (r >= 0)
                r = sha256_update(s, "appliance-builder image ids\n", strlen("appliance-builder image ids\n"));
        if (r >= 0)
                r = sha256_update(s, t, strlen(t));
        if (r >= 0)
                r = sha256_update(s, inputs, strlen(inputs));
        if (r >= 0)
                r = sha256_final_hex(s, plan->seed);
        if (r < 0)
                return r;
        for (size_t i = 0; i < plan->n_fs; i++) {
                _cleanup_free_ char *what = NULL;
                if (asprintf(&what, "fs %zu %s", i, plan->fs[i].label) < 0)
                        return -ENOMEM;
                r = derive(plan, what, h);
                if (r < 0)
                        return r;
                format_uuid(h, plan->fs[i].uuid);
        }
        r = derive(plan, "disk signature", h);
        if (r < 0)
                return r;
        plan->disks[0].signature = ((uint32_t) h[0] << 24 | (uint32_t) h[1] << 16 | (uint32_t) h[2] << 8 | h[3]) | 1;
        plan->source_date_epoch = epoch;
        plan->reproducible = true;
        return 0;
}

int image_plan_relayout(ImagePlan *plan, char **reterr) {
        for (size_t d = 0; d < plan->n_disks; d++) {
                ImageDisk *disk = &plan->disks[d];
                uint64_t sizes[MBR_MAX_PARTITIONS];
                size_t idx[MBR_MAX_PARTITIONS], n = 0;
                int r;

                if (!disk->partitioned) {
                        for (size_t i = 0; i < plan->n_fs; i++)
                                if (plan->fs[i].disk == d) {
                                        plan->fs[i].size = ALIGN_TO(plan->fs[i].size, MBR_ALIGN_BYTES);
                                        disk->size = plan->fs[i].size;
                                        plan->fs[i].offset = 0;
                                }
                        continue;
                }
                for (size_t i = 0; i < plan->n_fs; i++)
                        if (plan->fs[i].disk == d) {
                                idx[n] = i;
                                sizes[n++] = plan->fs[i].size;
                        }
                r = mbr_layout(sizes, n, disk->parts, &disk->size);
                if (r == -E2BIG)
                        return reterr_printf(reterr, r, "disk '%s' would exceed the 2 TiB an MBR partition table can address (place large volumes on their own disk: 'place: disk')",
                                       disk->name);
                if (r < 0)
                        return reterr_printf(reterr, r, "cannot lay out disk '%s': %s", disk->name, strerror(-r));
                disk->n_parts = n;
                for (size_t k = 0; k < n; k++) {
                        ImageFs *fs = &plan->fs[idx[k]];
                        fs->partno = (unsigned) k + 1;
                        fs->offset = disk->parts[k].start * MBR_SECTOR_SIZE;
                        fs->size = disk->parts[k].size * MBR_SECTOR_SIZE;
                }
        }
        return 0;
}

int image_plan_make(uint64_t root_size, const ImageVolumeRequest *vols, size_t n_vols, unsigned formats,
                    ImagePlan *ret, char **reterr) {
        ImagePlan p = { .formats = formats };
        uint32_t sig;
        int r;

        if (n_vols > IMAGE_MAX_FS - 1)
                return reterr_printf(reterr, -EINVAL, "too many volumes");

        p.disks[p.n_disks++] = (ImageDisk) { .name = "disk", .partitioned = true };
        p.fs[p.n_fs++] = (ImageFs) {
                .label = "root",
                .mountpoint = "/",
                .size = root_size > 0 ? root_size : MBR_ALIGN_BYTES,
                .disk = 0,
                .from_tree = true,
        };
        for (size_t i = 0; i < n_vols; i++) {
                const ImageVolumeRequest *v = &vols[i];
                size_t disk = 0;

                if (v->place == PART_PLACE_NONE)
                        continue;
                if (v->size == 0)
                        return reterr_printf(reterr, -EINVAL, "volume '%s' has no size", v->label);
                if (v->place == PART_PLACE_DISK) {
                        disk = p.n_disks;
                        p.disks[p.n_disks++] = (ImageDisk) { .name = v->label, .partitioned = false };
                }
                p.fs[p.n_fs++] = (ImageFs) {
                        .label = v->label,
                        .mountpoint = v->mountpoint,
                        .size = v->size,
                        .disk = disk,
                };
        }
        for (size_t i = 0; i < p.n_fs; i++) {
                r = make_uuid(p.fs[i].uuid);
                if (r < 0)
                        return reterr_printf(reterr, r, "cannot generate a UUID: %s", strerror(-r));
        }
        r = random_bytes(&sig, sizeof sig);
        if (r < 0)
                return reterr_printf(reterr, r, "cannot generate a disk signature: %s", strerror(-r));
        p.disks[0].signature = sig | 1; /* never 0 */

        r = image_plan_relayout(&p, reterr);
        if (r < 0)
                return r;
        *ret = p;
        return 0;
}

static const char *const format_ext[] = { "raw", "qcow2", "vmdk" };

void image_plan_print(const ImagePlan *plan, const char *output_dir) {
        char b[FORMAT_BYTES_MAX];

        printf("Plan:\n");
        for (size_t d = 0; d < plan->n_disks; d++) {
                const ImageDisk *disk = &plan->disks[d];

                printf("  disk '%s': %s, %s\n", disk->name, format_bytes(b, sizeof b, disk->size),
                       disk->partitioned ? "DOS MBR, GRUB (i386-pc) boot code" : "one ext4 filesystem, no partition table");
                for (size_t i = 0; i < plan->n_fs; i++) {
                        const ImageFs *fs = &plan->fs[i];
                        if (fs->disk != d)
                                continue;
                        if (disk->partitioned)
                                printf("    p%u  start %" PRIu64 "  %8s  ext4 LABEL=%s  %s%s\n", fs->partno,
                                       fs->offset / MBR_SECTOR_SIZE, format_bytes(b, sizeof b, fs->size), fs->label,
                                       fs->mountpoint, fs->partno == 1 ? "  (bootable)" : "");
                        else
                                printf("    %8s  ext4 LABEL=%s  %s\n", format_bytes(b, sizeof b, fs->size), fs->label,
                                       fs->mountpoint);
                }
        }
        if (plan->target) {
                const TargetRelease *t = plan->target;
                printf("Filesystems for %s %s (%s %s, Linux %s, e2fsprogs %s):\n", t->distribution, t->suite,
                       t->distribution, t->version, t->kernel, t->e2fsprogs);
                printf("  ext4 features: %s\n", t->ext4_features);
                printf("  inode size: %u\n", t->inode_size);
                printf("  supported by the release: %s\n", t->ext4_supported);
                printf("  journal features supported: %s\n", isempty(t->journal_supported) ? "(none)" : t->journal_supported);
        }
        printf("Outputs in '%s':\n", output_dir);
        for (size_t d = 0; d < plan->n_disks; d++)
                for (unsigned f = 0; f < ELEMENTSOF(format_ext); f++)
                        if (plan->formats & (1u << f))
                                printf("  %s.%s\n", plan->disks[d].name, format_ext[f]);
        printf("  SHA256SUMS\n  manifest.json\n  sbom.spdx.json\n");
        printf("Steps: extract, hygiene, install agent/profile/env, fstab, grub.cfg, mke2fs -d, MBR + GRUB, "
               "convert, checksums, manifest\n");
}

void image_result_step(ImageResult *res, const char *name, uint64_t usec) {
        if (res->n_steps < IMAGE_MAX_STEPS)
                res->steps[res->n_steps++] = (ImageStep) { .name = name, .usec = usec };
}

void image_result_done(ImageResult *r) {
        free(r->profile_digest);
        rootfs_info_done(&r->base);
        strv_free(r->packages);
        hygiene_report_done(&r->hygiene);
        for (size_t i = 0; i < r->n_outputs; i++)
                free(r->outputs[i].name);
        free(r->kernel_cmdline);
        free(r->generator);
        free(r->manifest);
        free(r->sbom);
        for (size_t i = 0; i < IMAGE_MAX_FS; i++) {
                free(r->volume_tree[i]);
                strv_free(r->prefilled[i]);
        }
        *r = (ImageResult) {};
}

/* ---- the tree ---- */

static char *fstab_text(const ImagePlan *plan) {
        _cleanup_free_ char *t = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&t, &len);

        if (!f)
                return NULL;
        fputs("# /etc/fstab, written by appliance-builder.\n"
              "# <file system>  <mount point>  <type>  <options>  <dump>  <pass>\n",
              f);
        for (size_t i = 0; i < plan->n_fs; i++) {
                const ImageFs *fs = &plan->fs[i];
                if (fs->from_tree)
                        fprintf(f, "UUID=%s  /  ext4  errors=remount-ro  0  1\n", fs->uuid);
                else {
                        _cleanup_free_ char *label = fstab_escape(fs->label), *where = fstab_escape(fs->mountpoint);
                        if (!label || !where) {
                                (void) fclose(f);
                                return NULL;
                        }
                        fprintf(f, "LABEL=%s  %s  ext4  defaults,nofail,x-systemd.device-timeout=30s  0  2\n", label,
                                where);
                }
        }
        if (fclose(f) != 0)
                return NULL;
        return TAKE_PTR(t);
}

int image_prepare_tree(const char *root, const ImagePlan *plan, const ImageInputs *in, ImageResult *res,
                       char **reterr) {
        _cleanup_free_ char *fstab = NULL, *kernel = NULL, *initrd = NULL, *cfg = NULL, *cmdline = NULL;
        const Profile *p = in->profile;
        int r;

        /* Hygiene first: it removes what the bootstrap left behind, and must not undo what is
         * installed deliberately below (profile files, agent units, env). */
        _cleanup_free_ char *why = NULL;
        r = hygiene_apply(root, &res->hygiene, &why);
        if (r < 0)
                return reterr_printf(reterr, r, "hygiene failed: %s", why ?: strerror(-r));

        /* The agent, its units and configuration. */
        if (in->agent_rootfs && access(in->agent_rootfs, F_OK) >= 0) {
                r = rootfs_copy_tree(in->agent_rootfs, root, "/");
                if (r < 0)
                        return reterr_printf(reterr, r, "cannot copy the agent files from '%s': %s", in->agent_rootfs,
                                       strerror(-r));
                log_info("Copied %d agent files from '%s'.", r, in->agent_rootfs);
        }
        if (in->agent_binary) {
                r = rootfs_install_file(root, in->agent_binary, "/usr/sbin/appliance-agent", 0755);
                if (r < 0)
                        return reterr_printf(reterr, r, "cannot install the agent '%s': %s", in->agent_binary, strerror(-r));
        }
        if (in->image_cloud_config) {
                r = rootfs_write_file(root, "/usr/share/appliance/cloud-config.d/90-image.cfg", in->image_cloud_config,
                                      strlen(in->image_cloud_config), 0644);
                if (r < 0)
                        return reterr_printf(reterr, r, "cannot write the image's cloud-config: %s", strerror(-r));
        }
        /* The env tools, for the manual's env-create.sh on an unconfigured appliance. */
        if (in->env_tool) {
                r = rootfs_install_file(root, in->env_tool, "/usr/sbin/appliance-env", 0755);
                if (r < 0)
                        return reterr_printf(reterr, r, "cannot install '%s': %s", in->env_tool, strerror(-r));
        }
        if (in->env_template) {
                r = rootfs_install_file(root, in->env_template, "/usr/share/appliance/env-template.yml", 0644);
                if (r < 0)
                        return reterr_printf(reterr, r, "cannot install '%s': %s", in->env_template, strerror(-r));
        }
        if (p && p->text) {
                r = rootfs_write_file(root, "/usr/share/appliance/profile.yml", p->text, p->text_len, 0644);
                if (r < 0)
                        return reterr_printf(reterr, r, "cannot write the profile into the image: %s", strerror(-r));
        }
        if (p && p->ec2_metadata) {
                /* The metadata service needs the network; the other env sources are local. */
                static const char dropin[] =
                        "# Written by appliance-builder: the profile reads the EC2 metadata service.\n"
                        "[Unit]\n"
                        "Wants=network-online.target\n"
                        "After=network-online.target\n";
                r = rootfs_write_file(root, "/etc/systemd/system/prepare-env.service.d/50-ec2-metadata.conf", dropin,
                                      strlen(dropin), 0644);
                if (r < 0)
                        return reterr_printf(reterr, r, "cannot write the prepare-env drop-in: %s", strerror(-r));
        }
        for (size_t i = 0; p && i < p->n_files; i++) {
                r = rootfs_write_file(root, p->files[i].path, p->files[i].content, strlen(p->files[i].content),
                                      p->files[i].mode);
                if (r < 0)
                        return reterr_printf(reterr, r, "%s: cannot write file '%s' into the image: %s", p->path,
                                       p->files[i].path, strerror(-r));
        }
        if (in->env_path) {
                r = image_env_validate(in->env_path, reterr);
                if (r < 0)
                        return r;
                r = rootfs_install_file(root, in->env_path, "/app/env.yml", 0600);
                if (r < 0)
                        return reterr_printf(reterr, r, "cannot bake env '%s': %s", in->env_path, strerror(-r));
                res->env_baked = true;
        }

        /* Mount points and fstab. */
        for (size_t i = 1; i < plan->n_fs; i++) {
                r = rootfs_mkdir_p(root, plan->fs[i].mountpoint, 0755);
                if (r < 0)
                        return reterr_printf(reterr, r, "cannot create the mount point '%s' in the tree: %s",
                                             plan->fs[i].mountpoint, strerror(-r));
        }
        fstab = fstab_text(plan);
        if (!fstab)
                return -ENOMEM;
        r = rootfs_write_file(root, "/etc/fstab", fstab, strlen(fstab), 0644);
        if (r < 0)
                return reterr_printf(reterr, r, "cannot write /etc/fstab: %s", strerror(-r));
        if (in->scratch) {
                PrefillVolume vols[IMAGE_MAX_FS] = {};
                size_t n = 0;

                for (size_t i = 1; i < plan->n_fs; i++)
                        vols[n++] = (PrefillVolume) { plan->fs[i].label, plan->fs[i].mountpoint, plan->fs[i].size };
                r = prefill_volumes(root, vols, n, in->scratch, plan->source_date_epoch, reterr);
                for (size_t i = 0; i < n; i++) {
                        res->volume_tree[i + 1] = TAKE_PTR(vols[i].tree);
                        res->prefilled[i + 1] = TAKE_PTR(vols[i].copied);
                }
                if (r < 0)
                        return r;
        }

        /* Bootloader configuration. */
        r = grub_find_kernel(root, &kernel, &initrd);
        if (r == -ENOENT)
                return reterr_printf(reterr, r, "the base has no kernel (/vmlinuz or /boot/vmlinuz-*): add a linux-image "
                                          "package to the profile");
        if (r < 0)
                return reterr_printf(reterr, r, "cannot look for the kernel: %s", strerror(-r));
        cmdline = strdup(in->kernel_cmdline ?: "console=tty0 console=ttyS0,115200");
        if (!cmdline)
                return -ENOMEM;
        r = grub_config_text(kernel, initrd, plan->fs[0].uuid, cmdline, &cfg, reterr);
        if (r < 0)
                return r;
        r = rootfs_write_file(root, "/boot/grub/grub.cfg", cfg, strlen(cfg), 0644);
        if (r < 0)
                return reterr_printf(reterr, r, "cannot write /boot/grub/grub.cfg: %s", strerror(-r));
        if (asprintf(&res->kernel_cmdline, "root=UUID=%s ro %s", plan->fs[0].uuid, cmdline) < 0)
                return -ENOMEM;

        r = rootfs_packages(root, &res->packages);
        if (r < 0)
                return reterr_printf(reterr, r, "cannot read the package list: %s", strerror(-r));
        r = image_sbom_json(root, res->profile ? res->profile->name : "image", plan->source_date_epoch, &res->sbom);
        if (r < 0)
                return reterr_printf(reterr, r, "cannot make the SBOM: %s", strerror(-r));

        if (plan->source_date_epoch > 0) {
                r = rootfs_clamp_mtimes(root, plan->source_date_epoch);
                if (r < 0)
                        return reterr_printf(reterr, r, "cannot clamp modification times: %s", strerror(-r));
        }
        return 0;
}

/* ---- writing the disks ---- */

typedef struct OutFile {
        AtomicFile f;
        char *name;
        bool is_output; /* committed into the output directory at the end */
        bool secret;    /* holds the baked env: 0600 from the first byte */
} OutFile;

static void out_file_done(OutFile *o) {
        atomic_file_done(&o->f);
        o->name = mfree(o->name);
}

static char *fd_path(int fd) {
        char *p;

        if (asprintf(&p, "/proc/%d/fd/%d", (int) getpid(), fd) < 0)
                return NULL;
        return p;
}

static int mkfs_one(const ImageFs *fs, const TargetRelease *release, int fd, const char *tree, uint64_t content,
                    uint64_t sde, char **reterr) {
        _cleanup_free_ char *target = fd_path(fd), *ext = NULL, *blocks = NULL, *out = NULL, *label = NULL,
                            *features = NULL, *inode = NULL;
        const char *argv[24];
        size_t k = 0;
        int r;

        if (!target)
                return -ENOMEM;
        if (asprintf(&ext, "offset=%" PRIu64 ",nodiscard,lazy_itable_init=1,lazy_journal_init=1,root_owner=0:0,hash_seed=%s",
                     fs->offset, fs->uuid) < 0 ||
            asprintf(&blocks, "%" PRIu64, fs->size / 4096) < 0 || asprintf(&label, "Writing filesystem '%s'", fs->label) < 0)
                return -ENOMEM;
        /* The feature set of the image's release, never the build host's mke2fs.conf defaults:
         * "none" first clears them. */
        if (asprintf(&features, "none,%s", release->ext4_features) < 0 ||
            asprintf(&inode, "%u", release->inode_size) < 0)
                return -ENOMEM;

        argv[k++] = "mke2fs";
        argv[k++] = "-q";
        argv[k++] = "-F";
        argv[k++] = "-t";
        argv[k++] = "ext4";
        argv[k++] = "-b";
        argv[k++] = "4096";
        argv[k++] = "-O";
        argv[k++] = features;
        argv[k++] = "-I";
        argv[k++] = inode;
        argv[k++] = "-m";
        argv[k++] = fs->from_tree ? "5" : "1";
        argv[k++] = "-L";
        argv[k++] = fs->label;
        argv[k++] = "-U";
        argv[k++] = fs->uuid;
        argv[k++] = "-E";
        argv[k++] = ext;
        if (tree) {
                argv[k++] = "-d";
                argv[k++] = tree;
        }
        argv[k++] = target;
        argv[k++] = blocks;
        argv[k] = NULL;

        if (sde > 0) {
                char t[32];
                snprintf(t, sizeof t, "%" PRIu64, sde);
                (void) setenv("E2FSPROGS_FAKE_TIME", t, 1);
        }
        r = progress_spawn((char *const *) argv, label, tree ? content : 0, &out);
        (void) unsetenv("E2FSPROGS_FAKE_TIME");
        if (r == -ENOENT)
                return reterr_printf(reterr, r, "mke2fs not found (install e2fsprogs)");
        if (r < 0)
                return reterr_printf(reterr, r, "cannot run mke2fs: %s", strerror(-r));
        if (r != 0) {
                /* mke2fs -d reports a full filesystem as "Could not allocate block" / "No space left". */
                if (out && (strstr(out, "allocate") || strstr(out, "No space left") || strstr(out, "too small")))
                        return reterr_printf(reterr, -ENOSPC, "filesystem '%s' (%" PRIu64 " MiB) is too small for the content: %s",
                                       fs->label, fs->size >> 20, strempty_or(out));
                return reterr_printf(reterr, -EIO, "mke2fs for '%s' failed (%d): %s", fs->label, r, strempty_or(out));
        }
        return 0;
}

/* In order (no -W) when reproducible: out-of-order writes place the clusters differently each run.
 * qemu compresses each cluster on its own: 1 MiB clusters make the root disk's qcow2 about 10%
 * smaller than the default 64 KiB at the same speed, but a read from a compressed cluster
 * decompresses all of it (README, "Images"). Volumes (empty filesystems the guest writes) keep
 * 64 KiB clusters: there is nothing to compress, and allocation stays fine-grained. */
static int convert_one(int src_fd, int dst_fd, unsigned format, uint64_t src_bytes, const char *name, bool in_order,
                       bool big_clusters, char **reterr) {
        _cleanup_free_ char *src = fd_path(src_fd), *dst = fd_path(dst_fd), *out = NULL, *label = NULL;
        const char *qcow2[] = { "qemu-img", "convert", "-W", "-f", "raw", "-O", "qcow2", "-c", "-o",
                                "compression_type=zstd,cluster_size=1M", src, dst, NULL };
        const char *vmdk[] = { "qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized",
                               src, dst, NULL };
        const char *raw[] = { "qemu-img", "convert", "-f", "raw", "-O", "raw", src, dst, NULL };
        int r;

        if (!big_clusters)
                qcow2[9] = "compression_type=zstd";
        if (in_order)
                memmove(qcow2 + 2, qcow2 + 3, sizeof qcow2 - 3 * sizeof qcow2[0]);
        if (!src || !dst || asprintf(&label, "%s %s", format == IMAGE_FORMAT_RAW ? "Copying" : "Converting to", name) < 0)
                return -ENOMEM;
        r = progress_spawn((char *const *) (format == IMAGE_FORMAT_QCOW2 ? qcow2 : format == IMAGE_FORMAT_VMDK ? vmdk : raw),
                           label, src_bytes, &out);
        if (r == -ENOENT)
                return reterr_printf(reterr, r, "qemu-img not found (install qemu-utils)");
        if (r < 0)
                return reterr_printf(reterr, r, "cannot run qemu-img: %s", strerror(-r));
        if (r != 0)
                return reterr_printf(reterr, -EIO, "qemu-img convert to '%s' failed (%d): %s", name, r, strempty_or(out));
        return 0;
}

/* Bytes of data (not holes) in a file. */
static uint64_t allocated_bytes(int fd) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return 0;
        return (uint64_t) st.st_blocks * 512;
}

typedef struct HashJob {
        const int *fds;
        ImageOutput *outs;
        int *results;
        size_t n, next;
        uint64_t done;
        unsigned running;
} HashJob;

static void *hash_worker(void *userdata) {
        HashJob *j = userdata;

        for (;;) {
                size_t i = __atomic_fetch_add(&j->next, 1, __ATOMIC_SEQ_CST);
                if (i >= j->n)
                        break;
                j->results[i] = sha256_fd_hex(j->fds[i], &j->done, j->outs[i].sha256);
        }
        __atomic_sub_fetch(&j->running, 1, __ATOMIC_SEQ_CST);
        return NULL;
}

/* Hashes n files on two threads (SHA-256 of multi-GiB sparse disks is CPU-bound). Returns the
 * index of the first failure in *ret_failed. */
static int sha256_many(const int *fds, ImageOutput *outs, size_t n, uint64_t total, size_t *ret_failed) {
        int results[IMAGE_MAX_OUTPUTS] = {};
        HashJob j = { .fds = fds, .outs = outs, .results = results, .n = n, .running = 2 };
        pthread_t t[2];
        unsigned started = 0;
        Progress p;

        progress_begin(&p, "Checksumming outputs", total);
        for (unsigned i = 0; i < 2; i++)
                if (pthread_create(&t[i], NULL, hash_worker, &j) == 0)
                        started++;
                else
                        __atomic_sub_fetch(&j.running, 1, __ATOMIC_SEQ_CST);
        if (started == 0)
                (void) hash_worker(&j), __atomic_add_fetch(&j.running, 1, __ATOMIC_SEQ_CST);
        while (__atomic_load_n(&j.running, __ATOMIC_SEQ_CST) > 0) {
                progress_update(&p, __atomic_load_n(&j.done, __ATOMIC_RELAXED));
                (void) usleep(50000);
        }
        for (unsigned i = 0; i < started; i++)
                (void) pthread_join(t[i], NULL);
        progress_update(&p, total);
        progress_end(&p);

        for (size_t i = 0; i < n; i++)
                if (results[i] < 0) {
                        *ret_failed = i;
                        return results[i];
                }
        return 0;
}

bool image_disk_holds_env(const ImagePlan *plan, size_t d, bool env_baked) {
        if (!env_baked || d >= plan->n_disks)
                return false;
        if (plan->disks[d].prebuilt)
                return d == 0; /* a customized cloud image: the env is on its root */
        for (size_t i = 0; i < plan->n_fs; i++)
                if (plan->fs[i].from_tree && plan->fs[i].disk == d)
                        return true;
        return false;
}

static int open_out(OutFile *o, int dirfd, const char *name, bool is_output, bool secret, char **reterr,
                    const char *dirname) {
        int r;

        o->name = strdup(name);
        if (!o->name)
                return -ENOMEM;
        o->is_output = is_output;
        o->secret = secret;
        r = atomic_file_open(&o->f, dirfd, name, output_mode(secret));
        if (r < 0) {
                o->name = mfree(o->name);
                return reterr_printf(reterr, r, "cannot create '%s' in '%s': %s", name, dirname, strerror(-r));
        }
        return 0;
}

int image_write(const char *root, const ImagePlan *plan, const char *output_dir, const char *tmpdir,
                ImageResult *res, char **reterr) {
        OutFile outs[IMAGE_MAX_OUTPUTS + IMAGE_MAX_DISKS] = {};
        size_t n_outs = 0;
        int src_fd[IMAGE_MAX_DISKS] = { -EBADF, -EBADF, -EBADF }, prebuilt_fd[IMAGE_MAX_DISKS] = { -EBADF, -EBADF, -EBADF };
        _cleanup_close_ int outdir = -EBADF, scratch = -EBADF;
        _cleanup_free_ char *sums = NULL, *manifest = NULL;
        RootfsUsage usage = {};
        uint64_t t;
        int r = 0;

        for (size_t i = 0; i < ELEMENTSOF(outs); i++)
                outs[i].f.fd = outs[i].f.dirfd = -EBADF;

        if (!plan->target)
                return reterr_printf(reterr, -EINVAL, "the image plan names no target release");

        outdir = open(output_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (outdir < 0)
                return reterr_printf(reterr, -errno, "cannot open output directory '%s': %m", output_dir);
        scratch = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (scratch < 0)
                return reterr_printf(reterr, -errno, "cannot open scratch directory '%s': %m", tmpdir);

        if (root) {
                r = rootfs_usage(root, &usage);
                if (r < 0)
                        return reterr_printf(reterr, r, "cannot measure the root tree: %s", strerror(-r));
        }

        /* Raw disks: in the output directory when raw is wanted, else scratch space. */
        for (size_t d = 0; d < plan->n_disks && r >= 0; d++) {
                const ImageDisk *disk = &plan->disks[d];
                bool want = plan->formats & IMAGE_FORMAT_RAW, secret = image_disk_holds_env(plan, d, res->env_baked);
                _cleanup_free_ char *name = NULL;
                OutFile *o = &outs[n_outs];

                if (asprintf(&name, "%s.raw", disk->name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                if (disk->prebuilt) {
                        r = open_input(AT_FDCWD, disk->prebuilt, INPUT_FOLLOW, UINT64_MAX, &prebuilt_fd[d], NULL);
                        if (r < 0) {
                                r = reterr_printf(reterr, r, "cannot open '%s': %s", disk->prebuilt, input_strerror(r));
                                break;
                        }
                        src_fd[d] = prebuilt_fd[d];
                        if (!want)
                                continue;
                        r = open_out(o, outdir, name, true, secret, reterr, output_dir);
                        if (r < 0)
                                break;
                        n_outs++;
                        t = progress_now_usec();
                        r = convert_one(prebuilt_fd[d], o->f.fd, IMAGE_FORMAT_RAW, allocated_bytes(prebuilt_fd[d]),
                                        name, plan->reproducible, false, reterr);
                        image_result_step(res, "copy-raw", progress_now_usec() - t);
                        continue;
                }
                r = open_out(o, want ? outdir : scratch, name, want, secret, reterr, want ? output_dir : tmpdir);
                if (r < 0)
                        break;
                src_fd[d] = o->f.fd;
                n_outs++;
                if (ftruncate(o->f.fd, (off_t) disk->size) < 0) {
                        r = reterr_printf(reterr, -errno, "cannot size '%s' to %" PRIu64 " bytes: %m", name, disk->size);
                        break;
                }

                for (size_t i = 0; i < plan->n_fs && r >= 0; i++) {
                        const ImageFs *fs = &plan->fs[i];
                        if (fs->disk != d)
                                continue;
                        t = progress_now_usec();
                        r = mkfs_one(fs, plan->target, o->f.fd, fs->from_tree ? root : res->volume_tree[i],
                                     fs->from_tree ? usage.bytes : 0, plan->source_date_epoch, reterr);
                        if (r >= 0 && plan->reproducible) {
                                _cleanup_free_ char *path = fd_path(o->f.fd);
                                char sde[32];

                                if (!path) {
                                        r = -ENOMEM;
                                        break;
                                }
                                snprintf(sde, sizeof sde, "%" PRIu64, plan->source_date_epoch);
                                (void) setenv("E2FSPROGS_FAKE_TIME", sde, 1);
                                r = ext2_clamp_times(path, fs->offset, plan->source_date_epoch, reterr);
                                (void) unsetenv("E2FSPROGS_FAKE_TIME");
                                if (r >= 0)
                                        log_debug("Clamped the times of %d inodes of '%s'.", r, fs->label);
                        }
                        image_result_step(res, fs->from_tree ? "mkfs-root" : "mkfs-volume", progress_now_usec() - t);
                }
                if (r < 0)
                        break;

                if (disk->partitioned) {
                        uint8_t code[MBR_BOOT_CODE_SIZE], sector[MBR_SECTOR_SIZE];
                        _cleanup_free_ char *err = NULL;

                        t = progress_now_usec();
                        r = grub_install_core(o->f.fd, plan->fs[0].uuid, tmpdir, code, &err);
                        if (r < 0) {
                                r = reterr_printf(reterr, r, "bootloader: %s", strempty_or(err));
                                break;
                        }
                        r = mbr_build(sector, code, disk->signature, disk->parts, disk->n_parts);
                        if (r < 0) {
                                r = reterr_printf(reterr, r, "cannot build the partition table: %s", strerror(-r));
                                break;
                        }
                        if (pwrite(o->f.fd, sector, sizeof sector, 0) != (ssize_t) sizeof sector) {
                                r = reterr_printf(reterr, -EIO, "cannot write the partition table: %m");
                                break;
                        }
                        image_result_step(res, "bootloader", progress_now_usec() - t);
                }
                if (fdatasync(o->f.fd) < 0) {
                        r = reterr_printf(reterr, -errno, "cannot sync '%s': %m", name);
                        break;
                }
        }
        if (r >= 0) {
                r = hygiene_report_set(&res->hygiene, HYGIENE_FREE_SPACE, true,
                                       "filesystems written into new sparse files: unused blocks were never written "
                                       "and read as zeros");
                if (r < 0)
                        (void) reterr_printf(reterr, r, "out of memory");
        }

        /* Conversions. */
        for (size_t d = 0; d < plan->n_disks && r >= 0; d++)
                for (unsigned f = IMAGE_FORMAT_QCOW2; f <= IMAGE_FORMAT_VMDK && r >= 0; f <<= 1) {
                        _cleanup_free_ char *name = NULL;
                        OutFile *o = &outs[n_outs];

                        if (!(plan->formats & f))
                                continue;
                        if (asprintf(&name, "%s.%s", plan->disks[d].name, f == IMAGE_FORMAT_QCOW2 ? "qcow2" : "vmdk") < 0) {
                                r = -ENOMEM;
                                break;
                        }
                        r = open_out(o, outdir, name, true, image_disk_holds_env(plan, d, res->env_baked), reterr,
                                     output_dir);
                        if (r < 0)
                                break;
                        n_outs++;
                        t = progress_now_usec();
                        bool root_disk = false;
                        for (size_t i = 0; i < plan->n_fs; i++)
                                root_disk = root_disk || (plan->fs[i].disk == d && plan->fs[i].from_tree);
                        r = convert_one(src_fd[d], o->f.fd, f, allocated_bytes(src_fd[d]), name, plan->reproducible,
                                        root_disk, reterr);
                        if (r >= 0 && f == IMAGE_FORMAT_VMDK && plan->reproducible)
                                r = package_vmdk_fix_cid(o->f.fd, plan->seed, name, reterr);
                        image_result_step(res, f == IMAGE_FORMAT_QCOW2 ? "convert-qcow2" : "convert-vmdk",
                                          progress_now_usec() - t);
                }

        /* Checksums of everything that is an output. */
        t = progress_now_usec();
        if (r >= 0) {
                int fds[IMAGE_MAX_OUTPUTS];
                uint64_t total = 0;
                size_t failed = 0;

                for (size_t i = 0; i < n_outs && r >= 0; i++) {
                        ImageOutput *io;
                        struct stat st;

                        if (!outs[i].is_output)
                                continue;
                        if (res->n_outputs >= IMAGE_MAX_OUTPUTS) {
                                r = reterr_printf(reterr, -E2BIG, "too many outputs");
                                break;
                        }
                        if (fstat(outs[i].f.fd, &st) < 0) {
                                r = reterr_printf(reterr, -errno, "cannot stat '%s': %m", outs[i].name);
                                break;
                        }
                        io = &res->outputs[res->n_outputs];
                        io->size = (uint64_t) st.st_size;
                        io->secret = outs[i].secret;
                        io->name = strdup(outs[i].name);
                        if (!io->name) {
                                r = -ENOMEM;
                                break;
                        }
                        fds[res->n_outputs++] = outs[i].f.fd;
                        total += (uint64_t) st.st_size;
                }
                if (r >= 0) {
                        r = sha256_many(fds, res->outputs, res->n_outputs, total, &failed);
                        if (r < 0)
                                (void) reterr_printf(reterr, r, "cannot checksum '%s': %s", res->outputs[failed].name,
                                               strerror(-r));
                }
        }
        if (r >= 0)
                image_result_step(res, "checksums", progress_now_usec() - t);

        if (r >= 0) {
                size_t len = 0;
                FILE *f = open_memstream(&sums, &len);

                if (!f)
                        r = -ENOMEM;
                else {
                        char sbom_sum[SHA256_HEX_SIZE];

                        for (size_t i = 0; i < res->n_outputs; i++)
                                fprintf(f, "%s  %s\n", res->outputs[i].sha256, res->outputs[i].name);
                        /* the SBOM too, so that a signature of SHA256SUMS covers it */
                        if (res->sbom && sha256_hex(res->sbom, strlen(res->sbom), sbom_sum) >= 0)
                                fprintf(f, "%s  sbom.spdx.json\n", sbom_sum);
                        if (fclose(f) != 0)
                                r = -ENOMEM;
                }
        }
        if (r >= 0) {
                manifest = image_manifest_json(plan, res);
                if (!manifest)
                        r = -ENOMEM;
                else if (!(res->manifest = strdup(manifest)))
                        r = -ENOMEM;
        }

        /* Commit: every output gets its name, then the checksums and the manifest. */
        if (r >= 0) {
                for (size_t i = 0; i < n_outs && r >= 0; i++) {
                        if (!outs[i].is_output)
                                continue;
                        r = atomic_file_commit(&outs[i].f);
                        if (r < 0)
                                (void) reterr_printf(reterr, r, "cannot commit '%s': %s", outs[i].name, strerror(-r));
                }
                if (r >= 0) {
                        r = write_file_atomic_at(outdir, "SHA256SUMS", sums, strlen(sums), 0644);
                        if (r < 0)
                                (void) reterr_printf(reterr, r, "cannot write SHA256SUMS: %s", strerror(-r));
                }
                if (r >= 0 && res->sbom) {
                        r = write_file_atomic_at(outdir, "sbom.spdx.json", res->sbom, strlen(res->sbom), 0644);
                        if (r < 0)
                                (void) reterr_printf(reterr, r, "cannot write sbom.spdx.json: %s", strerror(-r));
                }
                if (r >= 0) {
                        r = write_file_atomic_at(outdir, "manifest.json", manifest, strlen(manifest), 0644);
                        if (r < 0)
                                (void) reterr_printf(reterr, r, "cannot write manifest.json: %s", strerror(-r));
                }
                if (r < 0) {
                        /* Take back what was already named: a failed build leaves nothing. */
                        for (size_t i = 0; i < n_outs; i++)
                                if (outs[i].is_output && outs[i].f.committed)
                                        (void) unlinkat(outdir, outs[i].name, 0);
                        (void) unlinkat(outdir, "SHA256SUMS", 0);
                        (void) unlinkat(outdir, "sbom.spdx.json", 0);
                }
        }

        for (size_t i = 0; i < n_outs; i++)
                out_file_done(&outs[i]);
        for (size_t d = 0; d < IMAGE_MAX_DISKS; d++)
                (void) safe_close(prebuilt_fd[d]);
        if (r == -ENOMEM && reterr && !*reterr)
                (void) reterr_printf(reterr, r, "out of memory");
        return r;
}
