/**
 * How the agent touches its tree: every path is resolved below Agent.root_fd (chase.h), never
 * through a path string on the host.
 *
 * Two kinds of access:
 *  - strict (writes, and reads of what /run, the volumes and the administrator's files hold): no
 *    symlink is followed, except the appliance's own links (appliance_links, layout.h: /app/etc -> ../data/etc,
 *    ...) and those only when they are exactly what prepare-storage makes. Anything else that is a
 *    symlink on the way fails with -ELOOP; agent_io_reason() names the link in the message.
 *  - image (the profile, template sources, /etc/passwd and /etc/group, /dev/disk/by-label): links
 *    are followed, but resolved below the root, so that one pointing out of it leads to ROOT/...
 *    and never to the host.
 * Every read is bounded, never blocks on a FIFO and accepts regular files only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "agent-context.h"
#include "layout.h"

/* Agent paths: a newly allocated root + path (path must be absolute). NULL on OOM. */
char *agent_path(const Agent *a, const char *path);
bool agent_is_host_root(const Agent *a);

/* Opens a->root as a->root_fd. */
int agent_open_root(Agent *a);

/* path with an appliance link in front replaced by where it leads, if the link is there and exact;
 * -ELOOP if a link stands there with another target. */
int agent_resolve(const Agent *a, const char *path, char **ret);

/* Strict access (see above). agent_write_file() writes atomically with mode and owner ((uid_t) -1:
 * the agent's) unless the file has exactly that content, mode and owner already (returns 1 if
 * written, 0 if not), making missing parent directories (0755). */
int agent_read_file(const Agent *a, const char *path, size_t max, char **ret, size_t *ret_size);
int agent_write_file(const Agent *a, const char *path, const void *data, size_t len, mode_t mode, uid_t uid,
                     gid_t gid);
int agent_unlink(const Agent *a, const char *path);
bool agent_exists(const Agent *a, const char *path);
/* Opens path strictly with the open(2) flags. */
int agent_open(const Agent *a, const char *path, int flags, int *ret_fd);
/* Makes path (and missing parents, 0755) a directory with exactly mode and owner, changed through its
 * fd. Returns 1 if it created or changed something. ret_fd (may be NULL): O_RDONLY|O_DIRECTORY. */
int agent_mkdir(const Agent *a, const char *path, mode_t mode, uid_t uid, gid_t gid, int *ret_fd);

/* Image access (see above). */
int agent_read_image_file(const Agent *a, const char *path, size_t max, char **ret, size_t *ret_size);
/* Opens an image path (links followed below the root) with the open(2) flags. */
int agent_open_image(const Agent *a, const char *path, int flags, int *ret_fd);
/* Loads the profile (--profile, else AGENT_PROFILE below the root; missing: an empty profile). */
struct Profile;
int agent_load_profile(const Agent *a, struct Profile **ret, char **reterr);

/* A message for a failed access to path: "'/etc' is a symbolic link (to '/x'), refused" for -ELOOP,
 * "not a regular file" for -EBADFD, else strerror(). Newly allocated (NULL on OOM). */
char *agent_io_reason(const Agent *a, const char *path, int r);

/* Logs "Failed to VERB 'PATH': REASON" (agent_io_reason()) and returns r. */
int agent_log_io_error(const Agent *a, const char *verb, const char *path, int r);

/* agent_write_file() of a string, and agent_read_file() where a missing file is *ret == NULL and 0:
 * on failure "Cannot write/read 'PATH': why" in *reterr. */
int agent_write_text(const Agent *a, const char *path, const char *data, mode_t mode, uid_t uid, gid_t gid,
                     char **reterr);
int agent_read_text(const Agent *a, const char *path, size_t max, char **ret, char **reterr);
