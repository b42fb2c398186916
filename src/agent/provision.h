/**
 * What prepare-env does besides the env: the profile's users, the users, keys and host name of a
 * seed (cloud-config.h), the Vagrant insecure keys, and the report of everything the image does
 * not act on ("notes": ROOT/run/appliance/notes, one line each, shown by appliance-status and
 * logged). None of it fails a boot: a problem becomes a note.
 */
#pragma once

#include "profile.h"
#include "agent.h"
#include "cloud-config.h"
#include "env.h"

/* The profile's users (users.h); a refused one becomes a note in c. */
int provision_profile_users(const Agent *a, const Profile *p, CloudConfig *c);
/* Creates c's users with their keys, gives c's top-level keys to root and the profile's users,
 * sets c's host name. Returns 1 if something changed. */
int provision_apply(const Agent *a, const Profile *p, CloudConfig *c);
/* Notes every env key that is set (not null, not false) and that neither the agent nor the
 * profile (env_keys, the keys its templates use) acts on: "env: KEY: not supported by this profile". */
int provision_report_env(const Agent *a, const Profile *p, const Env *e, CloudConfig *c);
/* Writes the notes file (all notes) and logs the notes from index n_logged on as warnings. */
int provision_write_notes(const Agent *a, char *const *notes, size_t n_logged);

/* Whether an authorized_keys line is one of the Vagrant insecure public keys (RSA or ed25519). */
bool ssh_key_is_vagrant_insecure(const char *line);
/* For every user of ROOT/etc/passwd: once its authorized_keys holds a key that is not a Vagrant
 * insecure key, the insecure ones are removed (Vagrant 2.3.4 replaces only the RSA one). Returns 1
 * if a file changed. */
int insecure_keys_cleanup(const Agent *a);
