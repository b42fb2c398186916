/**
 * Customization of vendor cloud images (qcow2 or raw) with libguestfs. This is the only
 * module that talks to libguestfs. The base is never modified: the output is a new image
 * (format from its extension: .qcow2 → qcow2, anything else → raw), written atomically.
 *
 *   GuestReport rep = {};
 *   GuestCustomization c = {
 *           .size = 4ULL << 30, .agent_binary = "build/appliance-agent",
 *           .env_path = "env.yml", .profile_text = p->text, .profile_text_len = p->text_len,
 *           .hygiene = GUEST_HYGIENE_ALL, .report = &rep,
 *   };
 *   r = guest_customize_cloud_image("ubuntu.qcow2", "out/root.raw", &c, &err);
 *   ... guest_report_done(&rep);
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"

typedef enum {
        GUEST_HYGIENE_MACHINE_ID     = 1u << 0, /* empty /etc/machine-id, drop dbus machine-id */
        GUEST_HYGIENE_SSH_HOST_KEYS  = 1u << 1, /* remove /etc/ssh/ssh_host_* */
        GUEST_HYGIENE_LOGS           = 1u << 2, /* truncate /var/log, drop journal files */
        GUEST_HYGIENE_APT_LISTS      = 1u << 3, /* apt lists, /var/cache/apt *.bin and archives */
        GUEST_HYGIENE_TMP            = 1u << 4, /* /tmp, /var/tmp */
        GUEST_HYGIENE_SHELL_HISTORY  = 1u << 5, /* .bash_history of root and users */
        GUEST_HYGIENE_CLOUD_INIT     = 1u << 6, /* /var/lib/cloud (instance state) */
        GUEST_HYGIENE_DHCP_LEASES    = 1u << 7, /* dhclient and NetworkManager leases */
        GUEST_HYGIENE_RANDOM_SEED    = 1u << 8, /* /var/lib/systemd/random-seed */
        GUEST_HYGIENE_ALL            = (1u << 9) - 1,
} GuestHygiene;

typedef struct GuestCustomization {
        uint64_t size;              /* virtual size of the output disk; 0 = keep the base's size.
                                     * Growing the disk also grows the last partition and its ext4 */
        const char *agent_binary;   /* installed at /usr/sbin/appliance-agent (0755); NULL = skip */
        const char *agent_rootfs;   /* directory whose tree is copied over / (units, configs);
                                     * NULL = none */
        const char *env_tool;       /* installed at /usr/sbin/appliance-env (0755); NULL = skip */
        const char *env_template;   /* installed at /usr/share/appliance/env-template.yml; NULL = skip */
        const char *env_path;       /* baked at /app/env.yml, mode 0600, root:root; NULL = skip */
        const char *profile_text;   /* written to /usr/share/appliance/profile.yml; NULL = skip */
        size_t profile_text_len;
        const Profile *profile;     /* its files: are written too; NULL = none */
        const char *kernel_cmdline; /* appended to GRUB_CMDLINE_LINUX_DEFAULT if /etc/default/grub
                                     * exists (console=ttyS0); NULL = leave */
        unsigned hygiene;           /* GuestHygiene flags */
        struct GuestReport *report; /* optional out: filled on success, free with guest_report_done() */
} GuestCustomization;

typedef struct GuestReport {
        char **removed;             /* strv: paths removed/emptied by hygiene (as shown in the guest) */
        char *root_device;          /* e.g. "/dev/sda1" */
        char *os_distro, *os_version; /* from inspection: "ubuntu", "24.04" */
        uint64_t size;              /* final virtual size of the output */
} GuestReport;

void guest_report_done(GuestReport *r);

/* Returns true if the file looks like a disk image libguestfs can open as a base
 * (qcow2 magic, or an MBR/GPT boot signature). */
bool guest_is_disk_image(const char *path);

/* Copies `base` to `output` (qemu-img convert, resized if c->size is larger), opens it
 * read-write with libguestfs (TCG unless KVM works), inspects the OS, mounts it and applies
 * the customization. The output appears only on success. */
/* Loads libguestfs (dlopen); -ENOPKG with a message naming the package. Called by
 * guest_customize_cloud_image(). */
int guest_dlopen(char **reterr);
int guest_customize_cloud_image(const char *base, const char *output, const GuestCustomization *c,
                                char **reterr);
