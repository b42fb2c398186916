/**
 * Install packages made from the built disks (image --format box, ova):
 *
 *   NAME-libvirt.box      tar: metadata.json ({"provider":"libvirt","format":"qcow2",
 *                         "virtual_size":GiB, "disks":[...]}), box.img (the root qcow2, no backing
 *                         file) and the data volumes as further disks (vagrant-libvirt's multi-disk
 *                         layout), Vagrantfile (virtio disk and NIC, no synced folder)
 *   NAME-virtualbox.box   tar: metadata.json ({"provider":"virtualbox"}), box.ovf, box-disk001.vmdk
 *                         (streamOptimized), Vagrantfile with config.vm.base_mac = the OVF's MAC
 *   NAME.box.json         the catalog for "vagrant box add": name, version, one provider per box with
 *                         its file:// URL, checksum_type sha256 and checksum
 *   NAME.ova              tar (ustar): NAME.ovf first, then NAME.mf ("SHA256(FILE)= HEX" lines), then
 *                         NAME-disk1.vmdk: streamOptimized, adapter type lsilogic, hardware version
 *                         and toolsVersion set for vSphere and AWS VM import
 *
 * Each file appears atomically, 0600 when the disks carry a baked env (fileio.h output_mode()).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct PackageDisk {
        const char *label;       /* "root", "ecs-data", "ecs-volatile" */
        const char *qcow2;       /* file name in the output directory */
        const char *vmdk;        /* file name in the output directory (streamOptimized), or NULL */
        uint64_t virtual_size;   /* bytes */
} PackageDisk;

typedef struct PackageInput {
        const char *output_dir;
        const char *tmpdir;      /* scratch space (the OVA's disk is converted there) */
        const char *name;        /* box and OVA name, e.g. "appliance-minimal" */
        const char *version;     /* catalog version, e.g. "0.1.0.1700000000" */
        const char *description;
        const PackageDisk *disks;  /* root disk first */
        size_t n_disks;
        unsigned cpus;
        unsigned memory_mib;
        uint64_t mtime;          /* file times in the archives (SOURCE_DATE_EPOCH) */
        bool secret;             /* the disks hold a baked env */
        const char *ids_seed;    /* reproducible builds: what the OVA disk's vmdk CID derives from */
} PackageInput;

/* qemu-img writes a random CID into a vmdk's descriptor: replaces it (same length) by one derived
 * from SEED and NAME, so that the same inputs give the same file. */
int package_vmdk_fix_cid(int fd, const char *seed, const char *name, char **reterr);

/* OUTPUT_DIR/SHA256SUMS.gpg: a detached signature of SHA256SUMS made by gpg with KEYID (from the
 * caller's GnuPG home, $GNUPGHOME), written atomically. */
int package_sign_sums(const char *output_dir, const char *keyid, char **reterr);

/* Each returns 0, or -errno with the reason in *reterr; written file names are added to
 * *written (strv) for SHA256SUMS. */
int package_vagrant_boxes(const PackageInput *in, char ***written, char **reterr);
int package_ova(const PackageInput *in, char ***written, char **reterr);

/* The MAC address of the OVF's network adapter: VirtualBox's 08:00:27 prefix, the rest from the
 * name (stable across builds of the same box). Twelve hex digits, no separators. */
void package_mac(const char *name, char ret[13]);

/* Appends "SHA256  NAME" lines for the named files to OUTPUT_DIR/SHA256SUMS (rewritten atomically). */
int package_append_sums(const char *output_dir, char *const *names, char **reterr);
