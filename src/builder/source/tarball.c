/**
 * Extracting (through lib/archive.h) and completing the root tree (see tarball.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chase.h"
#include "cleanup.h"
#include "crypto.h"
#include "source/tarball.h"
#include "disk/util.h"
#include "fileio.h"
#include "lib/archive.h"
#include "macro.h"
#include "reterr.h"
#include "strv.h"

#define READ_BLOCK (1U << 20)

void rootfs_info_done(RootfsInfo *i) {
        i->filter = mfree(i->filter);
        i->format = mfree(i->format);
}

typedef struct Reader {
        int fd;
        Sha256 *md;
        uint8_t *buf;
        uint64_t read;
        Progress *progress;
} Reader;

static ssize_t reader_read(void *userdata, const void **ret) {
        Reader *rd = userdata;
        ssize_t n = loop_read(rd->fd, rd->buf, READ_BLOCK);

        if (n < 0)
                return n;
        if (n > 0 && sha256_update(rd->md, rd->buf, (size_t) n) < 0)
                return -EIO;
        rd->read += (uint64_t) n;
        progress_update(rd->progress, rd->read);
        *ret = rd->buf;
        return n;
}

/* Device nodes a root tree legitimately carries (what mmdebstrap and debootstrap put into /dev):
 * the memory-backed character devices and the terminals. Any other device (a disk, /dev/mem, a
 * block device of the host's numbering) would be a door from the scratch tree into the host. */
static bool device_ok(bool block, unsigned major, unsigned minor) {
        static const struct {
                unsigned major, minor;
        } allowed[] = {
                { 1, 3 }, { 1, 5 }, { 1, 7 }, { 1, 8 }, { 1, 9 }, /* null zero full random urandom */
                { 5, 0 }, { 5, 1 }, { 5, 2 },                     /* tty console ptmx */
        };

        if (block)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(allowed); i++)
                if (major == allowed[i].major && minor == allowed[i].minor)
                        return true;
        return false;
}

int rootfs_extract(const char *tarball, const char *dest, RootfsInfo *ret, char **reterr) {
        _cleanup_(sha256_freep) Sha256 *md = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        char digest[SHA256_HEX_SIZE];
        _cleanup_close_ int fd = -EBADF, cwd = -EBADF;
        ArExtractInfo info = {};
        struct stat st;
        Progress p;
        Reader rd;
        int r;

        r = open_input(AT_FDCWD, tarball, INPUT_FOLLOW, UINT64_MAX, &fd, NULL);
        if (r < 0)
                return reterr_printf(reterr, r, "cannot open '%s': %s", tarball, input_strerror(r));
        if (fstat(fd, &st) < 0)
                return reterr_printf(reterr, -errno, "cannot stat '%s': %s", tarball, strerror(errno));

        buf = malloc(READ_BLOCK);
        if (!buf || sha256_new(&md) < 0)
                return -ENOMEM;

        cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cwd < 0)
                return reterr_printf(reterr, -errno, "cannot open the working directory: %s", strerror(errno));
        if (chdir(dest) < 0)
                return reterr_printf(reterr, -errno, "cannot enter '%s': %s", dest, strerror(errno));

        progress_begin(&p, "Extracting root tarball", (uint64_t) st.st_size);
        rd = (Reader) { .fd = fd, .md = md, .buf = buf, .progress = &p };
        r = ar_extract_tar(tarball, reader_read, &rd, device_ok, &info, reterr);
        if (r < 0)
                progress_abort(&p);
        else
                progress_end(&p);

        if (fchdir(cwd) < 0 && r >= 0)
                r = -errno;
        if (r < 0) {
                ar_extract_info_done(&info);
                return r;
        }

        if (sha256_final_hex(md, digest) < 0) {
                ar_extract_info_done(&info);
                return -EIO;
        }

        *ret = (RootfsInfo) {
                .filter = info.filter,
                .format = info.format,
                .entries = info.entries,
                .compressed_bytes = (uint64_t) st.st_size,
        };
        memcpy(ret->sha256, digest, sizeof digest);
        return 0;
}

static RootfsUsage usage_acc;

static int usage_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) path;
        (void) flag;
        (void) ftw;
        usage_acc.inodes++;
        if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode))
                usage_acc.bytes += ALIGN_TO((uint64_t) st->st_size, 4096);
        else if (S_ISLNK(st->st_mode) && st->st_size >= 60)
                usage_acc.bytes += 4096;
        return 0;
}

int rootfs_usage(const char *root, RootfsUsage *ret) {
        usage_acc = (RootfsUsage) {};
        if (nftw(root, usage_cb, 64, FTW_PHYS) < 0)
                return -errno;
        *ret = usage_acc;
        return 0;
}

uint64_t rootfs_min_fs_bytes(const RootfsUsage *u) {
        /* Data + one 256-byte inode per entry (inode tables are preallocated at a ratio of one per
         * 16 KiB, so count that instead when larger) + a 64 MiB journal + 5% reserved + 10% slack for
         * bitmaps, group descriptors and extent blocks. */
        uint64_t data = u->bytes, inode_tables = MAX(u->inodes * 256, data / 16384 * 256);
        uint64_t raw = data + inode_tables + (64ULL << 20);

        raw = raw + raw / 20 + raw / 10;
        return ALIGN_TO(raw, 1ULL << 20);
}

/* Every path of the tree is resolved below the tree's root directory fd (chase.h): a symlink the
 * base brought (etc -> /etc, usr/lib/systemd -> /host/dir) resolves inside the tree, never on the
 * host. */
static int open_root(const char *root) {
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/* root:root when running as root (image trees); unchanged otherwise (tests as a user). */
static uid_t tree_owner(void) {
        return geteuid() == 0 ? 0 : (uid_t) -1;
}

static bool path_ok(const char *path) {
        return path && path[0] == '/' && !strstr(path, "/../") && !endswith(path, "/..") && !endswith(path, "/");
}

static int mkdir_parent_in(int root_fd, const char *path) {
        _cleanup_free_ char *dir = NULL;
        const char *base;
        int r;

        r = path_split(path, &dir, &base);
        if (r < 0)
                return r;
        r = chase_mkdir_p(root_fd, dir, 0, 0755, tree_owner(), (gid_t) tree_owner(), NULL);
        return r < 0 ? r : 0;
}

int rootfs_mkdir_p(const char *root, const char *path, mode_t mode) {
        _cleanup_close_ int root_fd = -EBADF;
        int r;

        if (!path_ok(path) && !streq(path, "/"))
                return -EINVAL;
        root_fd = open_root(root);
        if (root_fd < 0)
                return root_fd;
        r = chase_mkdir_p(root_fd, path, 0, mode, tree_owner(), (gid_t) tree_owner(), NULL);
        return r < 0 ? r : 0;
}

static int write_in(int root_fd, const char *path, const void *data, size_t len, mode_t mode, uid_t uid, gid_t gid) {
        int r;

        if (!path_ok(path))
                return -EINVAL;
        r = mkdir_parent_in(root_fd, path);
        if (r < 0)
                return r;
        return write_file_atomic_in_root(root_fd, path, 0, data, len, mode, uid, gid);
}

int rootfs_write_file_as(const char *root, const char *path, const void *data, size_t len, mode_t mode, uid_t uid,
                         gid_t gid) {
        _cleanup_close_ int root_fd = open_root(root);

        if (root_fd < 0)
                return root_fd;
        return write_in(root_fd, path, data, len, mode, uid, gid);
}

int rootfs_write_file(const char *root, const char *path, const void *data, size_t len, mode_t mode) {
        return rootfs_write_file_as(root, path, data, len, mode, tree_owner(), (gid_t) tree_owner());
}

int rootfs_install_file(const char *root, const char *src, const char *path, mode_t mode) {
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r;

        r = read_input(AT_FDCWD, src, INPUT_FOLLOW, 256U << 20, &data, &len);
        if (r < 0)
                return r;
        return rootfs_write_file(root, path, data, len, mode);
}

static int symlink_in(int root_fd, const char *target, const char *path) {
        _cleanup_close_ int dir_fd = -EBADF;
        _cleanup_free_ char *name = NULL;
        int r;

        r = mkdir_parent_in(root_fd, path);
        if (r < 0)
                return r;
        r = chase_parent(root_fd, path, 0, &dir_fd, &name);
        if (r < 0)
                return r;
        if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
                return -errno;
        if (symlinkat(target, dir_fd, name) < 0)
                return -errno;
        if (fchownat(dir_fd, name, tree_owner(), (gid_t) tree_owner(), AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

int rootfs_symlink(const char *root, const char *target, const char *path) {
        _cleanup_close_ int root_fd = -EBADF;

        if (!path_ok(path))
                return -EINVAL;
        root_fd = open_root(root);
        if (root_fd < 0)
                return root_fd;
        return symlink_in(root_fd, target, path);
}

int rootfs_stat(const char *root, const char *path, bool follow, struct stat *ret) {
        _cleanup_close_ int root_fd = -EBADF, fd = -EBADF;
        int r;

        root_fd = open_root(root);
        if (root_fd < 0)
                return root_fd;
        r = chase_open(root_fd, path, 0, O_PATH | (follow ? 0 : O_NOFOLLOW), 0, &fd);
        if (r < 0)
                return r;
        return fstat(fd, ret) < 0 ? -errno : 0;
}

int rootfs_read_file(const char *root, const char *path, bool follow, size_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int root_fd = open_root(root);

        if (root_fd < 0)
                return root_fd;
        return read_input(root_fd, path, INPUT_IN_ROOT | (follow ? INPUT_FOLLOW : 0), max, ret, ret_size);
}

int rootfs_open_dir(const char *root, const char *path, DIR **ret) {
        _cleanup_close_ int root_fd = open_root(root), fd = -EBADF;
        DIR *d;
        int r;

        if (root_fd < 0)
                return root_fd;
        r = chase_open(root_fd, path, 0, O_RDONLY | O_DIRECTORY, 0, &fd);
        if (r < 0)
                return r;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        TAKE_FD(fd);
        *ret = d;
        return 0;
}

static const char *copy_src, *copy_dst;
static int copy_root_fd = -EBADF, copy_count;

static int copy_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        _cleanup_free_ char *target = NULL;
        const char *rel = path + strlen(copy_src);
        int r;

        (void) ftw;
        if (isempty(rel))
                return 0; /* the top directory itself: the target exists */
        if (asprintf(&target, "%s%s", streq(copy_dst, "/") ? "" : copy_dst, rel) < 0)
                return -ENOMEM;

        if (flag == FTW_D) {
                /* an existing directory keeps the base's mode; a new one gets the source's */
                r = chase_mkdir_p(copy_root_fd, target, 0, st->st_mode & 07777, tree_owner(), (gid_t) tree_owner(),
                                  NULL);
                if (r < 0)
                        return r;
        } else if (flag == FTW_SL) {
                char dest[PATH_MAX_LEN];
                ssize_t n = readlink(path, dest, sizeof dest - 1);

                if (n < 0)
                        return -errno;
                dest[n] = 0;
                r = symlink_in(copy_root_fd, dest, target);
                if (r < 0)
                        return r;
        } else if (flag == FTW_F && S_ISREG(st->st_mode)) {
                _cleanup_free_ char *data = NULL;
                size_t len = 0;

                r = read_input(AT_FDCWD, path, 0, 256U << 20, &data, &len);
                if (r < 0)
                        return r;
                r = write_in(copy_root_fd, target, data, len, st->st_mode & 07777, tree_owner(), (gid_t) tree_owner());
                if (r < 0)
                        return r;
        } else
                return -EBADF; /* devices, sockets, unreadable directories: not for a source tree */
        copy_count++;
        return 0;
}

int rootfs_copy_tree(const char *src, const char *root, const char *dst) {
        _cleanup_free_ char *top = NULL;
        _cleanup_close_ int root_fd = -EBADF;
        int r;

        if (!path_ok(dst) && !streq(dst, "/"))
                return -EINVAL;
        root_fd = open_root(root);
        if (root_fd < 0)
                return root_fd;
        r = chase_mkdir_p(root_fd, dst, 0, 0755, tree_owner(), (gid_t) tree_owner(), NULL);
        if (r < 0)
                return r;
        top = strdup(src);
        if (!top)
                return -ENOMEM;
        while (endswith(top, "/") && strlen(top) > 1)
                top[strlen(top) - 1] = 0;

        copy_src = top;
        copy_root_fd = root_fd;
        copy_dst = dst;
        copy_count = 0;
        r = nftw(top, copy_cb, 64, FTW_PHYS);
        copy_root_fd = -EBADF;
        if (r < 0)
                return r == -1 && errno > 0 ? -errno : r;
        if (r > 0)
                return -EIO;
        return copy_count;
}

static uint64_t clamp_to;
static int clamp_count;

static int clamp_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) flag;
        (void) ftw;
        if ((uint64_t) st->st_mtim.tv_sec < clamp_to ||
            ((uint64_t) st->st_mtim.tv_sec == clamp_to && st->st_mtim.tv_nsec == 0))
                return 0;
        struct timespec ts[2] = {
                { .tv_sec = (time_t) clamp_to },
                { .tv_sec = (time_t) clamp_to },
        };
        if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return -1;
        clamp_count++;
        return 0;
}

int rootfs_clamp_mtimes(const char *root, uint64_t t) {
        clamp_to = t;
        clamp_count = 0;
        /* FTW_DEPTH: a directory is clamped after its entries, whose changes no longer touch it. */
        if (nftw(root, clamp_cb, 64, FTW_PHYS | FTW_DEPTH) != 0)
                return -errno;
        return clamp_count;
}

int rootfs_packages(const char *root, char ***ret) {
        _cleanup_free_ char *data = NULL, *pkg = NULL, *ver = NULL;
        _cleanup_strv_free_ char **l = NULL;
        size_t len = 0;
        bool installed = false;
        char *line, *save = NULL;
        int r;

        r = rootfs_read_file(root, "/var/lib/dpkg/status", true, 256U << 20, &data, &len);
        if (r == -ENOENT) {
                *ret = calloc(1, sizeof(char *));
                return *ret ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;

        /* Paragraphs separated by empty lines; strtok_r skips them, so finish a package at each
         * "Package:" and at the end. */
        for (line = strtok_r(data, "\n", &save);; line = strtok_r(NULL, "\n", &save)) {
                if (!line || startswith(line, "Package: ")) {
                        if (pkg && ver && installed) {
                                char *s;
                                if (asprintf(&s, "%s %s", pkg, ver) < 0 || strv_consume(&l, s) < 0)
                                        return -ENOMEM;
                        }
                        pkg = mfree(pkg);
                        ver = mfree(ver);
                        installed = false;
                        if (!line)
                                break;
                        pkg = strdup(line + strlen("Package: "));
                        if (!pkg)
                                return -ENOMEM;
                } else if (startswith(line, "Version: ")) {
                        free(ver);
                        ver = strdup(line + strlen("Version: "));
                        if (!ver)
                                return -ENOMEM;
                } else if (startswith(line, "Status: "))
                        installed = endswith(line, " installed");
        }

        if (!l) {
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
        }
        strv_sort(l);
        *ret = TAKE_PTR(l);
        return 0;
}
