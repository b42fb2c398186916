/**
 * Finding a seed or data drive by its label, below the agent root and without blkid: the udev
 * by-label link first, then every block device probed through the common seed reader's
 * fs_probe_fd().
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-path.h"
#include "chase.h"
#include "cleanup.h"
#include "probe.h"

static bool label_matches(const char *label, const char *const *labels) {
        for (const char *const *l = labels; label && *l; l++)
                if (strcasecmp(label, *l) == 0)
                        return true;
        return false;
}

/* Opens path below the root (links followed, but below it: a by-label link pointing out of the root
 * leads to ROOT/..., not to the host), accepts only a block device or an image file and probes it.
 * *ret_real: the node's path as the process sees it, for readers and mount(), which take paths. */
static int probe_in_root(const Agent *a, const char *path, FsType *ret_type, char **ret_label, char **ret_real) {
        _cleanup_close_ int fd = -EBADF;
        char proc[64], real[PATH_MAX];
        size_t rl = strlen(a->root);
        ssize_t n;
        int r;

        r = open_input(a->root_fd, path, INPUT_IN_ROOT | INPUT_FOLLOW | INPUT_ALLOW_BLOCK, UINT64_MAX, &fd, NULL);
        if (r < 0)
                return r;
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        n = readlink(proc, real, sizeof real - 1);
        if (n < 0)
                return -errno;
        real[n] = 0;
        if (!agent_is_host_root(a) && (!strneq(real, a->root, rl) || real[rl] != '/'))
                return -EXDEV;  /* the root was moved meanwhile */
        r = fs_probe_fd(fd, ret_type, ret_label);
        if (r < 0)
                return r;
        *ret_real = strdup(real);
        return *ret_real ? 0 : -ENOMEM;
}

int probe_find_label(const Agent *a, const char *const *labels, char **ret_path, FsType *ret_type) {
        _cleanup_close_ int sys_fd = -EBADF;
        DIR *d;

        for (const char *const *l = labels; *l; l++) {
                _cleanup_free_ char *rel = NULL, *p = NULL, *label = NULL;
                FsType t;

                if (asprintf(&rel, "/dev/disk/by-label/%s", *l) < 0)
                        return -ENOMEM;
                if (probe_in_root(a, rel, &t, &label, &p) < 0)
                        continue;
                /* udev's link is trusted for the label; the type decides the reader. */
                *ret_path = TAKE_PTR(p);
                *ret_type = t;
                return 0;
        }

        if (agent_open_image(a, "/sys/class/block", O_RDONLY | O_DIRECTORY, &sys_fd) < 0)
                return -ENOENT;
        d = fdopendir(sys_fd);
        if (!d)
                return -ENOENT;
        TAKE_FD(sys_fd);
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *rel = NULL, *p = NULL, *label = NULL;
                FsType t;

                if (de->d_name[0] == '.' || startswith(de->d_name, "ram") || startswith(de->d_name, "loop"))
                        continue;
                if (asprintf(&rel, "/dev/%s", de->d_name) < 0) {
                        closedir(d);
                        return -ENOMEM;
                }
                if (probe_in_root(a, rel, &t, &label, &p) < 0 || t == FS_UNKNOWN || !label_matches(label, labels))
                        continue;
                closedir(d);
                *ret_path = TAKE_PTR(p);
                *ret_type = t;
                return 0;
        }
        closedir(d);
        return -ENOENT;
}
