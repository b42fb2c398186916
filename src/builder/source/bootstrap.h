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

/* Reads the host's apt configuration (/etc/apt/sources.list.d/ *.sources in deb822 form and
 * *.list / /etc/apt/sources.list in one-line form; the root is overridable with
 * $APPLIANCE_APT_ROOT, for tests) and returns the URI of the first "deb" entry that lists
 * `suite`. -ENOENT if none does (e.g. an Ubuntu suite on a Debian host). */
int bootstrap_find_mirror(const char *suite, char **ret_uri);

/* The one-line "deb [signed-by=...] URI SUITE COMPONENTS" sources for `suite` and its
 * -updates / -security companions, as mmdebstrap takes them. -ENOENT if `suite` itself has
 * no entry. */
int bootstrap_apt_sources(const char *suite, char ***ret_lines);

/* cache_dir NULL = bootstrap_default_cache_dir(). Returns 0 and the tarball path, or -errno
 * with a message (e.g. the Ubuntu archive is not reachable from the apt config). */
int bootstrap_rootfs(const Profile *p, const char *cache_dir, char **ret_tarball, char **reterr);

/* Hex SHA-256 over what determines the bootstrap: distribution, suite, architecture,
 * the sorted package list and the mirror. profile_digest() uses the mirror of the host's
 * apt configuration (bootstrap_apt_sources(), all lines); the _with_mirror variant takes it (NULL =
 * none). Caller frees; NULL on OOM. */
char *profile_digest(const Profile *p);
char *profile_digest_with_mirror(const Profile *p, const char *mirror);
