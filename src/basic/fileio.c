/**
 * File I/O: whole-file reads, atomic writes (O_TMPFILE + linkat + renameat), directory creation.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "macro.h"

#define READ_FULL_DEFAULT_MAX (64U * 1024U * 1024U)

int loop_write(int fd, const void *buf, size_t len) {
        const char *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

ssize_t loop_read(int fd, void *buf, size_t len) {
        char *p = buf;
        size_t done = 0;

        while (done < len) {
                ssize_t n = read(fd, p + done, len - done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                done += (size_t) n;
        }
        return (ssize_t) done;
}

int read_full_fd(int fd, size_t max, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, cap = 0;
        struct stat st;

        if (max == 0)
                max = READ_FULL_DEFAULT_MAX;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (S_ISREG(st.st_mode) && (uint64_t) st.st_size > max)
                return -EFBIG;

        for (;;) {
                ssize_t n;

                if (size + 1 >= cap) {
                        size_t ncap = cap ? cap * 2 : (S_ISREG(st.st_mode) ? (size_t) st.st_size + 2 : 4096);
                        char *nbuf;

                        if (ncap < 4096)
                                ncap = 4096;
                        if (ncap > max + 2)
                                ncap = max + 2;
                        nbuf = realloc(buf, ncap);
                        if (!nbuf)
                                return -ENOMEM;
                        buf = nbuf;
                        cap = ncap;
                }
                n = read(fd, buf + size, cap - size - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > max)
                        return -EFBIG;
        }
        if (!buf) {
                buf = malloc(1);
                if (!buf)
                        return -ENOMEM;
        }
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

int read_full_file_at(int dirfd, const char *path, char **ret, size_t *ret_size, size_t max) {
        _cleanup_close_ int fd = -EBADF;

        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return read_full_fd(fd, max, ret, ret_size);
}

int read_full_file(const char *path, char **ret, size_t *ret_size, size_t max) {
        return read_full_file_at(AT_FDCWD, path, ret, ret_size, max);
}

int path_split(const char *path, char **ret_dir, const char **ret_base) {
        const char *slash = strrchr(path, '/');
        char *dir;

        if (!slash) {
                dir = strdup(".");
                *ret_base = path;
        } else if (slash == path) {
                dir = strdup("/");
                *ret_base = slash + 1;
        } else {
                dir = strndup(path, (size_t) (slash - path));
                *ret_base = slash + 1;
        }
        if (!dir)
                return -ENOMEM;
        if (isempty(*ret_base)) {
                free(dir);
                return -EISDIR;
        }
        *ret_dir = dir;
        return 0;
}

bool path_exists(const char *path) {
        struct stat st;
        return lstat(path, &st) == 0;
}

static int random_suffix(char buf[static 7]) {
        static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        unsigned char r[6];

        if (getrandom(r, sizeof r, 0) != (ssize_t) sizeof r)
                return -errno ?: -EIO;
        for (size_t i = 0; i < 6; i++)
                buf[i] = chars[r[i] % (sizeof chars - 1)];
        buf[6] = 0;
        return 0;
}

void atomic_file_done(AtomicFile *f) {
        if (!f)
                return;
        f->fd = safe_close(f->fd);
        if (f->tmp_name && !f->committed)
                (void) unlinkat(f->dirfd, f->tmp_name, 0);
        f->dirfd = safe_close(f->dirfd);
        free(f->name);
        free(f->tmp_name);
        free(f->tmp_path);
        *f = (AtomicFile) { .fd = -EBADF, .dirfd = -EBADF };
}

int atomic_file_open(AtomicFile *f, int dirfd, const char *path, mode_t mode) {
        _cleanup_free_ char *dir = NULL;
        const char *base;
        int r;

        *f = (AtomicFile) { .fd = -EBADF, .dirfd = -EBADF, .mode = mode };

        r = path_split(path, &dir, &base);
        if (r < 0)
                return r;

        f->dirfd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (f->dirfd < 0)
                return r = -errno, atomic_file_done(f), r;
        f->name = strdup(base);
        if (!f->name)
                return atomic_file_done(f), -ENOMEM;

        f->fd = openat(f->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
        if (f->fd >= 0) {
                if (asprintf(&f->tmp_path, "/proc/self/fd/%d", f->fd) < 0) {
                        f->tmp_path = NULL;
                        return atomic_file_done(f), -ENOMEM;
                }
        } else {
                /* Filesystems without O_TMPFILE support: a hidden named temporary. */
                for (int attempt = 0; attempt < 100; attempt++) {
                        char sfx[7];

                        r = random_suffix(sfx);
                        if (r < 0)
                                return atomic_file_done(f), r;
                        free(f->tmp_name);
                        if (asprintf(&f->tmp_name, ".#%s.%s", base, sfx) < 0) {
                                f->tmp_name = NULL;
                                return atomic_file_done(f), -ENOMEM;
                        }
                        f->fd = openat(f->dirfd, f->tmp_name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, mode);
                        if (f->fd >= 0 || errno != EEXIST)
                                break;
                }
                if (f->fd < 0) {
                        r = -errno;
                        free(f->tmp_name);
                        f->tmp_name = NULL;
                        return atomic_file_done(f), r;
                }
                if (asprintf(&f->tmp_path, "/proc/self/fd/%d", f->fd) < 0) {
                        f->tmp_path = NULL;
                        return atomic_file_done(f), -ENOMEM;
                }
        }

        /* The mode given to open() is subject to umask; apply it exactly. */
        if (fchmod(f->fd, mode) < 0)
                return r = -errno, atomic_file_done(f), r;
        return 0;
}

int create_output_file(const char *path, mode_t mode) {
        _cleanup_close_ int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode & 0600);

        /* Created with at most 0600 whatever the umask; widened, if asked, while still empty. */
        if (fd < 0)
                return -errno;
        if (fchmod(fd, mode) < 0) {
                int r = -errno;
                (void) unlink(path);
                return r;
        }
        return 0;
}

int atomic_file_commit(AtomicFile *f) {
        if (f->fd < 0 || f->committed)
                return -EBADF;

        if ((f->data_sync_only ? fdatasync(f->fd) : fsync(f->fd)) < 0)
                return -errno;

        if (!f->tmp_name) {
                /* Give the O_TMPFILE a hidden name, then rename it over the target. linkat() with
                 * AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; the /proc path works for everyone. */
                char proc[64];

                snprintf(proc, sizeof proc, "/proc/self/fd/%d", f->fd);
                for (int attempt = 0; attempt < 100; attempt++) {
                        char sfx[7];
                        int r = random_suffix(sfx);
                        if (r < 0)
                                return r;
                        free(f->tmp_name);
                        if (asprintf(&f->tmp_name, ".#%s.%s", f->name, sfx) < 0) {
                                f->tmp_name = NULL;
                                return -ENOMEM;
                        }
                        if (linkat(AT_FDCWD, proc, f->dirfd, f->tmp_name, AT_SYMLINK_FOLLOW) >= 0)
                                break;
                        if (errno != EEXIST) {
                                r = -errno;
                                free(f->tmp_name);
                                f->tmp_name = NULL;
                                return r;
                        }
                }
        }

        if (renameat(f->dirfd, f->tmp_name, f->dirfd, f->name) < 0)
                return -errno;
        f->committed = true;
        if (!f->data_sync_only)
                (void) fsync(f->dirfd);
        return 0;
}

int write_file_atomic_at(int dirfd, const char *path, const void *data, size_t len, mode_t mode) {
        AtomicFile f;
        int r;

        r = atomic_file_open(&f, dirfd, path, mode);
        if (r < 0)
                return r;
        r = loop_write(f.fd, data, len);
        if (r >= 0)
                r = atomic_file_commit(&f);
        atomic_file_done(&f);
        return r;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode) {
        return write_file_atomic_at(AT_FDCWD, path, data, len, mode);
}

int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);
        int created = 0;

        if (!p)
                return -ENOMEM;

        for (char *s = p + 1;; s++) {
                bool end = *s == 0;

                if (*s != '/' && !end)
                        continue;
                *s = 0;
                if (mkdir(p, mode) >= 0)
                        created = 1;
                else if (errno != EEXIST)
                        return -errno;
                if (end)
                        break;
                *s = '/';
        }

        struct stat st;
        if (stat(path, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        return created;
}

int path_same_file(const char *a, const char *b) {
        struct stat sa, sb;

        if (stat(a, &sa) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (stat(b, &sb) < 0)
                return errno == ENOENT ? 0 : -errno;
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int dir_fd_is_empty(int fd) {
        int copy = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), empty = 1;
        DIR *d;

        if (copy < 0)
                return -errno;
        d = fdopendir(copy);
        if (!d) {
                int r = -errno;
                safe_close(copy);
                return r;
        }
        for (struct dirent *de; (de = readdir(d));)
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        empty = 0;
                        break;
                }
        closedir(d);
        return empty;
}
