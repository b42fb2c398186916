/**
 * Progress bars and plain progress lines (see progress.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"
#include "disk/progress.h"
#include "spawn.h"

#define BAR_WIDTH 24
#define REDRAW_USEC 100000ULL

uint64_t progress_now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

static bool want_tty(void) {
        const char *e = getenv("APPLIANCE_PROGRESS");

        if (e && parse_boolean(e) == 0)
                return false;
        return isatty(STDERR_FILENO) && log_get_max_level() >= LOG_INFO && !getenv("JOURNAL_STREAM");
}

static void draw(Progress *p, bool force) {
        char done[FORMAT_BYTES_MAX], total[FORMAT_BYTES_MAX], bar[BAR_WIDTH + 1], eta[32] = "";
        uint64_t now = progress_now_usec(), elapsed;
        unsigned filled = 0, pct = 0;

        if (!p->tty || (!force && now - p->last_draw_usec < REDRAW_USEC))
                return;
        p->last_draw_usec = now;
        elapsed = now - p->start_usec;

        if (p->total > 0) {
                uint64_t d = MIN(p->done, p->total);
                pct = (unsigned) (d * 100 / p->total);
                filled = (unsigned) (d * BAR_WIDTH / p->total);
                if (d > 0 && elapsed > 500000) {
                        uint64_t rem = (uint64_t) ((double) elapsed * (double) (p->total - d) / (double) d / 1e6);
                        snprintf(eta, sizeof eta, " ETA %" PRIu64 ":%02" PRIu64, rem / 60, rem % 60);
                }
        }
        if (p->total == 0) {
                fprintf(stderr, "\r%s ...\033[K", p->label);
                p->drawn = true;
                return;
        }
        memset(bar, '#', filled);
        memset(bar + filled, '.', BAR_WIDTH - filled);
        bar[BAR_WIDTH] = 0;

        fprintf(stderr, "\r%s [%s] %s/%s %3u%%%s\033[K", p->label, bar,
                format_bytes(done, sizeof done, p->done), format_bytes(total, sizeof total, p->total), pct, eta);
        p->drawn = true;
}

/* The step a failed build names: the one running, else the last one finished (copies: a label
 * may be a temporary string). */
static char step_label[160];
static bool step_is_running;

const char *progress_step(bool *ret_running) {
        if (ret_running)
                *ret_running = step_is_running;
        return step_label[0] ? step_label : NULL;
}

void progress_begin(Progress *p, const char *label, uint64_t total) {
        (void) snprintf(step_label, sizeof step_label, "%s", label);
        step_is_running = true;
        *p = (Progress) {
                .label = label,
                .total = total,
                .start_usec = progress_now_usec(),
                .tty = want_tty(),
        };
        if (p->tty)
                draw(p, true);
        else
                log_info("%s...", label);
}

void progress_update(Progress *p, uint64_t done) {
        p->done = done;
        draw(p, false);
}

void progress_abort(Progress *p) {
        if (p->drawn)
                fputs("\r\033[K", stderr);
        p->drawn = false;
}

void progress_end(Progress *p) {
        char b[FORMAT_BYTES_MAX];
        double secs = (double) (progress_now_usec() - p->start_usec) / 1e6;

        if (p->drawn)
                fputs("\r\033[K", stderr);
        p->drawn = false;
        step_is_running = false;
        if (p->done > 0)
                log_info("%s: %s in %.1fs", p->label, format_bytes(b, sizeof b, p->done), secs);
        else
                log_info("%s: done in %.1fs", p->label, secs);
}

typedef struct SpawnJob {
        char *const *argv;
        char *output;
        int r;
        pid_t tid;
        volatile bool started, finished;
} SpawnJob;

static void *spawn_thread(void *userdata) {
        SpawnJob *j = userdata;

        j->tid = (pid_t) syscall(SYS_gettid);
        __atomic_store_n(&j->started, true, __ATOMIC_SEQ_CST);
        j->r = spawn_capture(j->argv, NULL, 0, SPAWN_STDERR_TO_STDOUT, &j->output, NULL);
        __atomic_store_n(&j->finished, true, __ATOMIC_SEQ_CST);
        return NULL;
}

/* The read counter of the spawning thread's child, via /proc/TID/task/TID/children. */
static bool child_read_bytes(pid_t tid, uint64_t *ret) {
        char path[64], buf[256], line[128];
        _cleanup_fclose_ FILE *f = NULL, *io = NULL;
        long child = 0;

        snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int) getpid(), (int) tid);
        f = fopen(path, "re");
        if (!f || !fgets(buf, sizeof buf, f) || sscanf(buf, "%ld", &child) != 1 || child <= 0)
                return false;
        snprintf(path, sizeof path, "/proc/%ld/io", child);
        io = fopen(path, "re");
        if (!io)
                return false;
        while (fgets(line, sizeof line, io)) {
                unsigned long long v;
                if (sscanf(line, "rchar: %llu", &v) == 1) {
                        *ret = v;
                        return true;
                }
        }
        return false;
}

int progress_spawn(char *const argv[], const char *label, uint64_t expected_read, char **ret_output) {
        SpawnJob j = { .argv = argv };
        uint64_t best = 0;
        pthread_t t;
        Progress p;
        int r;

        progress_begin(&p, label, expected_read);
        r = pthread_create(&t, NULL, spawn_thread, &j);
        if (r != 0) {
                progress_end(&p);
                return -r;
        }
        while (!__atomic_load_n(&j.finished, __ATOMIC_SEQ_CST)) {
                uint64_t v;

                if (p.tty && __atomic_load_n(&j.started, __ATOMIC_SEQ_CST) && child_read_bytes(j.tid, &v) && v > best) {
                        best = v;
                        progress_update(&p, MIN(v, expected_read));
                }
                (void) usleep(50000);
        }
        (void) pthread_join(t, NULL);
        p.done = 0;
        if (j.r != 0)
                progress_abort(&p);
        else
                progress_end(&p);

        if (ret_output)
                *ret_output = j.output;
        else
                free(j.output);
        return j.r;
}
