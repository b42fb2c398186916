/**
 * A private scratch directory that disappears however the build ends.
 *
 * scratch_dir_new() creates a 0700 directory under $TMPDIR if set; otherwise under /dev/shm when
 * that tmpfs and the free memory both have room for ram_bytes twice over (a root tree extracted to
 * RAM costs no disk writes before mke2fs reads it back), else under /var/tmp. It then forks a janitor process that waits on a pipe. When the builder
 * exits for any reason (return, SIGINT, SIGTERM, even SIGKILL) the pipe closes and the janitor
 * removes the directory, then removes extra_dir if it is empty (an output directory the build
 * created). The janitor ignores SIGINT, SIGTERM and SIGHUP so a Ctrl-C on the terminal, which
 * reaches the whole process group, does not stop it before it has cleaned up.
 */
#pragma once

typedef struct ScratchDir {
        char *path;
        int janitor_fd; /* write end of the janitor's pipe */
        int janitor_pid;
} ScratchDir;

#include <stdint.h>

int scratch_dir_new(ScratchDir *ret, const char *extra_dir, uint64_t ram_bytes);
/* Removes the directory now and lets the janitor go. */
void scratch_dir_done(ScratchDir *s);
