/**
 * Customizing vendor cloud images with libguestfs (the only file that includes <guestfs.h>).
 *
 * The base is copied with qemu-img into a hidden temporary next to the output (converted to the
 * output's format, grown to the requested size), the copy is opened read-write in the libguestfs
 * appliance (TCG unless KVM really works, see accel.h), the OS is found by inspection and its
 * filesystems mounted, and then: the root partition (when it is physically last on the disk) and
 * its ext2/3/4 filesystem grow into added space; the agent binary, an optional tree of agent
 * files, the env (/app/env.yml, 0600), the profile text and the profile's files are written; the
 * hygiene steps remove per-instance state. guestfs_shutdown() is checked before the temporary is
 * renamed to the output, so a failed write never leaves an output behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <guestfs.h>

#include "vm/accel.h"
#include "chase.h"
#include "dlopen-util.h"
#include "cleanup.h"
#include "escape.h"
#include "fileio.h"
#include "source/guest.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"
#include "reterr.h"
#include "spawn.h"
#include "strv.h"

#define GUESTFS_SYMBOLS(X) \
        X(guestfs_add_drive_opts) X(guestfs_blockdev_getsz) X(guestfs_chmod) X(guestfs_chown) \
        X(guestfs_close) X(guestfs_create) X(guestfs_e2fsck) X(guestfs_find) \
        X(guestfs_free_partition_list) X(guestfs_free_statns) X(guestfs_glob_expand) \
        X(guestfs_inspect_get_distro) X(guestfs_inspect_get_major_version) \
        X(guestfs_inspect_get_minor_version) X(guestfs_inspect_get_mountpoints) \
        X(guestfs_inspect_get_type) X(guestfs_inspect_os) X(guestfs_is_dir) X(guestfs_is_file) \
        X(guestfs_is_symlink) X(guestfs_last_error) X(guestfs_launch) X(guestfs_ls) X(guestfs_lstatns) \
        X(guestfs_mkdir_p) X(guestfs_mount) X(guestfs_part_expand_gpt) X(guestfs_part_get_parttype) \
        X(guestfs_part_list) X(guestfs_part_resize) X(guestfs_part_to_dev) X(guestfs_part_to_partnum) \
        X(guestfs_pop_error_handler) X(guestfs_push_error_handler) X(guestfs_resize2fs) X(guestfs_rm_rf) \
        X(guestfs_set_backend_settings) X(guestfs_set_error_handler) X(guestfs_sh) X(guestfs_shutdown) \
        X(guestfs_sync) X(guestfs_tar_in) X(guestfs_touch) X(guestfs_truncate) X(guestfs_umount_all) \
        X(guestfs_upload) X(guestfs_vfs_type) X(guestfs_write)
GUESTFS_SYMBOLS(DLSYM_DECLARE)

/* libguestfs is loaded when a vendor cloud image is customized, the only use of it. */
static void *guestfs_dl = NULL;

int guest_dlopen(char **reterr) {
        return dlopen_symbols(&guestfs_dl, "libguestfs.so.0", "libguestfs0", reterr, GUESTFS_SYMBOLS(DLSYM_ARG) NULL);
}

static void guestfs_closep(guestfs_h **g) {
        if (*g)
                sym_guestfs_close(*g);
}

static void partition_list_freep(struct guestfs_partition_list **l) {
        if (*l)
                sym_guestfs_free_partition_list(*l);
}

/* Records a libguestfs failure of `what` in *reterr and returns -EIO. */
static int gerr(guestfs_h *g, char **reterr, const char *what) {
        const char *e = sym_guestfs_last_error(g);
        reterr_printf(reterr, 0, "%s: %s", what, e ? e : "failed");
        return -EIO;
}

void guest_report_done(GuestReport *r) {
        if (!r)
                return;
        strv_free(r->removed);
        free(r->root_device);
        free(r->os_distro);
        free(r->os_version);
        *r = (GuestReport) {};
}

static bool is_qcow2(const unsigned char *b, size_t n) {
        return n >= 4 && b[0] == 'Q' && b[1] == 'F' && b[2] == 'I' && b[3] == 0xfb;
}

bool guest_is_disk_image(const char *path) {
        _cleanup_close_ int fd = -EBADF;
        unsigned char b[512] = {};
        ssize_t n;

        /* Not a regular file or block device (a FIFO, say): not a disk image, and the tarball
         * reader says what it is. */
        if (open_input(AT_FDCWD, path, INPUT_FOLLOW | INPUT_ALLOW_BLOCK, UINT64_MAX, &fd, NULL) < 0)
                return false;
        n = loop_read(fd, b, sizeof b);
        if (n < 4)
                return false;
        if (is_qcow2(b, (size_t) n))
                return true;
        /* Compressed streams (gzip, xz, zstd, bzip2) and tar headers ("ustar" at 257) are not
         * disk images, whatever their byte 510 happens to be. */
        if ((b[0] == 0x1f && b[1] == 0x8b) || memcmp(b, "\xfd" "7zXZ", 5) == 0 ||
            memcmp(b, "\x28\xb5\x2f\xfd", 4) == 0 || memcmp(b, "BZh", 3) == 0 ||
            (n >= 262 && memcmp(b + 257, "ustar", 5) == 0))
                return false;
        /* An MBR (or GPT's protective MBR) ends its first sector with 55 AA. */
        return n == 512 && b[510] == 0x55 && b[511] == 0xaa;
}

static const char *image_format(const char *path, char **reterr) {
        _cleanup_close_ int fd = -EBADF;
        unsigned char b[4];
        int r;

        r = open_input(AT_FDCWD, path, INPUT_FOLLOW | INPUT_ALLOW_BLOCK, UINT64_MAX, &fd, NULL);
        if (r < 0) {
                reterr_printf(reterr, 0, "%s: %s", path, input_strerror(r));
                return NULL;
        }
        if (loop_read(fd, b, sizeof b) == 4 && is_qcow2(b, 4))
                return "qcow2";
        return "raw";
}

/* Virtual size from `qemu-img info --output=json`. */
static int image_virtual_size(const char *path, const char *fmt, uint64_t *ret, char **reterr) {
        _cleanup_free_ char *out = NULL, *err = NULL;
        char *argv[] = { (char *) "qemu-img", (char *) "info", (char *) "--output=json", (char *) "-f",
                         (char *) fmt, (char *) path, NULL };
        const char *p;
        int r;

        r = spawn_capture(argv, NULL, 0, 0, &out, &err);
        if (r != 0) {
                reterr_printf(reterr, 0, "qemu-img info %s failed: %s", path, r < 0 ? strerror(-r) : strna(err));
                return r < 0 ? r : -EIO;
        }
        p = strstr(out, "\"virtual-size\":");
        if (!p || sscanf(p + strlen("\"virtual-size\":"), " %" SCNu64, ret) != 1) {
                reterr_printf(reterr, 0, "qemu-img info %s: no virtual size in its output", path);
                return -EIO;
        }
        return 0;
}

static int run_tool(char **argv, char **reterr) {
        _cleanup_free_ char *err = NULL;
        int r = spawn_capture(argv, NULL, 0, SPAWN_NULL_STDOUT, NULL, &err);
        if (r != 0) {
                reterr_printf(reterr, 0, "%s %s failed: %s", argv[0], argv[1], r < 0 ? strerror(-r) : strna(err));
                return r < 0 ? r : -EIO;
        }
        return 0;
}

static int report_removed(GuestReport *rep, const char *path) {
        if (!rep)
                return 0;
        return strv_extend(&rep->removed, path);
}

/* Grows the root partition into space at the end of the disk, if it is the last partition, and
 * then its filesystem. Returns 0 (also when there is nothing to do) or -EIO. */
static int grow_root(guestfs_h *g, const char *root, char **reterr) {
        _cleanup_(partition_list_freep) struct guestfs_partition_list *parts = NULL;
        _cleanup_free_ char *dev = NULL, *ptype = NULL, *fstype = NULL;
        int64_t sectors, end;
        int partnum;

        sym_guestfs_push_error_handler(g, NULL, NULL);
        dev = sym_guestfs_part_to_dev(g, root);
        partnum = dev ? sym_guestfs_part_to_partnum(g, root) : -1;
        sym_guestfs_pop_error_handler(g);
        if (!dev || partnum < 0) {
                log_info("Root filesystem %s is not on a partition, not growing it.", root);
                return 0;
        }

        fstype = sym_guestfs_vfs_type(g, root);
        if (!fstype || !startswith(fstype, "ext")) {
                log_warning("Root filesystem %s is %s, not ext2/3/4: not growing it.", root, strna(fstype));
                return 0;
        }

        ptype = sym_guestfs_part_get_parttype(g, dev);
        if (!ptype)
                return gerr(g, reterr, "part_get_parttype");
        if (streq(ptype, "gpt") && sym_guestfs_part_expand_gpt(g, dev) < 0)
                return gerr(g, reterr, "part_expand_gpt");

        parts = sym_guestfs_part_list(g, dev);
        if (!parts)
                return gerr(g, reterr, "part_list");
        sectors = sym_guestfs_blockdev_getsz(g, dev);
        if (sectors < 0)
                return gerr(g, reterr, "blockdev_getsz");

        uint64_t root_start = 0, max_start = 0, root_end = 0;
        for (uint32_t i = 0; i < parts->len; i++) {
                max_start = MAX(max_start, parts->val[i].part_start);
                if (parts->val[i].part_num == partnum) {
                        root_start = parts->val[i].part_start;
                        root_end = parts->val[i].part_end;
                }
        }
        if (root_start != max_start) {
                log_warning("Root partition %s is not the last one on %s: not growing it.", root, dev);
                return 0;
        }

        /* Last usable sector: GPT keeps 33 sectors for the backup table at the end. */
        end = sectors - 1 - (streq(ptype, "gpt") ? 33 : 0);
        if ((uint64_t) end <= root_end / 512 + 2048) { /* less than 1 MiB to gain */
                log_info("Root partition %s already fills %s.", root, dev);
                return 0;
        }

        log_info("Growing %s partition %d of %s to the end of the disk, then its %s filesystem...", ptype, partnum,
                 dev, fstype);
        if (sym_guestfs_part_resize(g, dev, partnum, end) < 0)
                return gerr(g, reterr, "part_resize");
        if (sym_guestfs_e2fsck(g, root, GUESTFS_E2FSCK_FORCEALL, 1, -1) < 0)
                return gerr(g, reterr, "e2fsck before resize2fs");
        if (sym_guestfs_resize2fs(g, root) < 0)
                return gerr(g, reterr, "resize2fs");
        return 0;
}

static int cmp_mountpoint(const void *a, const void *b) {
        /* pairs (mountpoint, device): shorter mountpoints first, so "/" is mounted before "/boot" */
        const char *const *x = a, *const *y = b;
        size_t lx = strlen(x[0]), ly = strlen(y[0]);
        return lx < ly ? -1 : lx > ly ? 1 : strcmp(x[0], y[0]);
}

static int mount_guest(guestfs_h *g, const char *root, char **reterr) {
        _cleanup_strv_free_ char **mps = sym_guestfs_inspect_get_mountpoints(g, root);
        size_t n;

        if (!mps)
                return gerr(g, reterr, "inspect_get_mountpoints");
        n = strv_length(mps) / 2;
        qsort(mps, n, 2 * sizeof(char *), cmp_mountpoint);
        for (size_t i = 0; i < n; i++)
                if (sym_guestfs_mount(g, mps[2 * i + 1], mps[2 * i]) < 0) {
                        if (streq(mps[2 * i], "/"))
                                return gerr(g, reterr, "mount /");
                        log_warning("Could not mount %s on %s, ignoring: %s", mps[2 * i + 1], mps[2 * i],
                                    strna(sym_guestfs_last_error(g)));
                }
        return 0;
}

static int write_guest_file(guestfs_h *g, const char *path, const char *data, size_t len, mode_t mode,
                            char **reterr) {
        _cleanup_free_ char *dir = NULL;
        const char *base;

        if (path_split(path, &dir, &base) < 0)
                return -ENOMEM;
        if (sym_guestfs_mkdir_p(g, dir) < 0)
                return gerr(g, reterr, dir);
        if (sym_guestfs_write(g, path, data, len) < 0 || sym_guestfs_chown(g, 0, 0, path) < 0 ||
            sym_guestfs_chmod(g, (int) mode, path) < 0)
                return gerr(g, reterr, path);
        return 0;
}

static int upload_guest_file(guestfs_h *g, const char *local, const char *path, mode_t mode, char **reterr) {
        _cleanup_free_ char *dir = NULL;
        const char *base;

        if (access(local, R_OK) < 0) {
                reterr_printf(reterr, 0, "%s: %s", local, strerror(errno));
                return -errno;
        }
        if (path_split(path, &dir, &base) < 0)
                return -ENOMEM;
        if (sym_guestfs_mkdir_p(g, dir) < 0)
                return gerr(g, reterr, dir);
        /* Create it with the final mode first, so that the content is never readable by others. */
        if (sym_guestfs_touch(g, path) < 0 || sym_guestfs_chown(g, 0, 0, path) < 0 || sym_guestfs_chmod(g, (int) mode, path) < 0 ||
            sym_guestfs_upload(g, local, path) < 0 || sym_guestfs_chmod(g, (int) mode, path) < 0)
                return gerr(g, reterr, path);
        return 0;
}

/* Copies a host directory tree over the guest's root, owned by root. */
static int copy_tree(guestfs_h *g, const char *dir, const char *tmpdir, char **reterr) {
        _cleanup_free_ char *tar = NULL;
        int r;

        if (asprintf(&tar, "%s/.agent-tree.%d.tar", tmpdir, (int) getpid()) < 0)
                return -ENOMEM;
        char *argv[] = { (char *) "tar", (char *) "--numeric-owner", (char *) "--owner=0", (char *) "--group=0",
                         (char *) "-C", (char *) dir, (char *) "-cf", tar, (char *) ".", NULL };
        r = run_tool(argv, reterr);
        if (r >= 0 && sym_guestfs_tar_in(g, tar, "/") < 0)
                r = gerr(g, reterr, "tar_in of the agent tree");
        (void) unlink(tar);
        return r;
}

typedef struct HygieneRule {
        unsigned flag;
        const char *pattern;
        enum { H_REMOVE, H_TRUNCATE, H_EMPTY_DIR } action;
} HygieneRule;

static const HygieneRule hygiene_rules[] = {
        { GUEST_HYGIENE_MACHINE_ID, "/etc/machine-id", H_TRUNCATE },
        { GUEST_HYGIENE_MACHINE_ID, "/var/lib/dbus/machine-id", H_REMOVE },
        { GUEST_HYGIENE_SSH_HOST_KEYS, "/etc/ssh/ssh_host_*", H_REMOVE },
        { GUEST_HYGIENE_LOGS, "/var/log", H_TRUNCATE },
        { GUEST_HYGIENE_LOGS, "/var/log/journal", H_EMPTY_DIR },
        { GUEST_HYGIENE_APT_LISTS, "/var/lib/apt/lists/*_*", H_REMOVE },
        { GUEST_HYGIENE_APT_LISTS, "/var/cache/apt/*.bin", H_REMOVE },
        { GUEST_HYGIENE_APT_LISTS, "/var/cache/apt/archives/*.deb", H_REMOVE },
        { GUEST_HYGIENE_TMP, "/tmp", H_EMPTY_DIR },
        { GUEST_HYGIENE_TMP, "/var/tmp", H_EMPTY_DIR },
        { GUEST_HYGIENE_SHELL_HISTORY, "/root/.bash_history", H_REMOVE },
        { GUEST_HYGIENE_SHELL_HISTORY, "/home/*/.bash_history", H_REMOVE },
        { GUEST_HYGIENE_CLOUD_INIT, "/var/lib/cloud", H_EMPTY_DIR },
        { GUEST_HYGIENE_DHCP_LEASES, "/var/lib/dhcp/*.leases", H_REMOVE },
        { GUEST_HYGIENE_DHCP_LEASES, "/var/lib/dhclient/*.leases", H_REMOVE },
        { GUEST_HYGIENE_DHCP_LEASES, "/var/lib/NetworkManager/*.lease", H_REMOVE },
        { GUEST_HYGIENE_RANDOM_SEED, "/var/lib/systemd/random-seed", H_REMOVE },
        { GUEST_HYGIENE_RANDOM_SEED, "/var/lib/urandom/random-seed", H_REMOVE },
};

/* Truncates every regular file below dir (logs keep their names and owners). */
static int truncate_tree(guestfs_h *g, const char *dir, GuestReport *rep, char **reterr) {
        _cleanup_strv_free_ char **files = NULL;

        if (sym_guestfs_is_dir(g, dir) <= 0)
                return 0;
        files = sym_guestfs_find(g, dir);
        if (!files)
                return gerr(g, reterr, "find /var/log");
        STRV_FOREACH(f, files) {
                _cleanup_free_ char *p = NULL;
                struct guestfs_statns *st;
                bool reg;

                if (asprintf(&p, "%s/%s", dir, *f + (**f == '/')) < 0)
                        return -ENOMEM;
                st = sym_guestfs_lstatns(g, p);
                if (!st)
                        return gerr(g, reterr, p);
                reg = S_ISREG(st->st_mode) && st->st_size > 0;
                sym_guestfs_free_statns(st);
                if (!reg)
                        continue;
                if (sym_guestfs_truncate(g, p) < 0)
                        return gerr(g, reterr, p);
                if (report_removed(rep, p) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int apply_hygiene(guestfs_h *g, unsigned flags, GuestReport *rep, char **reterr) {
        int r;

        for (size_t i = 0; i < ELEMENTSOF(hygiene_rules); i++) {
                const HygieneRule *h = &hygiene_rules[i];
                _cleanup_strv_free_ char **matches = NULL;

                if (!(flags & h->flag))
                        continue;

                if (h->action == H_TRUNCATE && streq(h->pattern, "/var/log")) {
                        r = truncate_tree(g, h->pattern, rep, reterr);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (h->action == H_TRUNCATE) {
                        /* /etc/machine-id: empty, so systemd treats the first boot as such */
                        if (sym_guestfs_is_file(g, h->pattern) > 0) {
                                if (sym_guestfs_truncate(g, h->pattern) < 0)
                                        return gerr(g, reterr, h->pattern);
                                if (report_removed(rep, h->pattern) < 0)
                                        return -ENOMEM;
                        }
                        continue;
                }
                if (h->action == H_EMPTY_DIR) {
                        _cleanup_strv_free_ char **children = NULL;
                        if (sym_guestfs_is_dir(g, h->pattern) <= 0)
                                continue;
                        children = sym_guestfs_ls(g, h->pattern);
                        if (!children)
                                return gerr(g, reterr, h->pattern);
                        STRV_FOREACH(c, children) {
                                _cleanup_free_ char *p = NULL;
                                if (asprintf(&p, "%s/%s", h->pattern, *c) < 0)
                                        return -ENOMEM;
                                if (sym_guestfs_rm_rf(g, p) < 0)
                                        return gerr(g, reterr, p);
                                if (report_removed(rep, p) < 0)
                                        return -ENOMEM;
                        }
                        continue;
                }

                matches = sym_guestfs_glob_expand(g, h->pattern);
                if (!matches)
                        return gerr(g, reterr, h->pattern);
                STRV_FOREACH(m, matches) {
                        /* /var/lib/dbus/machine-id is usually a symlink to /etc/machine-id: keep that. */
                        if (streq(*m, "/var/lib/dbus/machine-id") && sym_guestfs_is_symlink(g, *m) > 0)
                                continue;
                        if (sym_guestfs_rm_rf(g, *m) < 0)
                                return gerr(g, reterr, *m);
                        if (report_removed(rep, *m) < 0)
                                return -ENOMEM;
                }
        }
        return 0;
}

static int configure_grub(guestfs_h *g, const char *cmdline, char **reterr) {
        _cleanup_free_ char *snippet = NULL, *out = NULL;

        /* The snippet is a shell fragment whose words grub-mkconfig pastes unquoted into grub.cfg:
         * only a command line without shell or GRUB syntax can go there. */
        if (kernel_cmdline_check(cmdline, NULL) < 0)
                return reterr_printf(reterr, -EINVAL, "kernel_cmdline '%s' cannot pass through /etc/default/grub: "
                                     "no quotes, backslashes, $ ` ; & | < > { } ( ) # or control characters",
                                     cmdline);

        if (sym_guestfs_is_file(g, "/etc/default/grub") <= 0) {
                log_warning("No /etc/default/grub in the image: kernel command line left as it is.");
                return 0;
        }
        if (asprintf(&snippet,
                     "# Written by appliance-builder from the profile's kernel_cmdline.\n"
                     "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT %s\"\n",
                     cmdline) < 0)
                return -ENOMEM;
        if (write_guest_file(g, "/etc/default/grub.d/90-appliance.cfg", snippet, strlen(snippet), 0644, reterr) < 0)
                return -EIO;
        log_info("Regenerating the GRUB configuration in the image...");
        out = sym_guestfs_sh(g, "set -e; if command -v update-grub >/dev/null; then update-grub; else grub-mkconfig -o /boot/grub/grub.cfg; fi");
        if (!out)
                return gerr(g, reterr, "update-grub in the image");
        return 0;
}

static int customize(guestfs_h *g, const GuestCustomization *c, const char *tmpdir, GuestReport *rep,
                     char **reterr) {
        _cleanup_strv_free_ char **roots = NULL;
        const char *root;
        int r;

        log_info("Inspecting the image...");
        roots = sym_guestfs_inspect_os(g);
        if (!roots)
                return gerr(g, reterr, "inspect_os");
        if (strv_length(roots) == 0) {
                reterr_printf(reterr, 0, "no operating system found in the base image");
                return -EINVAL;
        }
        if (strv_length(roots) > 1)
                log_warning("%zu operating systems found in the base image, customizing the first, %s.",
                            strv_length(roots), roots[0]);
        root = roots[0];

        _cleanup_free_ char *type = sym_guestfs_inspect_get_type(g, root),
                            *distro = sym_guestfs_inspect_get_distro(g, root);
        int major = sym_guestfs_inspect_get_major_version(g, root), minor = sym_guestfs_inspect_get_minor_version(g, root);
        if (!type || !streq(type, "linux")) {
                reterr_printf(reterr, 0, "the base image holds a %s system, not Linux", strna(type));
                return -EINVAL;
        }
        log_info("Found %s %d.%d on %s.", strna(distro), major, minor, root);
        if (rep) {
                rep->root_device = strdup(root);
                rep->os_distro = strdup(strna(distro));
                if (!rep->root_device || !rep->os_distro ||
                    asprintf(&rep->os_version, minor >= 10 || streq(strna(distro), "ubuntu") ? "%d.%02d" : "%d.%d",
                             major, minor) < 0)
                        return -ENOMEM;
        }

        r = grow_root(g, root, reterr);
        if (r < 0)
                return r;
        r = mount_guest(g, root, reterr);
        if (r < 0)
                return r;

        if (c->agent_binary) {
                log_info("Installing the agent %s at /usr/sbin/appliance-agent...", c->agent_binary);
                r = upload_guest_file(g, c->agent_binary, "/usr/sbin/appliance-agent", 0755, reterr);
                if (r < 0)
                        return r;
        }
        if (c->env_tool) {
                r = upload_guest_file(g, c->env_tool, "/usr/sbin/appliance-env", 0755, reterr);
                if (r < 0)
                        return r;
        }
        if (c->env_template) {
                r = upload_guest_file(g, c->env_template, "/usr/share/appliance/env-template.yml", 0644, reterr);
                if (r < 0)
                        return r;
        }
        if (c->agent_rootfs) {
                log_info("Copying %s into the image...", c->agent_rootfs);
                r = copy_tree(g, c->agent_rootfs, tmpdir, reterr);
                if (r < 0)
                        return r;
        }
        if (c->env_path) {
                log_info("Baking %s at /app/env.yml (0600)...", c->env_path);
                r = upload_guest_file(g, c->env_path, "/app/env.yml", 0600, reterr);
                if (r < 0)
                        return r;
        }
        if (c->profile_text) {
                r = write_guest_file(g, "/usr/share/appliance/profile.yml", c->profile_text, c->profile_text_len, 0644,
                                     reterr);
                if (r < 0)
                        return r;
        }
        if (c->profile)
                for (size_t i = 0; i < c->profile->n_files; i++) {
                        const ProfileFile *f = &c->profile->files[i];
                        r = write_guest_file(g, f->path, f->content, strlen(f->content), f->mode, reterr);
                        if (r < 0)
                                return r;
                }
        if (c->kernel_cmdline) {
                r = configure_grub(g, c->kernel_cmdline, reterr);
                if (r < 0)
                        return r;
        }

        if (c->hygiene) {
                log_info("Removing per-instance state (hygiene)...");
                r = apply_hygiene(g, c->hygiene, rep, reterr);
                if (r < 0)
                        return r;
        }

        if (sym_guestfs_sync(g) < 0 || sym_guestfs_umount_all(g) < 0)
                return gerr(g, reterr, "umount");
        return 0;
}

/* Copies base into tmp, grows it and customizes it; the caller removes tmp on failure. */
static int build_into(const char *base, const char *in_fmt, const char *tmp, const char *out_fmt, uint64_t vsize,
                      uint64_t final_size, const char *tmpdir, const GuestCustomization *c, GuestReport *rep,
                      char **reterr) {
        _cleanup_(guestfs_closep) guestfs_h *g = NULL;
        _cleanup_free_ char *size_arg = NULL;
        Accel accel;
        int r;

        /* qemu-img opens the file it finds and keeps its mode: with an env baked the copy is private
         * before the first byte of the image lands in it. */
        r = create_output_file(tmp, output_mode(c->env_path != NULL));
        if (r < 0)
                return reterr_printf(reterr, r, "cannot create %s: %s", tmp, strerror(-r));
        log_info("Copying %s (%s) to %s...", base, in_fmt, out_fmt);
        char *convert[] = { (char *) "qemu-img", (char *) "convert", (char *) "-f", (char *) in_fmt, (char *) "-O",
                            (char *) out_fmt, (char *) base, (char *) tmp, NULL };
        r = run_tool(convert, reterr);
        if (r < 0)
                return r;
        if (final_size > vsize) {
                if (asprintf(&size_arg, "%" PRIu64, final_size) < 0)
                        return -ENOMEM;
                char *resize[] = { (char *) "qemu-img", (char *) "resize", (char *) "-f", (char *) out_fmt, (char *) tmp,
                                   size_arg, NULL };
                r = run_tool(resize, reterr);
                if (r < 0)
                        return r;
        }

        g = sym_guestfs_create();
        if (!g) {
                reterr_printf(reterr, 0, "cannot create a libguestfs handle");
                return -ENOMEM;
        }
        sym_guestfs_set_error_handler(g, NULL, NULL);
        accel = accel_detect();
        if (accel != ACCEL_KVM && sym_guestfs_set_backend_settings(g, (char *[]) { (char *) "force_tcg", NULL }) < 0)
                return gerr(g, reterr, "set_backend_settings");
        if (sym_guestfs_add_drive_opts(g, tmp, GUESTFS_ADD_DRIVE_OPTS_FORMAT, out_fmt, GUESTFS_ADD_DRIVE_OPTS_CACHEMODE,
                                   "unsafe", -1) < 0)
                return gerr(g, reterr, "add_drive");
        log_info("Starting the libguestfs appliance (%s)...", accel_to_string(accel));
        if (sym_guestfs_launch(g) < 0)
                return gerr(g, reterr, "guestfs launch");

        r = customize(g, c, tmpdir, rep, reterr);
        if (r < 0)
                return r;

        /* Only a clean shutdown guarantees that every write reached the image. */
        if (sym_guestfs_shutdown(g) < 0)
                return gerr(g, reterr, "guestfs shutdown (writing the image)");
        return 0;
}

int guest_customize_cloud_image(const char *base, const char *output, const GuestCustomization *c, char **reterr) {
        _cleanup_free_ char *dir = NULL, *tmp = NULL;
        GuestReport rep = {};
        const char *in_fmt, *out_fmt, *name;
        uint64_t vsize, final_size;
        struct stat st;
        int r;

        if (!base || !output || !c)
                return -EINVAL;
        r = guest_dlopen(reterr);
        if (r < 0)
                return r;
        if (stat(base, &st) < 0 || !S_ISREG(st.st_mode)) {
                reterr_printf(reterr, 0, "%s: %s", base, errno ? strerror(errno) : "not a regular file");
                return -ENOENT;
        }
        in_fmt = image_format(base, reterr);
        if (!in_fmt)
                return -EIO;
        out_fmt = endswith(output, ".qcow2") ? "qcow2" : "raw";

        r = image_virtual_size(base, in_fmt, &vsize, reterr);
        if (r < 0)
                return r;
        if (c->size && c->size < vsize) {
                char a[FORMAT_BYTES_MAX], b[FORMAT_BYTES_MAX];
                reterr_printf(reterr, 0, "%s: the requested size %s is smaller than the image's %s; cloud images are not shrunk",
                        base, format_bytes(a, sizeof a, c->size), format_bytes(b, sizeof b, vsize));
                return -EINVAL;
        }
        final_size = MAX(vsize, c->size);

        if (path_split(output, &dir, &name) < 0 || asprintf(&tmp, "%s/.%s.%d.tmp", dir, name, (int) getpid()) < 0)
                return -ENOMEM;

        r = build_into(base, in_fmt, tmp, out_fmt, vsize, final_size, dir, c, &rep, reterr);
        if (r >= 0 && rename(tmp, output) < 0) {
                r = -errno;
                reterr_printf(reterr, 0, "cannot rename %s to %s: %s", tmp, output, strerror(-r));
        }
        if (r < 0) {
                (void) unlink(tmp);
                guest_report_done(&rep);
                return r;
        }

        log_info("Customized image written: %s (%s; hygiene removed or emptied %zu entries).", output, out_fmt,
                 strv_length(rep.removed));
        rep.size = final_size;
        if (c->report) {
                guest_report_done(c->report);
                *c->report = rep;
        } else
                guest_report_done(&rep);
        return 0;
}
