/**
 * Logging for both programs.
 *
 * One statement logs and returns: return log_error_errno(r, "Failed to open '%s': %m", path);
 * log_*_errno() sets errno for %m and returns -abs(error), so it can be returned directly.
 *
 * When stderr is connected to journald (JOURNAL_STREAM matches stderr) or log_set_prefix_mode(true)
 * was called, each line carries a "<N>" syslog priority prefix that journald turns into a priority.
 * The basic and common layers (src/basic, src/common) never log above debug.
 */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

void log_set_max_level(int level);
int log_get_max_level(void);
void log_set_prefix_mode(bool on);
/* Detect journald on stderr (JOURNAL_STREAM) and honour $APPLIANCE_LOG_LEVEL (debug, info, ...). */
void log_setup(const char *program);
const char *log_program(void);

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) _printf_(5, 6);

#define log_full_errno(level, error, ...) log_internal((level), (error), __FILE__, __LINE__, __VA_ARGS__)
#define log_full(level, ...) (void) log_full_errno((level), 0, __VA_ARGS__)

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_INFO, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, (e), __VA_ARGS__)

/* Logs "out of memory" and returns -ENOMEM. */
int log_oom_internal(const char *file, int line);
#define log_oom() log_oom_internal(__FILE__, __LINE__)

int log_level_from_string(const char *s);
