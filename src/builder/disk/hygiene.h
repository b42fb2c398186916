/**
 * Template hygiene for an extracted root tree: what a built image must not carry from the build
 * (identity, secrets, caches, logs). Always applied; the report goes into manifest.json.
 *
 * Items, in order (HygieneItemId):
 *   ssh-host-keys   /etc/ssh/ssh_host_*  removed; a oneshot unit regenerates them before sshd
 *   machine-id      /etc/machine-id = "uninitialized" (systemd's first-boot marker); a copy in
 *                   /var/lib/dbus/machine-id removed
 *   random-seed     /var/lib/systemd/random-seed, /var/lib/urandom/random-seed, credential.secret
 *   net-rules       /etc/udev/rules.d/70-persistent-net.rules
 *   dhcp-leases     /var/lib/dhcp/ *, /var/lib/dhclient/ *, NetworkManager and networkd leases
 *   apt-caches      /var/lib/apt/lists/ * (files), /var/cache/apt/ *.bin, downloaded .debs
 *   build-logs      every file under /var/log, /var/cache/debconf/ *-old, /var/lib/dpkg/ *-old,
 *                   /tmp, /var/tmp, /root/.bash_history
 *   root-password   root's /etc/shadow hash prefixed with '!' (locked)
 *   build-host      what the bootstrap copied from the build host: a regular /etc/resolv.conf is
 *                   removed, an /etc/hostname naming the build host becomes "localhost"
 *   free-space      free blocks are zero: the filesystem is written into a new sparse file
 *                   (recorded by the caller, see hygiene_report_set())
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef enum HygieneItemId {
        HYGIENE_SSH_HOST_KEYS,
        HYGIENE_MACHINE_ID,
        HYGIENE_RANDOM_SEED,
        HYGIENE_NET_RULES,
        HYGIENE_DHCP_LEASES,
        HYGIENE_APT_CACHES,
        HYGIENE_BUILD_LOGS,
        HYGIENE_ROOT_PASSWORD,
        HYGIENE_BUILD_HOST,
        HYGIENE_FREE_SPACE,
        _HYGIENE_MAX,
} HygieneItemId;

typedef struct HygieneItem {
        bool done;      /* the rule holds for the image */
        char **changed; /* paths removed or rewritten (as seen in the image) */
        char *detail;   /* one line for humans */
} HygieneItem;

typedef struct HygieneReport {
        HygieneItem items[_HYGIENE_MAX];
} HygieneReport;

const char *hygiene_item_to_string(HygieneItemId id);

/* Applies every item except free-space to the tree at root. Fills *report (free with
 * hygiene_report_done(), also on failure). Paths are resolved inside the tree (source/tarball.h):
 * a symlink of the base never makes it read or change a host file; an /etc/shadow that is not a
 * regular file is refused (-EBADFD, with *reterr saying so). */
int hygiene_apply(const char *root, HygieneReport *report, char **reterr);

/* Records an item's outcome decided elsewhere (free-space). */
int hygiene_report_set(HygieneReport *report, HygieneItemId id, bool done, const char *detail);

void hygiene_report_done(HygieneReport *report);

/* Locks the hash field of an /etc/shadow line for user ("root"): returns a new line with '!'
 * prepended to the hash, or a copy when it is already locked. NULL on OOM. *ret_changed says
 * whether anything changed. Lines for other users are copied unchanged. */
char *hygiene_lock_shadow_line(const char *line, const char *user, bool *ret_changed);
