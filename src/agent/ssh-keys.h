/**
 * ssh host keys and authorized_keys files in the image.
 */
#pragma once

#include "agent.h"

/* "TYPE BASE64" of an authorized_keys line (options and comment dropped); NULL if none. */
char *ssh_key_identity(const char *line);
/* Generates the missing ssh host keys (rsa, ecdsa, ed25519) under ROOT/etc/ssh with the image's
 * ssh-keygen. Returns 1 if any was made, 0 if none was needed (or there is no ssh). */
int ssh_host_keys_ensure(const Agent *a);
/* Adds keys to and removes keys (by type and blob) from ~user/.ssh/authorized_keys, keeping other
 * lines. A user the image lacks is skipped (0). Returns 1 if changed, <0 with the reason in *reterr;
 * authorized_keys_update() logs the reason. */
int authorized_keys_merge(const Agent *a, const char *user, char *const *add, char *const *del, char **reterr);
int authorized_keys_update(const Agent *a, const char *user, char *const *add, char *const *del);
