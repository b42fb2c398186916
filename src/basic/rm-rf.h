/**
 * Removing trees and making throw-away directories.
 */
#pragma once

#include "cleanup.h"

/* Removes path and, if it is a directory, everything below it, without following symlinks. A
 * missing path is success. Returns 0 or the first -errno. */
int rm_rf(const char *path);
/* rm_rf() and free(path), for _cleanup_(rm_rf_and_freep) char *dir: errors are ignored. */
char *rm_rf_and_free(char *path);
DEFINE_TRIVIAL_CLEANUP_FUNC(char *, rm_rf_and_free);

/* Makes a private (0700) directory "$TMPDIR/NAME.XXXXXX" (TMPDIR unset, empty or not absolute:
 * /tmp; also /tmp when the result could exceed max_len characters, 0: any length, for directories
 * that get sockets, whose paths must fit sun_path). Returns 0 and the path, or -errno. */
int mkdtemp_tmpdir(const char *name, size_t max_len, char **ret);
