/**
 * Volumes written with the service state they will hold (prefill.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chase.h"
#include "cleanup.h"
#include "disk/prefill.h"
#include "disk/util.h"
#include "fileio.h"
#include "layout.h"
#include "log.h"
#include "reterr.h"
#include "rm-rf.h"
#include "source/tarball.h"
#include "spawn.h"
#include "strv.h"

/* The link's target below the volume mounted at mountpoint ("/postgresql"), or NULL. */
static const char *below_mountpoint(const char *target, const char *mountpoint) {
        size_t n = strlen(mountpoint);

        if (!strneq(target, mountpoint, n) || target[n] != '/' || target[n + 1] == 0)
                return NULL;
        return target + n;
}

/* One link: copies ROOT/l->path into vol_tree, renames it aside in the root. 1 = done, 0 = nothing
 * to copy or no room. */
static int prefill_one(int root_fd, const ApplianceLink *l, const PrefillVolume *v, const char *vol_tree,
                       char **reterr) {
        _cleanup_close_ int src_fd = -EBADF, parent_fd = -EBADF;
        _cleanup_free_ char *name = NULL, *moved = NULL, *from = NULL, *dir = NULL, *tmp = NULL, *to = NULL,
                           *out = NULL;
        const char *rel = below_mountpoint(l->target, v->mountpoint);
        RootfsUsage usage = {};
        int r;

        if (!rel)
                return 0;
        /* A real directory, reached without a symlink: what a link or a hostile base points at is not
         * copied (the agent refuses such a path at boot). */
        r = chase_open(root_fd, l->path, CHASE_NO_SYMLINKS, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, &src_fd);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                log_info("Not copying '%s' onto '%s': %s.", l->path, v->label, strerror(-r));
                return 0;
        }
        r = dir_fd_is_empty(src_fd);
        if (r != 0)
                return r < 0 ? reterr_printf(reterr, r, "cannot read '%s' in the tree: %s", l->path, strerror(-r)) : 0;
        r = chase_parent(root_fd, l->path, CHASE_NO_SYMLINKS, &parent_fd, &name);
        if (r < 0)
                return reterr_printf(reterr, r, "cannot open the parent of '%s' in the tree: %s", l->path, strerror(-r));
        moved = layout_moved_name(name);
        if (!moved)
                return -ENOMEM;

        /* Where the copy goes on the volume (our own scratch tree): .NAME.appliance-tmp next to the
         * target, in the directory that will hold it. */
        const char *last = strrchr(rel, '/');
        if (asprintf(&dir, "%s%.*s", vol_tree, (int) (last - rel), rel) < 0 || !(tmp = layout_tmp_name(last + 1)) ||
            asprintf(&to, "%s/%s", dir, tmp) < 0 || asprintf(&from, "/proc/%d/fd/%d/.", (int) getpid(), src_fd) < 0)
                return -ENOMEM;
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return reterr_printf(reterr, r, "cannot create '%s': %s", dir, strerror(-r));

        /* cp -a: owners, modes, times, links as links, sparse files stay sparse. */
        r = spawn_capture((char *[]) { (char *) "cp", (char *) "-a", (char *) "--", from, to, NULL }, NULL, 0,
                          SPAWN_STDERR_TO_STDOUT, &out, NULL);
        if (r != 0) {
                (void) rm_rf(to);
                if (r < 0)
                        return reterr_printf(reterr, r, "cannot run cp: %s", strerror(-r));
                return reterr_printf(reterr, -EIO, "cannot copy '%s' onto '%s': %s", l->path, v->label,
                                     strempty_or(out));
        }
        r = rootfs_usage(to, &usage);
        if (r < 0 || usage.bytes + usage.inodes * 256 > v->size / 2) {
                (void) rm_rf(to);
                if (r < 0)
                        return reterr_printf(reterr, r, "cannot measure the copy of '%s': %s", l->path, strerror(-r));
                log_info("Not copying '%s' onto '%s': it would fill more than half of the volume; the first "
                         "boot copies it.", l->path, v->label);
                return 0;
        }
        if (renameat(parent_fd, name, parent_fd, moved) < 0)
                return reterr_printf(reterr, -errno, "cannot rename '%s' in the tree: %m", l->path);
        log_info("Copied '%s' onto '%s' as '%s': the first boot with this volume only links it.", l->path,
                 v->label, l->target);
        return 1;
}

int prefill_volumes(const char *root, PrefillVolume *vols, size_t n_vols, const char *scratch,
                    uint64_t source_date_epoch, char **reterr) {
        _cleanup_close_ int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        int r;

        if (root_fd < 0)
                return reterr_printf(reterr, -errno, "cannot open the tree '%s': %m", root);
        for (size_t i = 0; i < n_vols; i++) {
                PrefillVolume *v = &vols[i];
                _cleanup_free_ char *tree = NULL;
                bool made = false;

                if (!v->mountpoint)
                        continue;
                if (asprintf(&tree, "%s/volume-%s", scratch, v->label) < 0)
                        return -ENOMEM;
                for (size_t k = 0; k < appliance_links_n; k++) {
                        if (!below_mountpoint(appliance_links[k].target, v->mountpoint))
                                continue;
                        if (!made) {
                                if (mkdir(tree, 0755) < 0 && errno != EEXIST)
                                        return reterr_printf(reterr, -errno, "cannot create '%s': %m", tree);
                                made = true;
                        }
                        r = prefill_one(root_fd, &appliance_links[k], v, tree, reterr);
                        if (r < 0)
                                return r;
                        if (r > 0 && strv_extend(&v->copied, appliance_links[k].path) < 0)
                                return -ENOMEM;
                }
                if (v->copied) {
                        if (source_date_epoch > 0) {
                                r = rootfs_clamp_mtimes(tree, source_date_epoch);
                                if (r < 0)
                                        return reterr_printf(reterr, r, "cannot clamp modification times: %s",
                                                             strerror(-r));
                        }
                        v->tree = TAKE_PTR(tree);
                } else if (made)
                        (void) rmdir(tree);
        }
        return 0;
}
