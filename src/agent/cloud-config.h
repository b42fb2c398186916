/**
 * The subset of cloud-config the agent applies from a seed that carries no env, and the ssh keys
 * and host names of the meta-data formats (NoCloud, OpenStack config-2, EC2).
 *
 * user-data (#cloud-config), top-level keys:
 *   users:                 list; each item a name ("default" is skipped: the image has no distro
 *                          default user) or a mapping with
 *       name               required; [a-z_][a-z0-9_-]*, at most 32 characters
 *       uid                optional; an existing user must have it ("root" with uid 1000: refused)
 *       groups             list or "a, b" string; the groups must exist in the image
 *       sudo               a sudoers rule ("ALL=(ALL) NOPASSWD:ALL"), a list of one, or false/null
 *       shell              absolute path
 *       gecos              the comment field (one line, no ':')
 *       lock_passwd        boolean (the account never gets a password: key logins only)
 *       ssh_authorized_keys list of authorized_keys lines
 *   ssh_authorized_keys:   list: for root (and the profile's app user)
 *   hostname, fqdn:        the host name (fqdn wins)
 *   growpart, resize_rootfs: accepted; the agent always grows the root partition and its ext4
 *                          (mode off / false are noted: appliance:storage:grow_root: false is the
 *                          appliance's switch)
 *   disable_root: false, ssh_pwauth: false: what the appliance does anyway (true is noted)
 * Every other key, and every value that is refused (hostile names, bad keys), becomes a note
 * "PATH: reason" for status and the journal; nothing is dropped in silence, nothing fails a boot.
 *
 * meta-data: NoCloud YAML ("local-hostname", "public-keys" as a list, a string or a mapping of
 * names to keys or lists), config-2 meta_data.json ("hostname", "public_keys" mapping), and the
 * EC2 service's items (public-keys/N/openssh-key, local-hostname), added one by one.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cleanup.h"
#include "macro.h"

typedef struct CloudUser {
        char *name;
        unsigned uid;          /* USER_ID_UNSET when not given */
        char **groups;
        char *sudo;            /* NULL: no sudo rule */
        char *shell;
        char *gecos;
        bool lock_passwd;
        char **ssh_keys;
} CloudUser;

typedef struct CloudConfig {
        CloudUser *users;
        size_t n_users;
        char **ssh_keys;       /* for root (and the app user) */
        char *hostname;
        char **notes;          /* "SOURCE: PATH: reason" */
} CloudConfig;

void cloud_config_done(CloudConfig *c);

typedef enum MetaDataFormat {
        META_DATA_NOCLOUD,     /* YAML, no header */
        META_DATA_CONFIG2,     /* meta_data.json */
} MetaDataFormat;

/* Adds what the #cloud-config text holds to c. name prefixes the notes ("cidata user-data").
 * Returns 0, -ENOMEM, or -EBADMSG with "name:line:column: message" in *reterr when the text is no
 * cloud-config mapping. */
int cloud_config_parse(CloudConfig *c, const char *name, const char *text, size_t len, char **reterr);
int cloud_meta_data_parse(CloudConfig *c, const char *name, MetaDataFormat f, const char *text, size_t len,
                          char **reterr);
/* One EC2 meta-data item: "public-keys/0/openssh-key" or "local-hostname" with its value. */
int cloud_meta_data_add_ec2(CloudConfig *c, const char *item, const char *value);
int cloud_config_note(CloudConfig *c, const char *fmt, ...) _printf_(2, 3);
