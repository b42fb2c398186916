/**
 * Touching a tree without ever leaving it, and reading inputs that are what they claim.
 *
 * Every path below is resolved relative to a root directory fd, the way the kernel resolves paths
 * for a process chrooted there: an absolute path or symlink target starts at the root, and ".." at
 * the root stays at the root. openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS) does it where the
 * kernel has it (5.6+); where it is missing or filtered (ENOSYS, EPERM, EINVAL) a component-by-
 * component walk with O_PATH|O_NOFOLLOW does the same in user space, resolving each symlink itself
 * (at most CHASE_MAX_LINKS of them, then -ELOOP). CHASE_NO_SYMLINKS refuses every symlink on the
 * way instead (-ELOOP): that is how a tree whose content a third party supplies is written.
 *
 * Setting the environment variable CHASE_FORCE_WALK=1 (or passing CHASE_WALK) makes every call use
 * the walk, so that both implementations are tested on a kernel that has openat2.
 *
 * All functions return 0 (or a documented positive value) or -errno, and never log.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CHASE_MAX_LINKS 40

typedef enum ChaseFlags {
        CHASE_NO_SYMLINKS = 1 << 0, /* any symlink on the way is refused with -ELOOP (the last component
                                     * too, unless O_NOFOLLOW|O_PATH asks for the link itself) */
        CHASE_WALK = 1 << 1,        /* use the user-space walk even where openat2() works */
} ChaseFlags;

/* Opens path (absolute or relative: both start at root_fd) below root_fd with the open(2) flags and
 * mode. O_NOFOLLOW leaves a symlink in the last component unresolved (with O_PATH the fd refers to
 * the link, else -ELOOP). O_CLOEXEC is always added. root_fd may be AT_FDCWD (the current directory
 * is then the root). */
int chase_open(int root_fd, const char *path, ChaseFlags flags, int open_flags, mode_t mode, int *ret_fd);

/* Opens the directory that holds the last component of path (O_PATH|O_DIRECTORY) and returns the
 * last component in *ret_name (newly allocated; "." for the root itself is refused with -EISDIR). */
int chase_parent(int root_fd, const char *path, ChaseFlags flags, int *ret_dir_fd, char **ret_name);

/* Creates path and its missing parents below root_fd, never following a symlink to do it (an
 * existing component is resolved as chase_open() resolves it). Directories it creates get mode
 * exactly (no umask) and the owner uid:gid ((uid_t) -1 / (gid_t) -1 keep the creator's), set on the
 * directory's fd. Returns 1 if the last component was created, 0 if it existed as a directory,
 * -ENOTDIR if something else is there. ret_fd (may be NULL) receives an O_RDONLY|O_DIRECTORY fd. */
int chase_mkdir_p(int root_fd, const char *path, ChaseFlags flags, mode_t mode, uid_t uid, gid_t gid,
                  int *ret_fd);

/* Writes data to path below root_fd atomically: a temporary (O_TMPFILE, else O_EXCL) in the
 * resolved parent directory gets mode (exact) and uid:gid through its fd, is fsync()ed and renamed
 * over the name (a symlink there is replaced, never followed, with or without CHASE_NO_SYMLINKS,
 * which applies to the directories on the way). The parent directory must exist. */
int write_file_atomic_in_root(int root_fd, const char *path, ChaseFlags flags, const void *data, size_t len,
                              mode_t mode, uid_t uid, gid_t gid);

/* Changes owner and/or mode of path below root_fd through an fd of the inode itself, never through a
 * path and never of a symlink (a symlink in the last component is -ELOOP). (uid_t) -1 / (gid_t) -1
 * keep owner or group; mode (mode_t) -1 keeps the mode. */
int chase_chown(int root_fd, const char *path, ChaseFlags flags, uid_t uid, gid_t gid);
int chase_chmod(int root_fd, const char *path, ChaseFlags flags, mode_t mode);
int fd_chown_chmod(int fd, uid_t uid, gid_t gid, mode_t mode);

/* Reads the target of the symlink at path below root_fd (the directories on the way resolved as
 * chase_open() does). -EINVAL if it is no symlink. */
int chase_readlink(int root_fd, const char *path, ChaseFlags flags, char **ret);

typedef enum InputFlags {
        INPUT_ALLOW_BLOCK = 1 << 0, /* a block device is accepted as well as a regular file */
        INPUT_FOLLOW = 1 << 1,      /* a symlink in the last component is followed (default: -ELOOP) */
        INPUT_IN_ROOT = 1 << 2,     /* dir_fd is a root: path is resolved with chase_open() */
        INPUT_NO_SYMLINKS = 1 << 3, /* with INPUT_IN_ROOT: CHASE_NO_SYMLINKS */
} InputFlags;

/* Opens an untrusted input for reading: O_RDONLY|O_NONBLOCK|O_NOFOLLOW|O_CLOEXEC (never blocks on a
 * FIFO, never follows a final symlink unless asked), fstat() must show a regular file (or a block
 * device with INPUT_ALLOW_BLOCK): -EISDIR for a directory, -EBADFD for anything else. A regular file
 * larger than max_size (0 = 64 MiB) is -EFBIG. O_NONBLOCK is cleared before the fd is returned.
 * dir_fd may be AT_FDCWD. ret_size (may be NULL) receives the file's size (block devices: 0). */
int open_input(int dir_fd, const char *path, InputFlags flags, uint64_t max_size, int *ret_fd, uint64_t *ret_size);

/* open_input() and a bounded read of the whole file (NUL-terminated; growth after the fstat() is
 * caught too: more than max_size bytes is -EFBIG). */
int read_input(int dir_fd, const char *path, InputFlags flags, size_t max_size, char **ret, size_t *ret_size);

/* True if the environment asks for the user-space walk (CHASE_FORCE_WALK=1). */
bool chase_force_walk(void);

/* A message for an error of open_input()/read_input() that names what the path is: "not a regular
 * file (a FIFO, socket or device)" for -EBADFD, "a symbolic link" for -ELOOP, "a directory",
 * "too large"; strerror() otherwise. Never NULL. */
const char *input_strerror(int r);
