/**
 * Progress reporting for long build steps.
 *
 * On a terminal (stderr is a tty and the log level shows info) a one-line bar with bytes done, the
 * total and an ETA is redrawn at most ten times a second; otherwise only plain log lines are
 * written: one when the step starts and one with the amount and duration when it ends.
 *
 *   Progress p;
 *   progress_begin(&p, "Writing root filesystem", total_bytes);
 *   ... progress_update(&p, done_bytes); ...
 *   progress_end(&p);
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct Progress {
        const char *label;
        uint64_t total, done;
        uint64_t start_usec, last_draw_usec;
        bool tty, drawn;
} Progress;

uint64_t progress_now_usec(void);

void progress_begin(Progress *p, const char *label, uint64_t total);
void progress_update(Progress *p, uint64_t done);
/* Ends the step: clears the bar and logs "<label>: <done> in <seconds>s". */
void progress_end(Progress *p);
/* Ends a step that failed: clears the bar, logs nothing; the step stays the running one. */
void progress_abort(Progress *p);
/* The label of the step running (*ret_running true), else of the last one finished, else NULL:
 * what a failed build names. */
const char *progress_step(bool *ret_running);

/* Runs argv (as spawn_capture() with stdout and stderr captured together into *ret_output, which
 * may be NULL) while showing progress for a child that reads about expected_read bytes: the bar
 * follows the child's read counter in /proc/PID/io. Returns what spawn_capture() returns. */
int progress_spawn(char *const argv[], const char *label, uint64_t expected_read, char **ret_output);
