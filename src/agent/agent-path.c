/**
 * The agent's access to its tree through Agent.root_fd: strict (no symlink but the appliance's own,
 * checked to be exact) and image (links followed, below the root); bounded, typed reads; atomic
 * writes with owner and mode set on the fd; messages that name the link in the way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-path.h"
#include "chase.h"
#include "cleanup.h"
#include "fileio.h"
#include "log.h"
#include "profile.h"
#include "reterr.h"

#define AGENT_READ_MAX (64U * 1024U * 1024U)

bool agent_is_host_root(const Agent *a) {
        return streq(a->root, "/");
}

char *agent_path(const Agent *a, const char *path) {
        char *p;

        if (agent_is_host_root(a))
                return strdup(path);
        if (asprintf(&p, "%s%s%s", a->root, path[0] == '/' ? "" : "/", path) < 0)
                return NULL;
        return p;
}

int agent_open_root(Agent *a) {
        int fd = open(a->root, O_PATH | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        a->root_fd = fd;
        return 0;
}

int agent_resolve(const Agent *a, const char *path, char **ret) {
        for (size_t i = 0; i < appliance_links_n; i++) {
                const ApplianceLink *l = &appliance_links[i];
                size_t n = strlen(l->path);
                _cleanup_free_ char *cur = NULL, *want = NULL;
                int r;

                if (!strneq(path, l->path, n) || (path[n] != 0 && path[n] != '/'))
                        continue;
                r = chase_readlink(a->root_fd, l->path, CHASE_NO_SYMLINKS, &cur);
                if (r == -EINVAL || r == -ENOENT)
                        break;  /* a directory (not moved yet) or nothing: the path as it is */
                if (r < 0)
                        return r;
                want = relative_link_target(l->path, l->target);
                if (!want)
                        return -ENOMEM;
                if (!streq(cur, want) && !streq(cur, l->target))
                        return -ELOOP;  /* agent_io_reason() names it */
                return asprintf(ret, "%s%s", l->target, path + n) < 0 ? -ENOMEM : 0;
        }
        *ret = strdup(path);
        return *ret ? 0 : -ENOMEM;
}

int agent_open(const Agent *a, const char *path, int flags, int *ret_fd) {
        _cleanup_free_ char *p = NULL;
        int r;

        r = agent_resolve(a, path, &p);
        if (r < 0)
                return r;
        return chase_open(a->root_fd, p, CHASE_NO_SYMLINKS, flags, 0, ret_fd);
}

bool agent_exists(const Agent *a, const char *path) {
        _cleanup_close_ int fd = -EBADF;
        return agent_open(a, path, O_PATH | O_NOFOLLOW, &fd) >= 0;
}

int agent_read_file(const Agent *a, const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_free_ char *p = NULL;
        int r;

        r = agent_resolve(a, path, &p);
        if (r < 0)
                return r;
        return read_input(a->root_fd, p, INPUT_IN_ROOT | INPUT_NO_SYMLINKS, max ?: AGENT_READ_MAX, ret, ret_size);
}

int agent_read_image_file(const Agent *a, const char *path, size_t max, char **ret, size_t *ret_size) {
        return read_input(a->root_fd, path, INPUT_IN_ROOT | INPUT_FOLLOW, max ?: AGENT_READ_MAX, ret, ret_size);
}

int agent_open_image(const Agent *a, const char *path, int flags, int *ret_fd) {
        return chase_open(a->root_fd, path, 0, flags, 0, ret_fd);
}

/* The resolved parent directory of path (strict) and the last component. */
static int agent_parent(const Agent *a, const char *path, char **ret_path, int *ret_dir_fd, char **ret_name) {
        int r = agent_resolve(a, path, ret_path);
        if (r < 0)
                return r;
        return chase_parent(a->root_fd, *ret_path, CHASE_NO_SYMLINKS, ret_dir_fd, ret_name);
}

/* 1 if dir_fd/name is a regular file with exactly this content, mode and owner. */
static int file_is(int dir_fd, const char *name, const void *data, size_t len, mode_t mode, uid_t uid, gid_t gid) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        _cleanup_free_ char *old = NULL;
        struct stat st;
        size_t n;

        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t) st.st_size != len ||
            (st.st_mode & 07777) != (mode & 07777) || (uid != (uid_t) -1 && st.st_uid != uid) ||
            (gid != (gid_t) -1 && st.st_gid != gid))
                return 0;
        if (read_full_fd(fd, len + 1, &old, &n) < 0)
                return 0;
        return n == len && memcmp(old, data, len) == 0;
}

int agent_write_file(const Agent *a, const char *path, const void *data, size_t len, mode_t mode, uid_t uid,
                     gid_t gid) {
        _cleanup_free_ char *p = NULL, *name = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        int r;

        r = agent_parent(a, path, &p, &dir_fd, &name);
        if (r == -ENOENT) {
                _cleanup_free_ char *dir = strdup(p);
                char *slash;

                if (!dir)
                        return -ENOMEM;
                slash = strrchr(dir, '/');
                if (slash)
                        *slash = 0;
                r = chase_mkdir_p(a->root_fd, dir, CHASE_NO_SYMLINKS, 0755, (uid_t) -1, (gid_t) -1, NULL);
                if (r < 0)
                        return r;
                r = chase_parent(a->root_fd, p, CHASE_NO_SYMLINKS, &dir_fd, &name);
        }
        if (r < 0)
                return r;
        if (file_is(dir_fd, name, data, len, mode, uid, gid))
                return 0;
        r = write_file_atomic_in_root(a->root_fd, p, CHASE_NO_SYMLINKS, data, len, mode, uid, gid);
        return r < 0 ? r : 1;
}

int agent_unlink(const Agent *a, const char *path) {
        _cleanup_free_ char *p = NULL, *name = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        int r;

        r = agent_parent(a, path, &p, &dir_fd, &name);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int agent_mkdir(const Agent *a, const char *path, mode_t mode, uid_t uid, gid_t gid, int *ret_fd) {
        _cleanup_free_ char *p = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r, created;

        r = agent_resolve(a, path, &p);
        if (r < 0)
                return r;
        created = chase_mkdir_p(a->root_fd, p, CHASE_NO_SYMLINKS, mode, uid, gid, &fd);
        if (created < 0)
                return created;
        if (fstat(fd, &st) < 0)
                return -errno;
        if ((uid != (uid_t) -1 && st.st_uid != uid) || (gid != (gid_t) -1 && st.st_gid != gid) ||
            (st.st_mode & 07777) != (mode & 07777)) {
                r = fd_chown_chmod(fd, uid, gid, mode);
                if (r < 0)
                        return r;
                created = 1;
        }
        if (ret_fd)
                *ret_fd = TAKE_FD(fd);
        return created;
}

int agent_load_profile(const Agent *a, Profile **ret, char **reterr) {
        _cleanup_free_ char *text = NULL, *shown = NULL;
        size_t len;
        int r;

        if (a->profile_path) {
                /* --profile: a path as the process sees it, given by whoever runs the agent. */
                r = read_input(AT_FDCWD, a->profile_path, INPUT_FOLLOW, 0, &text, &len);
                shown = strdup(a->profile_path);
        } else {
                r = agent_read_image_file(a, AGENT_PROFILE, 0, &text, &len);
                shown = agent_path(a, AGENT_PROFILE);
        }
        if (!shown)
                return -ENOMEM;
        if (r == -ENOENT)
                /* No profile: an empty one (no services, templates or features). */
                return profile_load_file(shown, PROFILE_LOAD_MISSING_EMPTY, ret, reterr);
        if (r < 0) {
                _cleanup_free_ char *why = agent_io_reason(a, AGENT_PROFILE, r);
                return reterr_printf(reterr, r, "%s: cannot read profile: %s", shown, why ?: strerror(-r));
        }
        return profile_load_from_string(shown, text, len, ret, reterr);
}

/* The first component of path (below the root) that is a symlink, and its target. */
static int find_link(const Agent *a, const char *path, char **ret_link, char **ret_target) {
        _cleanup_free_ char *prefix = strdup(path);

        if (!prefix)
                return -ENOMEM;
        for (char *s = prefix + 1;; s++) {
                bool end = *s == 0;
                _cleanup_close_ int fd = -EBADF;
                struct stat st;

                if (*s != '/' && !end)
                        continue;
                *s = 0;
                if (chase_open(a->root_fd, prefix, CHASE_NO_SYMLINKS, O_PATH | O_NOFOLLOW, 0, &fd) < 0)
                        return -ENOENT;
                if (fstat(fd, &st) >= 0 && S_ISLNK(st.st_mode)) {
                        char target[4096];
                        ssize_t n = readlinkat(fd, "", target, sizeof target - 1);

                        target[n < 0 ? 0 : n] = 0;
                        *ret_target = strdup(target);
                        *ret_link = strdup(prefix);
                        return *ret_target && *ret_link ? 0 : -ENOMEM;
                }
                if (end)
                        return -ENOENT;
                *s = '/';
        }
}

char *agent_io_reason(const Agent *a, const char *path, int r) {
        char *out = NULL;

        if (r == -ELOOP) {
                _cleanup_free_ char *p = NULL, *link = NULL, *target = NULL;

                if (agent_resolve(a, path, &p) < 0)
                        p = strdup(path);
                if (p && find_link(a, p, &link, &target) >= 0)
                        return asprintf(&out, "'%s' is a symbolic link (to '%s'), refused", link, target) < 0
                                       ? NULL
                                       : out;
                return strdup("a symbolic link is in the way, refused");
        }
        if (r == -EBADFD)
                return strdup("not a regular file");
        return strdup(strerror(-r));
}

int agent_log_io_error(const Agent *a, const char *verb, const char *path, int r) {
        _cleanup_free_ char *why = agent_io_reason(a, path, r);

        log_error("Failed to %s '%s': %s", verb, path, why ?: strerror(-r));
        return r;
}

int agent_write_text(const Agent *a, const char *path, const char *data, mode_t mode, uid_t uid, gid_t gid,
                     char **reterr) {
        int r = agent_write_file(a, path, data, strlen(data), mode, uid, gid);
        if (r < 0) {
                _cleanup_free_ char *why = agent_io_reason(a, path, r);
                return reterr_printf(reterr, r, "Cannot write '%s': %s", path, why ?: strerror(-r));
        }
        return r;
}

int agent_read_text(const Agent *a, const char *path, size_t max, char **ret, char **reterr) {
        int r = agent_read_file(a, path, max, ret, NULL);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (r < 0) {
                _cleanup_free_ char *why = agent_io_reason(a, path, r);
                return reterr_printf(reterr, r, "Cannot read '%s': %s", path, why ?: strerror(-r));
        }
        return 0;
}
