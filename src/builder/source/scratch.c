/**
 * Scratch directories with a janitor (see disk-scratch.h). The janitor is a plain fork() without
 * exec: it only waits and removes a directory, which spawn.h (fork + exec) cannot express.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "rm-rf.h"
#include "source/tarball.h"
#include "source/scratch.h"
#include "macro.h"

static uint64_t mem_available(void) {
        _cleanup_fclose_ FILE *f = fopen("/proc/meminfo", "re");
        char line[128];
        unsigned long long kb;

        while (f && fgets(line, sizeof line, f))
                if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
                        return (uint64_t) kb * 1024;
        return 0;
}

static const char *pick_base(uint64_t ram_bytes) {
        const char *t = getenv("TMPDIR");
        struct statvfs sv;

        if (!isempty(t))
                return t;
        if (ram_bytes > 0 && statvfs("/dev/shm", &sv) >= 0 && access("/dev/shm", W_OK) >= 0 &&
            (uint64_t) sv.f_bavail * sv.f_frsize > 2 * ram_bytes && mem_available() > 2 * ram_bytes + (1ULL << 30))
                return "/dev/shm";
        return "/var/tmp";
}

int scratch_dir_new(ScratchDir *ret, const char *extra_dir, uint64_t ram_bytes) {
        const char *base = pick_base(ram_bytes);
        _cleanup_free_ char *tmpl = NULL, *extra = NULL;
        int p[2];
        pid_t pid;

        if (asprintf(&tmpl, "%s/appliance-builder.XXXXXX", base) < 0)
                return -ENOMEM;
        if (!mkdtemp(tmpl))
                return -errno;
        if (extra_dir && !(extra = strdup(extra_dir)))
                return -ENOMEM;

        if (pipe2(p, O_CLOEXEC) < 0) {
                int r = -errno;
                (void) rmdir(tmpl);
                return r;
        }
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                (void) rmdir(tmpl);
                (void) close(p[0]);
                (void) close(p[1]);
                return r;
        }
        if (pid == 0) {
                char c;

                (void) signal(SIGINT, SIG_IGN);
                (void) signal(SIGTERM, SIG_IGN);
                (void) signal(SIGHUP, SIG_IGN);
                (void) close(p[1]);
                /* Close everything else so the janitor holds no output file open. */
                for (int fd = 3; fd < 1024; fd++)
                        if (fd != p[0])
                                (void) close(fd);
                while (read(p[0], &c, 1) < 0 && errno == EINTR)
                        ;
                (void) rm_rf(tmpl);
                if (extra)
                        (void) rmdir(extra);
                _exit(0);
        }
        (void) close(p[0]);
        *ret = (ScratchDir) { .path = TAKE_PTR(tmpl), .janitor_fd = p[1], .janitor_pid = pid };
        return 0;
}

void scratch_dir_done(ScratchDir *s) {
        if (!s->path)
                return;
        (void) rm_rf(s->path);
        free(s->path);
        s->path = NULL;
        if (s->janitor_fd >= 0) {
                (void) close(s->janitor_fd);
                s->janitor_fd = -1;
                (void) waitpid(s->janitor_pid, NULL, 0);
        }
}
