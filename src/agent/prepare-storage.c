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
 *     --root. A non-empty target wins: the old directory is kept as NAME.appliance-old. The move is
 *     crash-safe (move_tree()): a cut at any point leaves a state the next run finishes or redoes.
 *     An image whose builder wrote the volume with the copy on it (disk/prefill.h) ships the state
 *     after the commit point: with that volume, the first boot's move is two renames; without it
 *     (a blank volume, or none), the old directory comes back and moves as above.
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
#include "agent-path.h"
#include "chase.h"
#include "cleanup.h"
#include "fileio.h"
#include "growpart.h"
#include "log.h"
#include "probe.h"
#include "reterr.h"
#include "rm-rf.h"
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

static const LayoutDir *layout_find(const char *path) {
        for (size_t i = 0; i < ELEMENTSOF(layout); i++)
                if (streq(layout[i].path, path))
                        return &layout[i];
        return NULL;
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

/* Creates or fixes one directory (through its fd, never following a link). Returns 1 if changed. */
static int ensure_dir(const Agent *a, const LayoutDir *d, char **reason) {
        uid_t uid;
        gid_t gid;
        int r;

        r = resolve_owner(a, d->owner, &uid, &gid);
        if (r < 0)
                return r;
        r = agent_mkdir(a, d->path, d->mode, uid, gid, NULL);
        if (r < 0) {
                _cleanup_free_ char *why = agent_io_reason(a, d->path, r);
                return reterr_printf(reason, r, "Cannot create the runtime layout at '%s': %s", d->path,
                                     why ?: strerror(-r));
        }
        if (r > 0)
                log_info("Directory '%s' ready (owner %s, mode %04o).", d->path, d->owner, (unsigned) d->mode);
        return r;
}

/* Makes dir_fd/name a symlink to target, replacing whatever link is there in one rename. */
static int symlink_atomic_at(int dir_fd, const char *target, const char *name) {
        _cleanup_free_ char *tmp = NULL;

        if (asprintf(&tmp, "%s.appliance-tmp", name) < 0)
                return -ENOMEM;
        (void) unlinkat(dir_fd, tmp, 0);
        if (symlinkat(target, dir_fd, tmp) < 0)
                return -errno;
        if (renameat(dir_fd, tmp, dir_fd, name) < 0) {
                int r = -errno;
                (void) unlinkat(dir_fd, tmp, 0);
                return r;
        }
        return 0;
}

/* "/proc/PID/fd/N/name": a path to dir_fd/name for a child process that cannot be redirected by a
 * symlink planted on the way (the fd is the resolved directory). */
static char *fd_child_path(int dir_fd, const char *name) {
        char *p;
        return asprintf(&p, "/proc/%d/fd/%d/%s", (int) getpid(), dir_fd, name) < 0 ? NULL : p;
}

/* APPLIANCE_AGENT_CUT=POINT ends the agent at once (as a power cut would, without cleanup) when a
 * move reaches POINT: copied, aside, renamed, linked (the last two across filesystems; renamed also
 * after the one rename on the same filesystem). Tests use it to prove that the next run
 * completes or redoes the move from whatever a cut left behind. */
static void cut_point(const char *point) {
        const char *e = getenv("APPLIANCE_AGENT_CUT");

        if (e && streq(e, point)) {
                log_warning("APPLIANCE_AGENT_CUT=%s: stopping here.", point);
                _exit(137);
        }
}

/* Both the directory entries and the file data of the filesystem of the directory fd (O_PATH or
 * not) reach the disk. */
static int sync_fs(int dir_fd) {
        _cleanup_close_ int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        return syncfs(fd) < 0 ? -errno : 0;
}

/* The directory's entries reach the disk (a rename in it is durable): fsync of the directory
 * commits the filesystem's journal, without writing back every dirty file of the filesystem as
 * syncfs does (seconds on a first boot that resized the root a moment before). */
static int sync_dir(int dir_fd) {
        _cleanup_close_ int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        return fsync(fd) < 0 ? -errno : 0;
}

static int remove_at(int dir_fd, const char *name) {
        _cleanup_free_ char *p = fd_child_path(dir_fd, name);
        struct stat st;

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!p)
                return -ENOMEM;
        return rm_rf(p);
}

/* Moves the directory src_dir/src onto the empty directory target_dir/target, crash-safe:
 *   same filesystem: one rename over the empty target, both directories fsynced;
 *   across filesystems: cp -a to .TARGET.appliance-tmp on the target's filesystem, syncfs, rename
 *   the source to NAME.appliance-moved (the commit point, its directory fsynced), rename the copy
 *   over the target, its directory fsynced.
 * A cut before the commit point leaves the source in place and a temporary copy that the next run
 * removes and makes again; a cut after it is finished by finish_move(). */
static int move_tree(int src_dir, const char *src, int target_dir, const char *target) {
        _cleanup_free_ char *from = NULL, *to = NULL, *tmp = layout_tmp_name(target), *moved = layout_moved_name(src);
        int r;

        if (!tmp || !moved)
                return -ENOMEM;
        if (renameat(src_dir, src, target_dir, target) >= 0) {
                /* Only directory entries changed: the tree's data is where it was. */
                r = sync_dir(target_dir);
                if (r >= 0)
                        r = sync_dir(src_dir);
                if (r >= 0)
                        cut_point("renamed");
                return r;
        }
        if (errno != EXDEV)
                return -errno;

        r = remove_at(target_dir, tmp);
        if (r < 0)
                return r;
        from = fd_child_path(src_dir, src);
        to = fd_child_path(target_dir, tmp);
        if (!from || !to)
                return -ENOMEM;
        r = spawn_run((char *[]) { (char *) "cp", (char *) "-a", (char *) "--", from, to, NULL });
        if (r != 0)
                return r < 0 ? r : -EIO;
        r = sync_fs(target_dir);
        if (r < 0)
                return r;
        cut_point("copied");
        if (renameat(src_dir, src, src_dir, moved) < 0)
                return -errno;
        r = sync_dir(src_dir);
        if (r < 0)
                return r;
        cut_point("aside");
        if (renameat(target_dir, tmp, target_dir, target) < 0)
                return -errno;
        r = sync_dir(target_dir);
        if (r < 0)
                return r;
        cut_point("renamed");
        return 0;
}

/* After the commit point of a move (dir_fd/NAME gone, NAME.appliance-moved there), left by a cut or
 * made so by the builder on the volume it wrote (disk/prefill.h): the complete copy still at its
 * temporary name goes over the target. Returns 1 if a move was finished. */
static int finish_move(const ApplianceLink *l, int dir_fd, const char *name, int tparent, const char *tname,
                       char **reason) {
        _cleanup_free_ char *tmp = layout_tmp_name(tname), *moved = layout_moved_name(name);
        struct stat st;
        int r;

        if (!tmp || !moved)
                return log_oom();
        if (fstatat(dir_fd, moved, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                return 0;
        if (fstatat(tparent, tmp, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                if (renameat(tparent, tmp, tparent, tname) < 0)
                        return reterr_printf(reason, -errno, "Cannot finish moving '%s' to '%s': %s", l->path,
                                             l->target, strerror(errno));
                r = sync_dir(tparent);
                if (r < 0)
                        return reterr_printf(reason, r, "Cannot sync '%s': %s", l->target, strerror(-r));
                log_info("Finishing the move of '%s' to '%s': its copy there is complete.", l->path, l->target);
        } else
                /* The copy was renamed into place before a cut, or the volume came with data of its
                 * own (one from an earlier appliance): what the target holds is kept. */
                log_info("Finishing the move of '%s' to '%s': the data there is kept.", l->path, l->target);
        return 1;
}

/* The non-empty directory dir_fd/name moves to l->target (service stopped around it), or aside when
 * the target holds data already. Returns 1 if the service was stopped. */
static int relocate_dir(const Agent *a, const ApplianceLink *l, int dir_fd, const char *name, char **reason) {
        _cleanup_close_ int target_fd = -EBADF, tparent = -EBADF;
        _cleanup_free_ char *tname = NULL;
        bool stopped = false;
        int r;

        if (l->unit && agent_systemctl(a, "is-active", l->unit) == 0) {
                log_info("Stopping '%s' to move '%s'.", l->unit, l->path);
                r = agent_systemctl(a, "stop", l->unit);
                if (r != 0)
                        return reterr_printf(reason, -EIO, "Cannot stop '%s' to move '%s'", l->unit, l->path);
                stopped = true;
        }
        r = agent_open(a, l->target, O_RDONLY | O_DIRECTORY, &target_fd);
        if (r >= 0)
                r = chase_parent(a->root_fd, l->target, CHASE_NO_SYMLINKS, &tparent, &tname);
        if (r < 0) {
                _cleanup_free_ char *why = agent_io_reason(a, l->target, r);
                return reterr_printf(reason, r, "Cannot move '%s' to '%s': %s", l->path, l->target,
                                     why ?: strerror(-r));
        }
        r = dir_fd_is_empty(target_fd);
        if (r < 0)
                return reterr_printf(reason, r, "Cannot read '%s': %s", l->target, strerror(-r));
        if (r > 0) {
                r = move_tree(dir_fd, name, tparent, tname);
                if (r < 0)
                        return reterr_printf(reason, r, "Cannot move '%s' to '%s': %s", l->path, l->target,
                                             strerror(-r));
                log_info("Moved '%s' to '%s'.", l->path, l->target);
                const LayoutDir *d = layout_find(l->target);
                if (d) {
                        r = ensure_dir(a, d, reason);
                        if (r < 0)
                                return r;
                }
        } else {
                _cleanup_free_ char *old = NULL;
                if (asprintf(&old, "%s.appliance-old", name) < 0)
                        return log_oom();
                if (renameat(dir_fd, name, dir_fd, old) < 0)
                        return reterr_printf(reason, -errno, "Cannot move '%s' aside: %s", l->path, strerror(errno));
                log_warning("'%s' already holds data; kept it, the old '%s' is now '%s.appliance-old'.", l->target,
                            l->path, l->path);
        }
        return stopped;
}

/* Returns 1 if changed. The link is the appliance's exactly, or the step refuses: a link the tree
 * holds with another target is never followed nor silently replaced. A move that a cut interrupted
 * is finished (after its commit point) or made again (before it). */
static int relocate(const Agent *a, const ApplianceLink *l, char **reason) {
        _cleanup_free_ char *link = relative_link_target(l->path, l->target), *parent = NULL, *tname = NULL,
                           *moved = NULL;
        _cleanup_close_ int dir_fd = -EBADF, tparent = -EBADF;
        const char *name;
        int stopped = 0, finished = 0;
        struct stat st;
        int r;

        if (!link)
                return log_oom();
        r = path_split(l->path, &parent, &name);
        if (r < 0)
                return log_oom();
        moved = layout_moved_name(name);
        if (!moved)
                return log_oom();
        r = chase_mkdir_p(a->root_fd, parent, CHASE_NO_SYMLINKS, 0755, (uid_t) -1, (gid_t) -1, &dir_fd);
        if (r < 0) {
                _cleanup_free_ char *why = agent_io_reason(a, parent, r);
                return reterr_printf(reason, r, "Cannot link '%s' to '%s': %s", l->path, link, why ?: strerror(-r));
        }

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT &&
            fstatat(dir_fd, moved, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISDIR(st.st_mode)) {
                _cleanup_close_ int target_fd = -EBADF;

                r = agent_open(a, l->target, O_RDONLY | O_DIRECTORY, &target_fd);
                if (r >= 0)
                        r = chase_parent(a->root_fd, l->target, CHASE_NO_SYMLINKS, &tparent, &tname);
                if (r < 0) {
                        _cleanup_free_ char *why = agent_io_reason(a, l->target, r);
                        return reterr_printf(reason, r, "Cannot finish moving '%s' to '%s': %s", l->path, l->target,
                                             why ?: strerror(-r));
                }
                _cleanup_free_ char *tmp = layout_tmp_name(tname);
                if (!tmp)
                        return log_oom();
                r = dir_fd_is_empty(target_fd);
                if (r < 0)
                        return reterr_printf(reason, r, "Cannot read '%s': %s", l->target, strerror(-r));
                if (r > 0 && fstatat(tparent, tmp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        /* No copy anywhere: the old directory is the only one, move it again. */
                        if (renameat(dir_fd, moved, dir_fd, name) < 0)
                                return reterr_printf(reason, -errno, "Cannot restore '%s': %s", l->path,
                                                     strerror(errno));
                        log_info("Moving '%s' again: its interrupted copy is gone.", l->path);
                } else {
                        finished = finish_move(l, dir_fd, name, tparent, tname, reason);
                        if (finished < 0)
                                return finished;
                        const LayoutDir *d = layout_find(l->target);
                        if (d) {
                                r = ensure_dir(a, d, reason);
                                if (r < 0)
                                        return r;
                        }
                }
        }

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISLNK(st.st_mode)) {
                char cur[4096];
                ssize_t n = readlinkat(dir_fd, name, cur, sizeof cur - 1);

                if (n < 0)
                        return reterr_printf(reason, -errno, "Cannot read the link '%s': %s", l->path, strerror(errno));
                cur[n] = 0;
                if (!streq(cur, link) && !streq(cur, l->target))
                        return reterr_printf(reason, -ELOOP,
                                             "'%s' is a symbolic link to '%s', not the appliance's '%s': refused",
                                             l->path, cur, link);
                if (fstatat(dir_fd, moved, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return 0;
                r = remove_at(dir_fd, moved);
                if (r < 0)
                        return reterr_printf(reason, r, "Cannot remove the moved '%s.appliance-moved': %s", l->path,
                                             strerror(-r));
                log_info("Removed the old '%s.appliance-moved' left by an interrupted move.", l->path);
                return 1;
        } else if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISDIR(st.st_mode)) {
                _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                r = fd < 0 ? -errno : dir_fd_is_empty(fd);
                if (r < 0)
                        return reterr_printf(reason, r, "Cannot read '%s': %s", l->path, strerror(-r));
                if (r > 0) {
                        if (unlinkat(dir_fd, name, AT_REMOVEDIR) < 0)
                                return reterr_printf(reason, -errno, "Cannot remove the empty '%s': %s", l->path,
                                                     strerror(errno));
                } else {
                        stopped = relocate_dir(a, l, dir_fd, name, reason);
                        if (stopped < 0)
                                return stopped;
                }
        } else if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0)
                return reterr_printf(reason, -EEXIST, "'%s' exists and is neither a directory nor a symlink", l->path);

        r = symlink_atomic_at(dir_fd, link, name);
        if (r >= 0)
                r = sync_dir(dir_fd);   /* a new entry in dir_fd: its fsync makes the link durable */
        if (r < 0)
                return reterr_printf(reason, r, "Cannot link '%s' to '%s': %s", l->path, link, strerror(-r));
        log_info("Linked '%s' -> '%s'.", l->path, link);
        if (fstatat(dir_fd, moved, &st, AT_SYMLINK_NOFOLLOW) >= 0)
                cut_point("linked");
        r = remove_at(dir_fd, moved);
        if (r < 0)
                return reterr_printf(reason, r, "Cannot remove the moved '%s.appliance-moved': %s", l->path,
                                     strerror(-r));
        if (stopped > 0) {
                /* Queued, not waited for: the unit is ordered after prepare-storage. */
                r = agent_systemctl(a, "start-no-block", l->unit);
                if (r != 0)
                        log_warning("Failed to start '%s' again after the move, ignoring.", l->unit);
        }
        return 1;
}

int fstab_ensure(const Agent *a, const char *label, const char *where) {
        _cleanup_free_ char *text = NULL, *out = NULL;
        int r;

        r = agent_read_file(a, "/etc/fstab", 1024 * 1024, &text, NULL);
        if (r < 0 && r != -ENOENT) {
                _cleanup_free_ char *why = agent_io_reason(a, "/etc/fstab", r);
                log_error("Failed to read /etc/fstab: %s", why ?: strerror(-r));
                return r;
        }
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
        r = agent_write_file(a, "/etc/fstab", out, strlen(out), 0644, (uid_t) -1, (gid_t) -1);
        if (r < 0) {
                _cleanup_free_ char *why = agent_io_reason(a, "/etc/fstab", r);
                log_error("Failed to write /etc/fstab: %s", why ?: strerror(-r));
                return r;
        }
        log_info("Added 'LABEL=%s %s' to /etc/fstab.", label, where);
        return 1;
}

/* Whether the block device st is what is mounted on where now (a fresh lookup: a descriptor opened
 * before the mount still names the directory below it). */
static bool label_mounted_on(const Agent *a, const char *where, const struct stat *dev) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (chase_mkdir_p(a->root_fd, where, CHASE_NO_SYMLINKS, 0755, (uid_t) -1, (gid_t) -1, &fd) < 0)
                return false;
        return fstat(fd, &st) >= 0 && st.st_dev == dev->st_rdev;
}

/* Returns 1 if the fstab line is new and the label was mounted now, 0 if it was mounted already (by
 * the agent, or by its mount unit), mounted again at a later boot or not wanted; <0 on failure
 * with *reason set. */
static int mount_label(const Agent *a, const Env *env, const char *label, const char *where, const char *ignore_key,
                       char **reason) {
        _cleanup_free_ char *dev = NULL;
        _cleanup_close_ int mfd = -EBADF;
        char mp[64];
        int ignore = env_get_bool(env, ignore_key, -1), r;
        bool fstab_added;
        struct stat dst, mst;
        FsType type;

        if (ignore == 1) {
                _cleanup_close_ int wfd = -EBADF;
                struct stat wst, rst;

                /* The agent leaves it alone; the image's own fstab line may have mounted it. */
                if (agent_open(a, where, O_PATH | O_DIRECTORY | O_CLOEXEC, &wfd) >= 0 && fstat(wfd, &wst) >= 0 &&
                    fstat(a->root_fd, &rst) >= 0 && wst.st_dev != rst.st_dev)
                        log_info("%s is true: the agent leaves '%s' alone (a filesystem is mounted there by /etc/fstab).",
                                 ignore_key, where);
                else
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
                return asprintf(reason, "Cannot add '%s' to /etc/fstab (see the journal)", where) < 0 ? log_oom() : r;
        fstab_added = r > 0;
        /* The mount point, never through a link: mount() gets its fd's /proc path. */
        r = chase_mkdir_p(a->root_fd, where, CHASE_NO_SYMLINKS, 0755, (uid_t) -1, (gid_t) -1, &mfd);
        if (r < 0) {
                _cleanup_free_ char *why = agent_io_reason(a, where, r);
                return asprintf(reason, "Cannot mount '%s' on %s: %s", label, where, why ?: strerror(-r)) < 0
                               ? log_oom()
                               : r;
        }
        snprintf(mp, sizeof mp, "/proc/self/fd/%d", mfd);
        if (stat(dev, &dst) < 0)
                return log_error_errno(errno, "Failed to stat '%s': %m", dev);
        if (fstat(mfd, &mst) >= 0 && S_ISBLK(dst.st_mode) && mst.st_dev == dst.st_rdev) {
                log_info("'%s' is already mounted on '%s'.", label, where);
                return 0;
        }
        if (!S_ISBLK(dst.st_mode))
                return asprintf(reason, "'%s' (label %s) is not a block device", dev, label) < 0 ? log_oom() : -ENOTBLK;
        /* On the running system a label with an fstab line is systemd's to mount: its mount unit may
         * still come (nofail lines are not waited for, and a device that udev announces late makes
         * the unit start after this step), and a mount of ours would then be mounted over. Ask for
         * the unit and take what it did; mount ourselves only when it cannot. */
        if (!fstab_added && agent_is_host_root(a) && where[0] == '/' && !strchr(where + 1, '/')) {
                _cleanup_free_ char *unit = NULL;

                if (asprintf(&unit, "%s.mount", where + 1) < 0)
                        return log_oom();
                r = agent_systemctl(a, "start", unit);
                if (r == 0 && label_mounted_on(a, where, &dst)) {
                        log_info("'%s' is mounted on '%s' by %s.", label, where, unit);
                        return 0;
                }
                log_info("%s did not mount '%s' (%d): mounting it here.", unit, label, r);
        }
        /* dev is the device node itself (probe_find_label() resolved the by-label link below the
         * root), so that mount tables name it. */
        if (mount(dev, mp, "ext4", 0, NULL) < 0) {
                r = -errno;
                /* The image's fstab mounts the labels with nofail, so local-fs.target does not wait
                 * for them: systemd may have mounted this one since the check above. */
                if (r == -EBUSY && label_mounted_on(a, where, &dst)) {
                        log_info("'%s' was mounted on '%s' meanwhile (by /etc/fstab).", label, where);
                        return 0;
                }
                return asprintf(reason, "Failed to mount '%s' (label %s) on %s: %s", dev, label, where,
                                strerror(-r)) < 0 ? log_oom() : r;
        }
        log_info("Mounted '%s' (label %s) on '%s'.", dev, label, where);
        /* A mount is done at every boot that systemd's own mount of the fstab line has not beaten:
         * the step changed something only when the fstab line is new. */
        return fstab_added;
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
        _cleanup_free_ char *reason = NULL;
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
                r = ensure_dir(a, &layout[i], &reason);
                if (r < 0)
                        return agent_step_fail(a, "prepare-storage", t0, reason ?: "Cannot create the runtime layout");
                changed |= r > 0;
        }
        for (size_t i = 0; i < appliance_links_n; i++) {
                r = relocate(a, &appliance_links[i], &reason);
                if (r < 0)
                        return agent_step_fail(a, "prepare-storage", t0, reason ?: "Cannot move the service state");
                changed |= r > 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(layout_late); i++) {
                r = ensure_dir(a, &layout_late[i], &reason);
                if (r < 0)
                        return agent_step_fail(a, "prepare-storage", t0, reason ?: "Cannot create the runtime layout");
                changed |= r > 0;
        }

        (void) agent_record_step(a, "prepare-storage", changed ? STEP_CHANGED : STEP_OK,
                                 changed ? "storage prepared" : "storage unchanged", now_usec() - t0, NULL);
        return 0;
}
