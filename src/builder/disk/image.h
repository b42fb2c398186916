/**
 * Building appliance disk images from a root tree, without a helper VM:
 *
 *   1. plan: filesystems (root, ecs-volatile, ecs-data) placed as MBR partitions of the boot disk
 *      (root first and bootable, the partition meant to grow last) or as bare-filesystem disks;
 *   2. prepare the tree: hygiene (on what the base brought), then agent, agent units, profile,
 *      env, profile files, fstab, GRUB config;
 *   3. write each raw disk into an unnamed temporary file in the output directory: mke2fs -d at
 *      the partition offset (sparse, so free space reads as zeros), the MBR, GRUB's core image;
 *   4. convert to qcow2 (compressed) and vmdk (streamOptimized) with qemu-img, hash everything,
 *      write SHA256SUMS and manifest.json, and only then give every output its name.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disk/hygiene.h"
#include "mbr.h"
#include "source/tarball.h"
#include "profile.h"
#include "crypto.h"
#include "target.h"

typedef enum ImageFormat {
        IMAGE_FORMAT_RAW = 1 << 0,
        IMAGE_FORMAT_QCOW2 = 1 << 1,
        IMAGE_FORMAT_VMDK = 1 << 2,
        IMAGE_FORMAT_BOX = 1 << 3,   /* Vagrant boxes (libvirt, VirtualBox) + catalog; needs qcow2, vmdk */
        IMAGE_FORMAT_OVA = 1 << 4,   /* OVF appliance; made from the qcow2 */
} ImageFormat;

/* Parses "raw,qcow2,vmdk,box,ova" (any subset, any order); box adds qcow2 and vmdk, ova qcow2. -EINVAL naming nothing; the caller reports. */
int image_formats_from_string(const char *s, unsigned *ret);

#define IMAGE_MAX_FS 3
#define IMAGE_MAX_DISKS 3
#define IMAGE_MAX_STEPS 24
#define IMAGE_MAX_OUTPUTS 12

typedef struct ImageFs {
        const char *label;      /* "root", "ecs-volatile", "ecs-data" */
        const char *mountpoint; /* "/", "/volatile", "/data" */
        uint64_t size;          /* bytes, whole MiB */
        char uuid[37];
        size_t disk;            /* index into ImagePlan.disks */
        unsigned partno;        /* 1.. on a partitioned disk; 0 = the whole disk is the filesystem */
        uint64_t offset;        /* byte offset on its disk */
        bool from_tree;         /* filled from the root tree (the root fs) */
} ImageFs;

typedef struct ImageDisk {
        const char *name;       /* output base name: "disk", "ecs-data", "ecs-volatile" */
        bool partitioned;
        uint64_t size;
        MbrPartition parts[MBR_MAX_PARTITIONS];
        size_t n_parts;
        uint32_t signature;
        const char *prebuilt;   /* a raw disk made elsewhere (a customized cloud image): only
                                 * converted and hashed, its filesystems are not written */
} ImageDisk;

typedef struct ImagePlan {
        ImageFs fs[IMAGE_MAX_FS];
        size_t n_fs;            /* fs[0] is the root */
        ImageDisk disks[IMAGE_MAX_DISKS];
        size_t n_disks;         /* disks[0] is the boot disk */
        unsigned formats;
        uint64_t source_date_epoch;
        bool reproducible;      /* SOURCE_DATE_EPOCH given: image_plan_derive_ids() ran, qcow2 is
                                 * written in order, the vmdk CID is derived, inode times clamped */
        char seed[SHA256_HEX_SIZE]; /* what the ids derive from (hex SHA-256), when reproducible */
        const TargetRelease *target; /* the profile's release: ext4 features and inode size */
} ImagePlan;

typedef struct ImageVolumeRequest {
        const char *label;
        const char *mountpoint;
        PartPlace place;
        uint64_t size;
} ImageVolumeRequest;

/* Lays out the disks: the root (root_size bytes, 0 = decide later from the tree) and the volumes
 * in the order given (callers pass ecs-volatile before ecs-data, so the data partition ends the
 * boot disk and can grow). UUIDs are random. *reterr on failure (-E2BIG: beyond MBR limits). */
int image_plan_make(uint64_t root_size, const ImageVolumeRequest *vols, size_t n_vols, unsigned formats,
                    ImagePlan *ret, char **reterr);

/* Makes the build reproducible: the filesystem UUIDs (and with them the ext4 hash seeds), the
 * disk signature and the vmdk CIDs are derived from the epoch and INPUTS (a text naming the
 * profile and the base) instead of drawn at random. */
int image_plan_derive_ids(ImagePlan *plan, uint64_t epoch, const char *inputs);

/* Recomputes the boot disk's layout after fs[0].size changed. */
int image_plan_relayout(ImagePlan *plan, char **reterr);

/* Prints the plan for --dry-run. */
void image_plan_print(const ImagePlan *plan, const char *output_dir);

typedef struct ImageStep {
        const char *name;
        uint64_t usec;
} ImageStep;

typedef struct ImageOutput {
        char *name;             /* file name in the output directory */
        uint64_t size;          /* bytes in the file (apparent size) */
        char sha256[65];
        bool secret;            /* holds the baked env: mode 0600 ("secret" in manifest.json) */
} ImageOutput;

/* Everything manifest.json reports. */
typedef struct ImageResult {
        const Profile *profile;
        char *profile_digest;
        const char *base_kind;  /* "tarball", "bootstrap", "cloud-image" */
        const char *base_path;
        RootfsInfo base;
        char **packages;        /* "name version" */
        HygieneReport hygiene;
        ImageStep steps[IMAGE_MAX_STEPS];
        size_t n_steps;
        ImageOutput outputs[IMAGE_MAX_OUTPUTS];
        size_t n_outputs;
        bool env_baked;
        char *kernel_cmdline;
        char *generator;
        char *manifest;         /* the text written to manifest.json */
        char *sbom;             /* the text written to sbom.spdx.json (SPDX 2.3, disk/sbom.h) */
        char *volume_tree[IMAGE_MAX_FS]; /* by fs index: a volume's content (disk/prefill.h), NULL = empty */
        char **prefilled[IMAGE_MAX_FS];  /* by fs index: the link paths whose copy the volume holds */
} ImageResult;

void image_result_done(ImageResult *r);

/* What to put into the tree. */
typedef struct ImageInputs {
        const Profile *profile;
        const char *agent_binary;   /* -> /usr/sbin/appliance-agent 0755 */
        const char *agent_rootfs;   /* copied over / verbatim; NULL or missing = none */
        const char *env_tool;       /* -> /usr/sbin/appliance-env 0755 (env-create.sh); NULL = none */
        const char *env_template;   /* -> /usr/share/appliance/env-template.yml 0644; NULL = none */
        const char *env_path;       /* -> /app/env.yml 0600; NULL = none */
        const char *image_cloud_config; /* -> /usr/share/appliance/cloud-config.d/90-image.cfg (the box's
                                         * vagrant user, applied by the agent at boot); NULL = none */
        const char *kernel_cmdline; /* after "root=UUID=... ro"; NULL = serial console default */
        const char *scratch;        /* where the volumes' content is put together (disk/prefill.h);
                                     * NULL = the volumes are written empty */
} ImageInputs;

/* Completes the tree at root (step 2 above, hygiene included). */
int image_prepare_tree(const char *root, const ImagePlan *plan, const ImageInputs *in, ImageResult *res,
                       char **reterr);

/* Writes every disk and format into output_dir (steps 3 and 4) and commits them at the end; on
 * failure nothing appears. tmpdir holds scratch files. root may be NULL when every disk that holds
 * the root is prebuilt. */
int image_write(const char *root, const ImagePlan *plan, const char *output_dir, const char *tmpdir,
                ImageResult *res, char **reterr);

/* Whether disk d of the plan carries the env (the disk holding the root tree, or a prebuilt boot
 * disk) when one is baked: its outputs, and anything made from them (boxes, appliance archives),
 * are created with output_mode(true). */
bool image_disk_holds_env(const ImagePlan *plan, size_t d, bool env_baked);

/* manifest.json text (also printed by --json). Caller frees. */
char *image_manifest_json(const ImagePlan *plan, const ImageResult *res);

/* Adds a timing entry. */
void image_result_step(ImageResult *res, const char *name, uint64_t usec);
