/**
 * Base-system bootstrap: runs mmdebstrap for a profile's suite and packages against the
 * mirror of the host's apt configuration and caches the result as a root tarball.
 *
 *   _cleanup_free_ char *tarball = NULL, *err = NULL;
 *   r = bootstrap_rootfs(profile, NULL, &tarball, &err);  // NULL = default cache dir
 *
 * The tarball is <cache_dir>/<profile_digest>.tar.zst (or .tar when zstd is missing),
 * written atomically; an existing one is reused.
 */
#pragma once

#include "profile.h"

/* $XDG_CACHE_HOME/appliance-builder, else /var/cache/appliance-builder as root, else
 * ~/.cache/appliance-builder. Caller frees. */
char *bootstrap_default_cache_dir(void);

/* Reads the mirror URI for `distribution` ("debian" / "ubuntu") from the host's apt
 * configuration: /etc/apt/sources.list.d/ *.sources (deb822) and /etc/apt/sources.list
 * (root overridable with $APPLIANCE_APT_ROOT, for tests). Returns 0 and the URI, -ENOENT
 * if no source of that distribution is configured. */
int bootstrap_find_mirror(const char *distribution, char **ret_uri);

/* cache_dir NULL = bootstrap_default_cache_dir(). Returns 0 and the tarball path, or -errno
 * with a message (e.g. the Ubuntu archive is not reachable from the apt config). */
int bootstrap_rootfs(const Profile *p, const char *cache_dir, char **ret_tarball, char **reterr);
