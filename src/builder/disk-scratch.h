/**
 * A private scratch directory that disappears however the build ends.
 *
 * scratch_dir_new() creates a 0700 directory under $TMPDIR (default /var/tmp: a root tree does not
 * belong in a RAM-backed /tmp) and forks a janitor process that waits on a pipe. When the builder
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

int scratch_dir_new(ScratchDir *ret, const char *extra_dir);
/* Removes the directory now and lets the janitor go. */
void scratch_dir_done(ScratchDir *s);
