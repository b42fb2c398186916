/**
 * User and group lookups in ROOT/etc/passwd and ROOT/etc/group, without NSS (the agent is static
 * and must see the image's users under --root). Numeric ids are accepted as they are.
 */
#pragma once

#include <sys/types.h>

#include "agent.h"
#include "profile.h"

/* Returns 0, -ESRCH if there is no such user. ret_home may be NULL. */
int user_lookup(const Agent *a, const char *name, uid_t *ret_uid, gid_t *ret_gid, char **ret_home);
int group_lookup(const Agent *a, const char *name, gid_t *ret_gid);
/* "user", "user:group", "1000:1000". The group defaults to the user's primary group. */
int owner_parse(const Agent *a, const char *spec, uid_t *ret_uid, gid_t *ret_gid);

/* A user to create (profile "users:", the cloud-config subset's "users:"). uid/gid
 * USER_ID_UNSET: the next free id from 1000 (the group takes the uid when it is free). */
#define USER_ID_UNSET PROFILE_ID_UNSET
typedef struct UserSpec {
        const char *name;
        unsigned uid;
        unsigned gid;
        const char *home;       /* NULL: /home/NAME */
        const char *shell;      /* NULL: /bin/sh */
        const char *gecos;      /* the comment field, or NULL */
        char *const *groups;    /* supplementary groups; each must exist */
        const char *sudo;       /* a sudoers rule such as "ALL=(ALL) NOPASSWD:ALL", or NULL */
} UserSpec;

/* Checks a spec without touching anything: 0, or -EINVAL with the reason in *reterr (a name that is
 * no portable user name or longer than 32 characters, a home or shell that is not a clean absolute
 * path, a sudo rule with characters sudoers would read differently). */
int user_spec_check(const UserSpec *u, char **reterr);
/* Makes the user exist as specified: appends it to ROOT/etc/{passwd,shadow,group,gshadow} (password
 * field "*": key logins only), creates its home (0755, owned by it), adds it to its groups and
 * writes ROOT/etc/sudoers.d/90-appliance-NAME (0440) for sudo. An existing user is kept when the
 * requested uid/gid agree (a mismatch, "root" asked with uid 1000 say, is refused: -EEXIST and
 * the reason); its groups and sudo rule are still applied. Returns 1 if something changed, 0 if not,
 * <0 with the reason in *reterr. */
int user_ensure(const Agent *a, const UserSpec *u, char **reterr);
