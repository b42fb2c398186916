/**
 * Path resolution confined to a root fd (openat2 RESOLVE_IN_ROOT, or a user-space walk that does the
 * same), and the writes, owner changes and bounded input reads built on it.
 *
 * The walk keeps the directories it went through as a stack of O_PATH fds: ".." pops one (at the
 * root there is none to pop, so ".." is the root), a symlink is read with readlinkat() and its
 * target put in front of the rest of the path (an absolute target empties the stack). No fd ever
 * refers to anything the root does not contain, whatever is renamed meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "chase.h"
#include "cleanup.h"
#include "fileio.h"
#include "macro.h"

#define INPUT_DEFAULT_MAX (64U * 1024U * 1024U)

bool chase_force_walk(void) {
        const char *e = getenv("CHASE_FORCE_WALK");
        return e && streq(e, "1");
}

/* 1 once openat2() failed in a way that says it is not there (old kernel, seccomp filter). */
static int openat2_missing = 0;

static int chase_openat2(int root_fd, const char *path, ChaseFlags flags, int open_flags, mode_t mode) {
#ifdef SYS_openat2
        struct open_how how = {
                .flags = (uint64_t) (unsigned) (open_flags | O_CLOEXEC),
                .mode = (open_flags & (O_CREAT | O_TMPFILE)) ? (uint64_t) mode : 0,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
                           ((flags & CHASE_NO_SYMLINKS) ? RESOLVE_NO_SYMLINKS : 0),
        };

        if (__atomic_load_n(&openat2_missing, __ATOMIC_RELAXED))
                return -ENOSYS;
        /* -EAGAIN: a rename raced with the lookup; the kernel asks to retry. */
        for (int attempt = 0; attempt < 16; attempt++) {
                int fd = (int) syscall(SYS_openat2, root_fd, isempty(path) ? "." : path, &how, sizeof how);
                if (fd >= 0)
                        return fd;
                if (errno == EAGAIN)
                        continue;
                if (errno == ENOSYS || errno == EPERM || errno == EINVAL) {
                        __atomic_store_n(&openat2_missing, 1, __ATOMIC_RELAXED);
                        return -ENOSYS;
                }
                return -errno;
        }
        return -EAGAIN;
#else
        return -ENOSYS;
#endif
}

typedef struct DirStack {
        int root;
        int *fds;
        size_t n, cap;
} DirStack;

static void dir_stack_done(DirStack *s) {
        for (size_t i = 0; i < s->n; i++)
                safe_close(s->fds[i]);
        free(s->fds);
        s->root = safe_close(s->root);
        *s = (DirStack) { .root = -EBADF };
}

static int dir_stack_top(const DirStack *s) {
        return s->n > 0 ? s->fds[s->n - 1] : s->root;
}

static int dir_stack_push(DirStack *s, int fd) {
        if (s->n == s->cap) {
                size_t ncap = s->cap ? s->cap * 2 : 16;
                int *n = realloc(s->fds, ncap * sizeof(int));
                if (!n) {
                        safe_close(fd);
                        return -ENOMEM;
                }
                s->fds = n;
                s->cap = ncap;
        }
        s->fds[s->n++] = fd;
        return 0;
}

static void dir_stack_pop(DirStack *s) {
        if (s->n > 0) {
                s->n--;
                s->fds[s->n] = safe_close(s->fds[s->n]);
        }
}

static void dir_stack_reset(DirStack *s) {
        while (s->n > 0)
                dir_stack_pop(s);
}

/* Replaces the symlink dir/name by its target: *todo becomes target + rest. */
static int expand_link(DirStack *s, ChaseFlags flags, unsigned *links, int dir_fd, const char *name,
                       const char *rest, char **todo) {
        char target[PATH_MAX + 1];
        ssize_t n;
        char *t;

        if ((flags & CHASE_NO_SYMLINKS) || ++*links > CHASE_MAX_LINKS)
                return -ELOOP;
        n = readlinkat(dir_fd, name, target, sizeof target);
        if (n < 0)
                return -errno;
        if ((size_t) n >= sizeof target)
                return -ENAMETOOLONG;
        target[n] = 0;
        if (n == 0)
                return -ENOENT;
        if (strlen(rest) + (size_t) n > 64 * PATH_MAX)
                return -ENAMETOOLONG;
        /* rest is empty or starts with "/": a trailing slash stays exactly as the path had it. */
        if (asprintf(&t, "%s%s", target, rest) < 0)
                return -ENOMEM;
        if (target[0] == '/')
                dir_stack_reset(s);
        free(*todo);
        *todo = t;
        return 0;
}

static int chase_walk(int root_fd, const char *path, ChaseFlags flags, int open_flags, mode_t mode) {
        _cleanup_(dir_stack_done) DirStack s = { .root = -EBADF };
        _cleanup_free_ char *todo = strdup(path);
        unsigned links = 0;
        size_t pos = 0;
        int r;

        if (!todo)
                return -ENOMEM;
        s.root = openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (s.root < 0)
                return -errno;

        for (;;) {
                char name[NAME_MAX + 1];
                const char *p = todo + pos, *rest;
                size_t len;
                bool last, slash;
                int fd, cur = dir_stack_top(&s);
                struct stat st;

                p += strspn(p, "/");
                len = strcspn(p, "/");
                if (len == 0) {
                        /* Nothing left: the path names the directory we are in ("/", "a/.."). */
                        if (open_flags & O_CREAT)
                                return -EISDIR;
                        fd = openat(cur, ".", open_flags | O_CLOEXEC, mode);
                        return fd < 0 ? -errno : fd;
                }
                if (len > NAME_MAX)
                        return -ENAMETOOLONG;
                memcpy(name, p, len);
                name[len] = 0;
                rest = p + len;
                slash = *rest == '/';
                last = rest[strspn(rest, "/")] == 0;
                pos = (size_t) (rest - todo);

                if (streq(name, ".") || streq(name, "..")) {
                        if (streq(name, ".."))
                                dir_stack_pop(&s);
                        continue;
                }

                if (!last) {
                        fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0)
                                return -errno;
                        if (fstat(fd, &st) < 0) {
                                r = -errno;
                                safe_close(fd);
                                return r;
                        }
                        if (S_ISLNK(st.st_mode)) {
                                safe_close(fd);
                                r = expand_link(&s, flags, &links, cur, name, rest, &todo);
                                if (r < 0)
                                        return r;
                                pos = 0;
                                continue;
                        }
                        if (!S_ISDIR(st.st_mode)) {
                                safe_close(fd);
                                return -ENOTDIR;
                        }
                        r = dir_stack_push(&s, fd);
                        if (r < 0)
                                return r;
                        continue;
                }

                /* The last component. A trailing slash asks for a directory. */
                int f = open_flags | O_CLOEXEC | (slash ? O_DIRECTORY : 0);
                /* O_CREAT|O_EXCL never follows a last symlink: it exists (-EEXIST), as openat() says. */
                bool want_link = (open_flags & O_NOFOLLOW) || (open_flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);

                if (!want_link && fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISLNK(st.st_mode)) {
                        r = expand_link(&s, flags, &links, cur, name, rest, &todo);
                        if (r < 0)
                                return r;
                        pos = 0;
                        continue;
                }
                if (slash && (f & O_CREAT))
                        return -EISDIR;
                fd = openat(cur, name, f | O_NOFOLLOW, mode);
                if (fd < 0) {
                        /* Became a symlink since the fstatat(): look again (counted as a link). */
                        if (errno == ELOOP && !want_link && ++links <= CHASE_MAX_LINKS) {
                                pos = (size_t) (p - todo);
                                continue;
                        }
                        return -errno;
                }
                if ((f & O_PATH) && !want_link) {
                        if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode)) {
                                safe_close(fd);
                                if (++links > CHASE_MAX_LINKS)
                                        return -ELOOP;
                                pos = (size_t) (p - todo);
                                continue;
                        }
                }
                return fd;
        }
}

int chase_open(int root_fd, const char *path, ChaseFlags flags, int open_flags, mode_t mode, int *ret_fd) {
        int fd = -ENOSYS;

        if (!path)
                return -EINVAL;
        if (!(flags & CHASE_WALK) && !chase_force_walk())
                fd = chase_openat2(root_fd, path, flags, open_flags, mode);
        if (fd == -ENOSYS)
                fd = chase_walk(root_fd, path, flags, open_flags, mode);
        if (fd < 0)
                return fd;
        *ret_fd = fd;
        return 0;
}

int chase_parent(int root_fd, const char *path, ChaseFlags flags, int *ret_dir_fd, char **ret_name) {
        _cleanup_free_ char *dir = NULL, *name = NULL;
        size_t end, start;
        int r;

        if (!path)
                return -EINVAL;
        end = strlen(path);
        while (end > 0 && path[end - 1] == '/')
                end--;
        start = end;
        while (start > 0 && path[start - 1] != '/')
                start--;
        if (start == end)
                return -EISDIR;
        name = strndup(path + start, end - start);
        dir = strndup(path, start);
        if (!name || !dir)
                return -ENOMEM;
        if (streq(name, ".") || streq(name, ".."))
                return -EISDIR;
        if (strlen(name) > NAME_MAX)
                return -ENAMETOOLONG;

        r = chase_open(root_fd, dir, flags, O_PATH | O_DIRECTORY, 0, ret_dir_fd);
        if (r < 0)
                return r;
        *ret_name = TAKE_PTR(name);
        return 0;
}

int fd_chown_chmod(int fd, uid_t uid, gid_t gid, mode_t mode) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISLNK(st.st_mode))
                return -ELOOP;
        if ((uid != (uid_t) -1 && uid != st.st_uid) || (gid != (gid_t) -1 && gid != st.st_gid))
                if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
                        return -errno;
        if (mode != (mode_t) -1) {
                if (fchmod(fd, mode & 07777) < 0) {
                        char proc[64];

                        if (errno != EBADF)
                                return -errno;
                        /* An O_PATH fd: through its /proc entry, which names this very inode. */
                        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
                        if (chmod(proc, mode & 07777) < 0)
                                return errno == ENOENT ? -ENOSYS : -errno;
                }
        }
        return 0;
}

static int chase_change(int root_fd, const char *path, ChaseFlags flags, uid_t uid, gid_t gid, mode_t mode) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = chase_open(root_fd, path, flags, O_PATH | O_NOFOLLOW, 0, &fd);
        if (r < 0)
                return r;
        return fd_chown_chmod(fd, uid, gid, mode);
}

int chase_chown(int root_fd, const char *path, ChaseFlags flags, uid_t uid, gid_t gid) {
        return chase_change(root_fd, path, flags, uid, gid, (mode_t) -1);
}

int chase_chmod(int root_fd, const char *path, ChaseFlags flags, mode_t mode) {
        return chase_change(root_fd, path, flags, (uid_t) -1, (gid_t) -1, mode);
}

int chase_readlink(int root_fd, const char *path, ChaseFlags flags, char **ret) {
        _cleanup_close_ int dir_fd = -EBADF, fd = -EBADF;
        _cleanup_free_ char *name = NULL;
        char target[PATH_MAX + 1];
        struct stat st;
        ssize_t n;
        int r;

        r = chase_parent(root_fd, path, flags, &dir_fd, &name);
        if (r < 0)
                return r;
        fd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISLNK(st.st_mode))
                return -EINVAL;
        n = readlinkat(fd, "", target, sizeof target);
        if (n < 0)
                return -errno;
        if ((size_t) n >= sizeof target)
                return -ENAMETOOLONG;
        target[n] = 0;
        *ret = strdup(target);
        return *ret ? 0 : -ENOMEM;
}

int chase_mkdir_p(int root_fd, const char *path, ChaseFlags flags, mode_t mode, uid_t uid, gid_t gid,
                  int *ret_fd) {
        _cleanup_free_ char *prefix = malloc(strlen(path) + 2);
        _cleanup_close_ int parent = -EBADF;
        const char *p = path;
        size_t plen = 0;
        int created = 0, r;

        if (!prefix)
                return -ENOMEM;
        r = chase_open(root_fd, "/", flags, O_PATH | O_DIRECTORY, 0, &parent);
        if (r < 0)
                return r;

        for (;;) {
                _cleanup_close_ int fd = -EBADF;
                size_t len;

                p += strspn(p, "/");
                len = strcspn(p, "/");
                if (len == 0)
                        break;
                if (len > NAME_MAX)
                        return -ENAMETOOLONG;
                prefix[plen++] = '/';
                memcpy(prefix + plen, p, len);
                plen += len;
                prefix[plen] = 0;

                char name[NAME_MAX + 1];
                memcpy(name, p, len);
                name[len] = 0;
                p += len;

                created = 0;
                r = chase_open(root_fd, prefix, flags, O_PATH | O_DIRECTORY, 0, &fd);
                if (r == -ENOENT) {
                        if (mkdirat(parent, name, mode & 07777) >= 0) {
                                fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                                if (fd < 0)
                                        return -errno;
                                r = fd_chown_chmod(fd, uid, gid, mode);
                                if (r < 0)
                                        return r;
                                created = 1;
                        } else if (errno == EEXIST) {
                                /* Made meanwhile, or a dangling symlink: resolve once more. */
                                r = chase_open(root_fd, prefix, flags, O_PATH | O_DIRECTORY, 0, &fd);
                                if (r < 0)
                                        return r;
                        } else
                                return -errno;
                } else if (r < 0)
                        return r;
                safe_close(parent);
                parent = TAKE_FD(fd);
        }

        if (ret_fd) {
                int fd = openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                *ret_fd = fd;
        }
        return created;
}

int write_file_atomic_in_root(int root_fd, const char *path, ChaseFlags flags, const void *data, size_t len,
                              mode_t mode, uid_t uid, gid_t gid) {
        _cleanup_close_ int dir_fd = -EBADF;
        _cleanup_free_ char *name = NULL;
        AtomicFile f;
        struct stat st;
        int r;

        r = chase_parent(root_fd, path, flags, &dir_fd, &name);
        if (r < 0)
                return r;
        /* A symlink in the last component is replaced by the rename, never followed. */
        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISDIR(st.st_mode))
                return -EISDIR;

        r = atomic_file_open(&f, dir_fd, name, mode & 07777);
        if (r < 0)
                return r;
        r = fd_chown_chmod(f.fd, uid, gid, mode & 07777);
        if (r >= 0)
                r = loop_write(f.fd, data, len);
        if (r >= 0)
                r = atomic_file_commit(&f);
        atomic_file_done(&f);
        return r;
}

int open_input(int dir_fd, const char *path, InputFlags flags, uint64_t max_size, int *ret_fd, uint64_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        int oflags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | ((flags & INPUT_FOLLOW) ? 0 : O_NOFOLLOW);
        struct stat st;
        int r, fl;

        if (max_size == 0)
                max_size = INPUT_DEFAULT_MAX;
        if (flags & INPUT_IN_ROOT) {
                r = chase_open(dir_fd, path, (flags & INPUT_NO_SYMLINKS) ? CHASE_NO_SYMLINKS : 0, oflags, 0, &fd);
                if (r < 0)
                        return r;
        } else {
                fd = openat(dir_fd, path, oflags);
                if (fd < 0)
                        return -errno;
        }
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode) && !(S_ISBLK(st.st_mode) && (flags & INPUT_ALLOW_BLOCK)))
                return -EBADFD;
        if (S_ISREG(st.st_mode) && (uint64_t) st.st_size > max_size)
                return -EFBIG;
        fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
                return -errno;
        if (ret_size)
                *ret_size = S_ISREG(st.st_mode) ? (uint64_t) st.st_size : 0;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int read_input(int dir_fd, const char *path, InputFlags flags, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (max_size == 0)
                max_size = INPUT_DEFAULT_MAX;
        r = open_input(dir_fd, path, flags, max_size, &fd, NULL);
        if (r < 0)
                return r;
        return read_full_fd(fd, max_size, ret, ret_size);
}

const char *input_strerror(int r) {
        switch (r) {
        case -EBADFD:
                return "not a regular file (a FIFO, socket or device)";
        case -ELOOP:
                return "a symbolic link (not followed) or a loop of them";
        case -EISDIR:
                return "a directory, not a file";
        case -EFBIG:
                return "too large";
        default:
                return strerror(-r);
        }
}
