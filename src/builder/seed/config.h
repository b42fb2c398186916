/**
 * The generated parts of a seed: meta-data, preset cloud-config (vagrant, root), the grow-root
 * settings, and the merge of those settings into a user's own cloud-config.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum SeedPreset {
        SEED_PRESET_NONE,
        SEED_PRESET_VAGRANT, /* user vagrant, passwordless sudo, the Vagrant insecure keys (RSA, ed25519) */
        SEED_PRESET_ROOT,    /* root login with the given SSH keys only */
        _SEED_PRESET_MAX,
        _SEED_PRESET_INVALID = -EINVAL,
} SeedPreset;

const char *seed_preset_to_string(SeedPreset p);
SeedPreset seed_preset_from_string(const char *s);

/* cloud-init uses the instance id as a directory name: 1-128 of A-Z a-z 0-9 . _ : - */
bool seed_instance_id_valid(const char *s);
/* A host name or FQDN: labels of 1-63 A-Z a-z 0-9 -, not starting or ending with '-', 253 in all. */
bool seed_hostname_valid(const char *s);
/* "iid-" + 16 random hex digits. */
int seed_instance_id_random(char **ret);

/* meta-data as YAML: instance-id, and local-hostname if hostname is not NULL. */
int seed_meta_data_make(const char *instance_id, const char *hostname, char **ret);

/* Parses an authorized_keys-style file (blank lines and '#' comments skipped) into a list of key
 * lines. Each line must contain a known key type followed by base64 data; errors are
 * "NAME:LINE: ..." and return -EBADMSG. */
int seed_ssh_keys_parse(const char *name, const char *text, char ***ret_keys, char **reterr);

/* Directory holding the preset data files (vagrant.pub, vagrant.pub.ed25519): $APPLIANCE_SEED_DIR,
 * else the source tree's seed/. Returns a static string. */
const char *seed_data_dir(void);

/* Loads the Vagrant insecure public keys (RSA first, then ed25519) from seed_data_dir(). */
int seed_vagrant_keys(char ***ret_keys, char **reterr);

/* The cloud-config settings (without the "#cloud-config" line) for a preset, extra SSH keys and
 * grow-root; *ret_keys lists the top-level keys it sets. */
int seed_preset_config(SeedPreset preset, char *const *vagrant_keys, char *const *ssh_keys, bool grow_root,
                       char **ret, char ***ret_keys);

/* Appends settings (a block mapping, from seed_preset_config) to the user's cloud-config named
 * name. Fails with -EBADMSG (message NAME:LINE:COLUMN) if the user's document sets one of
 * setting_keys, or if the result does not parse as one mapping. */
int seed_cloud_config_merge(const char *name, const char *user, size_t user_size, const char *settings,
                            char *const *setting_keys, char **ret, size_t *ret_size, char **reterr);
