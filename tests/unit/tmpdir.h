/**
 * The preamble most unit tests share: a fresh temporary directory per test (cmocka setup and
 * teardown with the path in *state), paths in it, and shell commands that fail the test when they
 * fail. Header-only; include it after <cmocka.h>.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "macro.h"
#include "rm-rf.h"

static inline int tmpdir_setup(void **state) {
        char *d = strdup("/tmp/unit-test.XXXXXX");

        if (!d || !mkdtemp(d)) {
                free(d);
                return -1;
        }
        *state = d;
        return 0;
}

static inline int tmpdir_teardown(void **state) {
        (void) rm_rf(*state);
        free(*state);
        return 0;
}

/* DIR/name, newly allocated. */
static inline char *tmpdir_path(void **state, const char *name) {
        char *p;
        assert_true(asprintf(&p, "%s/%s", (char *) *state, name) > 0);
        return p;
}

static inline bool have_tool(const char *tool) {
        _cleanup_free_ char *cmd = NULL;
        assert_true(asprintf(&cmd, "command -v %s >/dev/null 2>&1", tool) > 0);
        return system(cmd) == 0;
}

/* Runs the formatted command with sh; a failure fails the test, naming the command. */
static inline void sh_ok(const char *fmt, ...) _printf_(1, 2);
static inline void sh_ok(const char *fmt, ...) {
        _cleanup_free_ char *cmd = NULL;
        va_list ap;

        va_start(ap, fmt);
        assert_true(vasprintf(&cmd, fmt, ap) > 0);
        va_end(ap);
        if (system(cmd) != 0)
                fail_msg("failed: %s", cmd);
}
