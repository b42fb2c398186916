/**
 * Logging: one line per message on stderr, with an optional "<N>" priority prefix for journald.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static int max_level = LOG_INFO;
static bool prefix_mode = false;
static const char *program_name = NULL;

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_prefix_mode(bool on) {
        prefix_mode = on;
}

const char *log_program(void) {
        return program_name ?: "appliance";
}

int log_level_from_string(const char *s) {
        static const char *const names[] = {
                [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
                [LOG_ERR] = "err",     [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
                [LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
        };
        if (!s)
                return -EINVAL;
        if (streq(s, "error"))
                return LOG_ERR;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i]))
                        return (int) i;
        if (s[0] >= '0' && s[0] <= '7' && s[1] == 0)
                return s[0] - '0';
        return -EINVAL;
}

static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void log_setup(const char *program) {
        const char *e;

        program_name = program;
        if (stderr_is_journal())
                prefix_mode = true;
        e = getenv("APPLIANCE_LOG_LEVEL");
        if (e) {
                int l = log_level_from_string(e);
                if (l >= 0)
                        max_level = l;
        }
}

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) {
        int saved = errno;
        char buf[4096];
        va_list ap;

        if (error < 0)
                error = -error;

        if (level > max_level) {
                errno = saved;
                return -error;
        }

        /* Let %m refer to the error we were given, not to whatever errno happens to be. */
        errno = error;
        va_start(ap, fmt);
        (void) vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);

        if (prefix_mode)
                fprintf(stderr, "<%d>%s\n", level, buf);
        else if (max_level >= LOG_DEBUG)
                fprintf(stderr, "%s: %s:%d: %s\n", log_program(), file, line, buf);
        else if (level <= LOG_ERR)
                fprintf(stderr, "%s: error: %s\n", log_program(), buf);
        else if (level == LOG_WARNING)
                fprintf(stderr, "%s: warning: %s\n", log_program(), buf);
        else
                fprintf(stderr, "%s\n", buf);

        errno = saved;
        return -error;
}

int log_oom_internal(const char *file, int line) {
        return log_internal(LOG_ERR, ENOMEM, file, line, "Out of memory.");
}
