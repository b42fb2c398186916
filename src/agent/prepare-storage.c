/**
 * prepare-storage: the data and volatile filesystems, growing the last partition, the runtime
 * layout of the manual, and the one-time moves of service state onto /data and /volatile.
 *
 *  1. Mounts: ecs-data at /data and ecs-volatile at /volatile (ext4, found by label, fstab entries
 *     "LABEL=... ... ext4 defaults,nofail 0 2"). appliance:storage:ignore:{data,volatile}: true
 *     never mounts it; false requires it (missing = failure); unset mounts it when present. The
 *     agent never creates filesystems (no mkfs at all), so no data can be formatted away.
 *  2. Grow the last partition of the root disk and its ext4 (growpart.h), unless
 *     appliance:storage:grow_root is false. With --root the root must be a mount point, so a test
 *     directory on the host's disk can never grow the host's partition.
 *  3. Directories with the owners and modes of the reference (app/postgres from ROOT/etc/passwd;
 *     1000 and 472 are container uids, numeric on purpose).
 *  4. Moves, once, with the owning service stopped: the old directory moves onto the (empty) target
 *     and becomes a relative symlink (../data/etc), which resolves the same in the image and under
 *     --root. A non-empty target wins: the old directory is kept as NAME.appliance-old.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"
#include "fileio.h"
#include "growpart.h"
#include "log.h"
#include "probe.h"
#include "spawn.h"
#include "prepare-storage.h"
#include "users.h"

typedef struct LayoutDir {
        const char *path;
        const char *owner;
        mode_t mode;
} LayoutDir;

static const LayoutDir layout[] = {
        { "/data", "root", 0755 },
        { "/data/etc", "app", 0755 },
        { "/data/ecs-ca", "1000", 0700 },
        { "/data/ecs-gpg", "1000", 0700 },
        { "/data/ecs-pgdump", "app", 0755 },
        { "/data/ecs-storage-vault", "1000", 0755 },
        { "/data/postgresql", "postgres", 0755 },
        { "/volatile", "root", 0755 },
        { "/volatile/docker", "root", 0711 },
        { "/volatile/ecs-backup-test", "app", 0755 },
        { "/volatile/ecs-cache", "1000", 0755 },
        { "/volatile/redis", "1000", 0755 },
        { "/volatile/prometheus", "1000", 0755 },
        { "/volatile/alertmanager", "1000", 0755 },
        { "/volatile/grafana", "472", 0755 },
        { "/volatile/duplicity", "root", 0755 },
};

/* Inside moved directories: made after the moves, so that /data/etc is still empty for them. */
static const LayoutDir layout_late[] = {
        { "/data/etc/tags", "app", 0755 },
        { "/data/etc/flags", "app", 0755 },
        { "/data/etc/hooks", "app", 0755 },
};

typedef struct Relocation {
        const char *src;
        const char *target;
        const char *unit;   /* stopped around the move */
} Relocation;

static const Relocation relocations[] = {
        { "/app/etc", "/data/etc", NULL },
        { "/app/ecs-ca", "/data/ecs-ca", NULL },
        { "/app/ecs-gpg", "/data/ecs-gpg", NULL },
        { "/app/ecs-storage-vault", "/data/ecs-storage-vault", NULL },
        { "/app/ecs-cache", "/volatile/ecs-cache", NULL },
        { "/var/lib/postgresql", "/data/postgresql", "postgresql.service" },
        { "/var/lib/docker", "/volatile/docker", "docker.service" },
};

static const LayoutDir *layout_find(const char *path) {
        for (size_t i = 0; i < ELEMENTSOF(layout); i++)
                if (streq(layout[i].path, path))
                        return &layout[i];
        return NULL;
}

char *relative_link_target(const char *src, const char *target) {
        size_t depth = 0;
        char *out, *o;

        for (const char *c = src + 1; *c; c++)
                if (*c == '/')
                        depth++;
        out = malloc(depth * 3 + strlen(target) + 1);
        if (!out)
                return NULL;
        o = out;
        for (size_t i = 0; i < depth; i++)
                o = stpcpy(o, "../");
        strcpy(o, target + 1);
        return out;
}

static int resolve_owner(const Agent *a, const char *owner, uid_t *uid, gid_t *gid) {
        int r = owner_parse(a, owner, uid, gid);
        if (r == -ESRCH) {
                log_warning("User '%s' does not exist in the image, using root.", owner);
                *uid = 0;
                *gid = 0;
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Failed to look up user '%s': %m", owner);
        return 0;
}

/* Creates or fixes one directory. Returns 1 if changed. */
static int ensure_dir(const Agent *a, const LayoutDir *d) {
        _cleanup_free_ char *p = agent_path(a, d->path);
        struct stat st;
        uid_t uid;
        gid_t gid;
        int r, changed = 0;

        if (!p)
                return log_oom();
        r = resolve_owner(a, d->owner, &uid, &gid);
        if (r < 0)
                return r;
        if (stat(p, &st) < 0) {
                if (errno != ENOENT)
                        return log_error_errno(errno, "Failed to stat '%s': %m", p);
                r = mkdir_p(p, d->mode);
                if (r < 0)
                        return log_error_errno(r, "Failed to create '%s': %m", p);
                if (stat(p, &st) < 0)
                        return log_error_errno(errno, "Failed to stat '%s': %m", p);
                changed = 1;
        }
        if (!S_ISDIR(st.st_mode))
                return log_error_errno(ENOTDIR, "'%s' exists and is not a directory.", p);
        if (st.st_uid != uid || st.st_gid != gid) {
                if (chown(p, uid, gid) < 0)
                        return log_error_errno(errno, "Failed to chown '%s': %m", p);
                changed = 1;
        }
        if ((st.st_mode & 07777) != d->mode || changed) {
                if (chmod(p, d->mode) < 0)
                        return log_error_errno(errno, "Failed to chmod '%s': %m", p);
                changed = changed || (st.st_mode & 07777) != d->mode;
        }
        if (changed)
                log_info("Directory '%s' ready (owner %s, mode %04o).", d->path, d->owner, (unsigned) d->mode);
        return changed;
}

static int dir_is_empty(const char *path) {
        DIR *d = opendir(path);
        int empty = 1;

        if (!d)
                return -errno;
        for (struct dirent *de; (de = readdir(d));)
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        empty = 0;
                        break;
                }
        closedir(d);
        return empty;
}

static int symlink_atomic(const char *target, const char *path) {
        _cleanup_free_ char *tmp = NULL;

        if (asprintf(&tmp, "%s.appliance-tmp", path) < 0)
                return -ENOMEM;
        (void) unlink(tmp);
        if (symlink(target, tmp) < 0)
                return -errno;
        if (rename(tmp, path) < 0) {
                int r = -errno;
                (void) unlink(tmp);
                return r;
        }
        return 0;
}

/* Moves the contents of src into the empty directory target (possibly across filesystems). */
static int move_tree(const char *src, const char *target) {
        _cleanup_free_ char *from = NULL;
        int r;

        if (rmdir(target) >= 0) {
                if (rename(src, target) >= 0)
                        return 0;
                r = -errno;
                if (mkdir(target, 0755) < 0 && errno != EEXIST)
                        return -errno;
                if (r != -EXDEV)
                        return r;
        }
        /* Another filesystem: copy with everything (owners, modes, links, xattrs), then remove. */
        if (asprintf(&from, "%s/.", src) < 0)
                return -ENOMEM;
        r = spawn_run((char *[]) { (char *) "cp", (char *) "-a", (char *) "--", from, (char *) target, NULL });
        if (r != 0)
                return r < 0 ? r : -EIO;
        r = spawn_run((char *[]) { (char *) "rm", (char *) "-rf", (char *) "--", (char *) src, NULL });
        if (r != 0)
                return r < 0 ? r : -EIO;
        return 0;
}

/* Returns 1 if changed. */
static int relocate(const Agent *a, const Relocation *rl) {
        _cleanup_free_ char *src = agent_path(a, rl->src), *target = agent_path(a, rl->target),
                           *link = relative_link_target(rl->src, rl->target), *parent = NULL;
        const char *base;
        bool stopped = false;
        struct stat st;
        int r;

        if (!src || !target || !link)
                return log_oom();
        if (lstat(src, &st) >= 0 && S_ISLNK(st.st_mode)) {
                char cur[4096];
                ssize_t n = readlink(src, cur, sizeof cur - 1);

                if (n < 0)
                        return log_error_errno(errno, "Failed to read link '%s': %m", src);
                cur[n] = 0;
                if (streq(cur, link) || streq(cur, rl->target))
                        return 0;
                log_warning("'%s' points to '%s', pointing it to '%s'.", rl->src, cur, link);
        } else if (lstat(src, &st) >= 0 && S_ISDIR(st.st_mode)) {
                r = dir_is_empty(src);
                if (r < 0)
                        return log_error_errno(r, "Failed to read '%s': %m", src);
                if (r > 0) {
                        if (rmdir(src) < 0)
                                return log_error_errno(errno, "Failed to remove empty '%s': %m", src);
                } else {
                        if (rl->unit && agent_systemctl(a, "is-active", rl->unit) == 0) {
                                log_info("Stopping '%s' to move '%s'.", rl->unit, rl->src);
                                r = agent_systemctl(a, "stop", rl->unit);
                                if (r != 0)
                                        return log_error_errno(r < 0 ? r : EIO, "Failed to stop '%s'.", rl->unit);
                                stopped = true;
                        }
                        r = dir_is_empty(target);
                        if (r < 0)
                                return log_error_errno(r, "Failed to read '%s': %m", target);
                        if (r > 0) {
                                r = move_tree(src, target);
                                if (r < 0)
                                        return log_error_errno(r, "Failed to move '%s' to '%s': %m", rl->src,
                                                               rl->target);
                                log_info("Moved '%s' to '%s'.", rl->src, rl->target);
                                const LayoutDir *d = layout_find(rl->target);
                                if (d) {
                                        r = ensure_dir(a, d);
                                        if (r < 0)
                                                return r;
                                }
                        } else {
                                _cleanup_free_ char *old = NULL;
                                if (asprintf(&old, "%s.appliance-old", src) < 0)
                                        return log_oom();
                                if (rename(src, old) < 0)
                                        return log_error_errno(errno, "Failed to move '%s' aside: %m", src);
                                log_warning("'%s' already holds data; kept it, the old '%s' is now '%s.appliance-old'.",
                                            rl->target, rl->src, rl->src);
                        }
                }
        } else if (lstat(src, &st) >= 0)
                return log_error_errno(EEXIST, "'%s' exists and is neither a directory nor a symlink.", src);

        r = path_split(src, &parent, &base);
        if (r < 0)
                return log_oom();
        r = mkdir_p(parent, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create '%s': %m", parent);
        r = symlink_atomic(link, src);
        if (r < 0)
                return log_error_errno(r, "Failed to link '%s' to '%s': %m", rl->src, link);
        log_info("Linked '%s' -> '%s'.", rl->src, link);
        if (stopped) {
                /* Queued, not waited for: the unit is ordered after prepare-storage. */
                r = agent_systemctl(a, "start-no-block", rl->unit);
                if (r != 0)
                        log_warning("Failed to start '%s' again after the move, ignoring.", rl->unit);
        }
        return 1;
}

int fstab_ensure(const Agent *a, const char *label, const char *where) {
        _cleanup_free_ char *path = agent_path(a, "/etc/fstab"), *text = NULL, *out = NULL;
        int r;

        if (!path)
                return log_oom();
        r = read_full_file(path, &text, NULL, 1024 * 1024);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "Failed to read '%s': %m", path);
        for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                char spec[512], mp[512];
                if (l[0] == '#' || sscanf(l, "%511s %511s", spec, mp) != 2)
                        continue;
                if (streq(mp, where))
                        return 0;
        }
        if (asprintf(&out, "%s%sLABEL=%s %s ext4 defaults,nofail 0 2\n", text ?: "",
                     text && *text && !endswith(text, "\n") ? "\n" : "", label, where) < 0)
                return log_oom();
        {
                _cleanup_free_ char *etc = agent_path(a, "/etc");
                if (!etc)
                        return log_oom();
                (void) mkdir_p(etc, 0755);
        }
        r = write_file_atomic(path, out, strlen(out), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write '%s': %m", path);
        log_info("Added 'LABEL=%s %s' to /etc/fstab.", label, where);
        return 1;
}

/* Returns 1 if mounted now, 0 if already or not wanted, <0 on failure with *reason set. */
static int mount_label(const Agent *a, const Env *env, const char *label, const char *where, const char *ignore_key,
                       char **reason) {
        _cleanup_free_ char *dev = NULL, *mp = NULL;
        int ignore = env_get_bool(env, ignore_key, -1), r;
        struct stat dst, mst;
        FsType type;

        if (ignore == 1) {
                log_info("%s is true: '%s' stays a directory on the root filesystem.", ignore_key, where);
                return 0;
        }
        r = probe_find_label(a, (const char *const[]) { label, NULL }, &dev, &type);
        if (r == -ENOENT) {
                if (ignore == 0)
                        return asprintf(reason, "No filesystem labelled '%s' for %s (%s is false)", label, where,
                                        ignore_key) < 0 ? log_oom() : -ENOENT;
                log_info("No filesystem labelled '%s': '%s' stays on the root filesystem.", label, where);
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Failed to look for '%s': %m", label);
        if (type != FS_EXT)
                return asprintf(reason, "'%s' (label %s) holds %s, not ext4; it is left untouched", dev, label,
                                fs_type_to_string(type)) < 0 ? log_oom() : -EMEDIUMTYPE;

        r = fstab_ensure(a, label, where);
        if (r < 0)
                return r;
        mp = agent_path(a, where);
        if (!mp)
                return log_oom();
        r = mkdir_p(mp, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create '%s': %m", mp);
        if (stat(dev, &dst) < 0)
                return log_error_errno(errno, "Failed to stat '%s': %m", dev);
        if (stat(mp, &mst) >= 0 && S_ISBLK(dst.st_mode) && mst.st_dev == dst.st_rdev) {
                log_info("'%s' is already mounted on '%s'.", label, where);
                return 0;
        }
        if (!S_ISBLK(dst.st_mode))
                return asprintf(reason, "'%s' (label %s) is not a block device", dev, label) < 0 ? log_oom() : -ENOTBLK;
        {
                /* Mount the device node itself, not the by-label link, so that mount tables name it. */
                char *real = realpath(dev, NULL);
                if (real) {
                        free(dev);
                        dev = real;
                }
        }
        if (mount(dev, mp, "ext4", 0, NULL) < 0) {
                r = -errno;
                return asprintf(reason, "Failed to mount '%s' (label %s) on %s: %s", dev, label, where,
                                strerror(-r)) < 0 ? log_oom() : r;
        }
        log_info("Mounted '%s' (label %s) on '%s'.", dev, label, where);
        return 1;
}

static bool root_is_mountpoint(const Agent *a) {
        _cleanup_free_ char *parent = NULL;
        struct stat st, pst;

        if (agent_is_host_root(a))
                return true;
        if (asprintf(&parent, "%s/..", a->root) < 0)
                return false;
        return stat(a->root, &st) >= 0 && stat(parent, &pst) >= 0 && st.st_dev != pst.st_dev;
}

int step_prepare_storage(const Agent *a) {
        _cleanup_(env_freep) Env *env = NULL;
        _cleanup_free_ char *reason = NULL, *msg = NULL;
        uint64_t t0 = now_usec();
        int r, changed = 0;

        r = agent_step_begin(a, "prepare-storage", &env);
        if (r <= 0)
                return r;
        (void) agent_notify("STATUS=Preparing storage");

        r = mount_label(a, env, "ecs-data", "/data", "appliance:storage:ignore:data", &reason);
        if (r >= 0) {
                changed |= r > 0;
                r = mount_label(a, env, "ecs-volatile", "/volatile", "appliance:storage:ignore:volatile", &reason);
                changed |= r > 0;
        }
        if (r < 0)
                return agent_step_fail(a, "prepare-storage", t0, reason ?: "mounting the data filesystems failed");

        if (env_get_bool(env, "appliance:storage:grow_root", true) == 0)
                log_info("appliance:storage:grow_root is false, not growing the disk.");
        else if (!root_is_mountpoint(a))
                log_info("'%s' is not a mount point, not growing any partition.", a->root);
        else {
                r = grow_last_partition(a->root);
                if (r < 0)
                        log_warning_errno(r, "Growing the last partition failed, continuing with its current size.");
                changed |= r > 0;
        }

        for (size_t i = 0; i < ELEMENTSOF(layout); i++) {
                r = ensure_dir(a, &layout[i]);
                if (r < 0) {
                        if (asprintf(&reason, "Cannot create the runtime layout at '%s'", layout[i].path) < 0)
                                return log_oom();
                        return agent_step_fail(a, "prepare-storage", t0, reason);
                }
                changed |= r > 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(relocations); i++) {
                r = relocate(a, &relocations[i]);
                if (r < 0) {
                        if (asprintf(&reason, "Cannot move '%s' to '%s'", relocations[i].src, relocations[i].target) < 0)
                                return log_oom();
                        return agent_step_fail(a, "prepare-storage", t0, reason);
                }
                changed |= r > 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(layout_late); i++) {
                r = ensure_dir(a, &layout_late[i]);
                if (r < 0) {
                        if (asprintf(&reason, "Cannot create the runtime layout at '%s'", layout_late[i].path) < 0)
                                return log_oom();
                        return agent_step_fail(a, "prepare-storage", t0, reason);
                }
                changed |= r > 0;
        }

        (void) agent_record_step(a, "prepare-storage", changed ? STEP_CHANGED : STEP_OK,
                                 changed ? "storage prepared" : "storage unchanged", now_usec() - t0, NULL);
        return 0;
}
