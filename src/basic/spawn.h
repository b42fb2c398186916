/**
 * Running child processes: the one place that fork()s and exec()s.
 *
 * spawn_capture() runs argv[0] (looked up in $PATH), optionally feeds it stdin_data, and collects
 * stdout and/or stderr into NUL-terminated buffers. Returns the exit status (0..255) of the child,
 * 128+N if it died of signal N, or -errno if it could not be started (-ENOENT: no such program).
 * Output pointers may be NULL: stdout/stderr are then inherited (or discarded with
 * SPAWN_NULL_STDOUT / SPAWN_NULL_STDERR).
 */
#pragma once

#include <stddef.h>

typedef enum SpawnFlags {
        SPAWN_NULL_STDOUT = 1 << 0,
        SPAWN_NULL_STDERR = 1 << 1,
        SPAWN_STDERR_TO_STDOUT = 1 << 2, /* merge stderr into the captured stdout */
} SpawnFlags;

int spawn_capture(char *const argv[], const char *stdin_data, size_t stdin_len, SpawnFlags flags,
                  char **ret_stdout, char **ret_stderr);

/* Runs argv with inherited stdio and returns its exit status as above. */
int spawn_run(char *const argv[]);

/* Finds an executable in $PATH; returns 0 and a newly allocated path, or -ENOENT. */
int find_executable(const char *name, char **ret);
