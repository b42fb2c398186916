/**
 * Child processes: fork, exec, feed stdin, capture stdout/stderr with poll(), wait.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "macro.h"
#include "spawn.h"

/* In the child: only stdin, stdout and stderr go on. A descriptor the caller inherited (a lock file
 * of the shell that started us, say) would otherwise shift the numbers the child's children get:
 * mmdebstrap hands apt a "cat >&N" hook that dash cannot run once N is above 9. */
static void close_inherited_fds(void) {
        if (close_range(3, ~0U, 0) == 0)
                return;
        for (int fd = 3; fd < 1024; fd++)
                (void) close(fd);
}

typedef struct Buffer {
        char *data;
        size_t len, cap;
} Buffer;

static int buffer_append(Buffer *b, const char *p, size_t n) {
        if (b->len + n + 1 > b->cap) {
                size_t ncap = MAX(b->cap * 2, b->len + n + 1);
                char *nd = realloc(b->data, MAX(ncap, (size_t) 4096));
                if (!nd)
                        return -ENOMEM;
                b->data = nd;
                b->cap = MAX(ncap, (size_t) 4096);
        }
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = 0;
        return 0;
}

static char *buffer_take(Buffer *b) {
        if (!b->data)
                return strdup("");
        return TAKE_PTR(b->data);
}

int find_executable(const char *name, char **ret) {
        const char *p = getenv("PATH") ?: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

        if (strchr(name, '/')) {
                if (access(name, X_OK) < 0)
                        return -errno;
                *ret = strdup(name);
                return *ret ? 0 : -ENOMEM;
        }

        while (*p) {
                size_t n = strcspn(p, ":");
                char *c;

                if (asprintf(&c, "%.*s/%s", (int) n, p, name) < 0)
                        return -ENOMEM;
                struct stat st;
                if (stat(c, &st) == 0 && S_ISREG(st.st_mode) && access(c, X_OK) == 0) {
                        *ret = c;
                        return 0;
                }
                free(c);
                p += n;
                if (*p)
                        p++;
        }
        return -ENOENT;
}

static int wait_child(pid_t pid) {
        int status;

        for (;;) {
                if (waitpid(pid, &status, 0) >= 0)
                        break;
                if (errno != EINTR)
                        return -errno;
        }
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return -EIO;
}

int spawn_capture(char *const argv[], const char *stdin_data, size_t stdin_len, SpawnFlags flags,
                  char **ret_stdout, char **ret_stderr) {
        int in[2] = { -EBADF, -EBADF }, out[2] = { -EBADF, -EBADF }, err[2] = { -EBADF, -EBADF };
        _cleanup_free_ char *exe = NULL;
        Buffer bo = {}, be = {};
        pid_t pid;
        int r;

        r = find_executable(argv[0], &exe);
        if (r < 0)
                return r;

        if ((stdin_data && pipe2(in, O_CLOEXEC) < 0) ||
            (ret_stdout && pipe2(out, O_CLOEXEC) < 0) ||
            (ret_stderr && !(flags & SPAWN_STDERR_TO_STDOUT) && pipe2(err, O_CLOEXEC) < 0)) {
                r = -errno;
                goto fail_pipes;
        }

        pid = fork();
        if (pid < 0) {
                r = -errno;
                goto fail_pipes;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);

                (void) signal(SIGPIPE, SIG_DFL);
                if (stdin_data)
                        (void) dup2(in[0], STDIN_FILENO);
                else if (null >= 0)
                        (void) dup2(null, STDIN_FILENO);
                if (ret_stdout)
                        (void) dup2(out[1], STDOUT_FILENO);
                else if ((flags & SPAWN_NULL_STDOUT) && null >= 0)
                        (void) dup2(null, STDOUT_FILENO);
                if (flags & SPAWN_STDERR_TO_STDOUT)
                        (void) dup2(STDOUT_FILENO, STDERR_FILENO);
                else if (ret_stderr)
                        (void) dup2(err[1], STDERR_FILENO);
                else if ((flags & SPAWN_NULL_STDERR) && null >= 0)
                        (void) dup2(null, STDERR_FILENO);
                close_inherited_fds();
                execv(exe, argv);
                _exit(127);
        }

        in[0] = safe_close(in[0]);
        out[1] = safe_close(out[1]);
        err[1] = safe_close(err[1]);

        size_t written = 0;
        if (stdin_data && stdin_len == 0)
                in[1] = safe_close(in[1]);
        if (in[1] >= 0)
                (void) fcntl(in[1], F_SETFL, O_NONBLOCK);

        while (in[1] >= 0 || out[0] >= 0 || err[0] >= 0) {
                struct pollfd p[3] = {
                        { .fd = in[1], .events = POLLOUT },
                        { .fd = out[0], .events = POLLIN },
                        { .fd = err[0], .events = POLLIN },
                };
                char buf[65536];

                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                if (p[0].revents) {
                        ssize_t n = write(in[1], stdin_data + written, stdin_len - written);
                        if (n < 0 && errno != EAGAIN && errno != EINTR)
                                in[1] = safe_close(in[1]); /* child closed its stdin: EPIPE */
                        else if (n > 0 && (written += (size_t) n) >= stdin_len)
                                in[1] = safe_close(in[1]);
                }
                for (int i = 1; i <= 2; i++) {
                        int *fd = i == 1 ? &out[0] : &err[0];
                        Buffer *b = i == 1 ? &bo : &be;

                        if (!p[i].revents)
                                continue;
                        ssize_t n = read(*fd, buf, sizeof buf);
                        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (n <= 0)
                                *fd = safe_close(*fd);
                        else if (buffer_append(b, buf, (size_t) n) < 0)
                                r = -ENOMEM;
                }
        }
        in[1] = safe_close(in[1]);
        out[0] = safe_close(out[0]);
        err[0] = safe_close(err[0]);

        int status = wait_child(pid);
        if (r < 0 || status < 0) {
                free(bo.data);
                free(be.data);
                return r < 0 ? r : status;
        }
        if (status == 127 && access(exe, X_OK) < 0) {
                free(bo.data);
                free(be.data);
                return -ENOENT;
        }
        if (ret_stdout)
                *ret_stdout = buffer_take(&bo);
        if (ret_stderr)
                *ret_stderr = buffer_take(&be);
        free(bo.data);
        free(be.data);
        return status;

fail_pipes:
        for (int i = 0; i < 2; i++) {
                safe_close(in[i]);
                safe_close(out[i]);
                safe_close(err[i]);
        }
        return r;
}

int spawn_run(char *const argv[]) {
        return spawn_capture(argv, NULL, 0, 0, NULL, NULL);
}
