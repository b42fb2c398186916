/**
 * File I/O helpers.
 *
 * Every output a tool produces is written atomically: the data goes into an unnamed (O_TMPFILE) or
 * hidden temporary file in the target directory, is fsync()ed, and only then appears under its
 * final name with one renameat(). A failed, interrupted or killed writer leaves the old file (or
 * nothing) behind, never a partial one. All functions return 0 or -errno and never log above debug.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Reads a whole file (at most max bytes; 0 = 64 MiB). The buffer is NUL-terminated; *ret_size
 * excludes the NUL. Returns -EFBIG if the file is larger than max. */
int read_full_file(const char *path, char **ret, size_t *ret_size, size_t max);
int read_full_file_at(int dirfd, const char *path, char **ret, size_t *ret_size, size_t max);
/* Reads fd to its end, at most max bytes (0 = 64 MiB; more is -EFBIG), NUL-terminated. */
int read_full_fd(int fd, size_t max, char **ret, size_t *ret_size);

/* Writes data to dirfd/path atomically with the given mode (the mode is applied exactly, without
 * umask). dirfd may be AT_FDCWD. */
int write_file_atomic_at(int dirfd, const char *path, const void *data, size_t len, mode_t mode);
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* Streaming variant for large outputs (disk images, ISO files).
 *
 *   AtomicFile f;
 *   r = atomic_file_open(&f, AT_FDCWD, "out/disk.qcow2", 0644);   opens the temporary, f.fd is writable
 *   ... write(f.fd, ...) ...
 *   r = atomic_file_commit(&f);                                    fsync, link under the final name
 *   atomic_file_done(&f);                                          always; discards if not committed
 *
 * With O_TMPFILE (the normal case on ext4, xfs, btrfs, tmpfs) nothing is visible in the directory
 * before the commit, even if the process is killed with SIGKILL. Otherwise a hidden ".#name.XXXXXX"
 * file is used and removed by atomic_file_done(); f.tmp_path names it for tools that need a path
 * (f.tmp_path is always a usable path: "/proc/self/fd/N" in the O_TMPFILE case). */
typedef struct AtomicFile {
        int fd;
        int dirfd;          /* owned duplicate of the target directory */
        char *name;         /* final name, relative to dirfd */
        char *tmp_name;     /* hidden temporary name, NULL when O_TMPFILE is used */
        char *tmp_path;     /* a path through which the temporary can be opened */
        mode_t mode;
        bool committed;
        bool data_sync_only; /* set by the caller after open: the commit fdatasync()s the file, does not
                              * fsync() the directory (the rename is durable with the file system's
                              * next commit; after a crash the old file or the whole new one is there) */
} AtomicFile;

int atomic_file_open(AtomicFile *f, int dirfd, const char *path, mode_t mode);

/* The mode of a tool's output. One that holds a secret (an env, a seed or disk image carrying one, a
 * box or appliance archive made from such a disk) is private from its first byte: pass
 * output_mode(true) to atomic_file_open() (0600; the temporary is created with it, nothing is
 * chmod()ed after data went in). Everything else is 0644. A file a child process writes by path is
 * created with the mode first (create_output_file()), so the child only opens it. */
#define OUTPUT_MODE_PUBLIC ((mode_t) 0644)
#define OUTPUT_MODE_SECRET ((mode_t) 0600)
static inline mode_t output_mode(bool secret) {
        return secret ? OUTPUT_MODE_SECRET : OUTPUT_MODE_PUBLIC;
}

/* Creates path (which must not exist) empty with exactly mode; for a child process (qemu-img) that
 * writes there afterwards and keeps the inode and its mode. */
int create_output_file(const char *path, mode_t mode);
int atomic_file_commit(AtomicFile *f);
void atomic_file_done(AtomicFile *f);

/* Creates a directory and its parents (mode for the ones created). 0 if it existed, 1 if created. */
int mkdir_p(const char *path, mode_t mode);

/* 1 if the directory open at fd has no entries, 0 if it has, -errno. fd stays open, its position
 * unchanged (the listing reads a new descriptor of the same directory). */
int dir_fd_is_empty(int fd);

/* Writes all of buf to fd, retrying on EINTR and short writes. */
int loop_write(int fd, const void *buf, size_t len);
/* Reads up to len bytes, retrying on EINTR and short reads; returns bytes read or -errno. */
ssize_t loop_read(int fd, void *buf, size_t len);

/* Splits a path into a newly allocated directory part ("." if none) and a pointer to the base name. */
int path_split(const char *path, char **ret_dir, const char **ret_base);

/* 1 if a and b name the same existing inode (st_dev and st_ino, symlinks followed: an output
 * that would replace one of its inputs), 0 if not or if either does not exist, -errno otherwise. */
int path_same_file(const char *a, const char *b);

/* Returns true if path exists (any type). */
bool path_exists(const char *path);
