/**
 * User and group lookups in ROOT/etc/passwd and ROOT/etc/group, without NSS (the agent is static
 * and must see the image's users under --root). Numeric ids are accepted as they are.
 */
#pragma once

#include <sys/types.h>

#include "agent.h"

/* Returns 0, -ESRCH if there is no such user. ret_home may be NULL. */
int user_lookup(const Agent *a, const char *name, uid_t *ret_uid, gid_t *ret_gid, char **ret_home);
int group_lookup(const Agent *a, const char *name, gid_t *ret_gid);
/* "user", "user:group", "1000:1000". The group defaults to the user's primary group. */
int owner_parse(const Agent *a, const char *spec, uid_t *ret_uid, gid_t *ret_gid);
