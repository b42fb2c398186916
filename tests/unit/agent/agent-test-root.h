/**
 * Helpers of the agent's unit tests that run steps against a temporary root: files below the
 * root, a fixture with the root and an Agent pointing at it. Header-only (each test is one file).
 */
#pragma once

#include <alloca.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "agent-path.h"
#include "cleanup.h"
#include "fileio.h"
#include "spawn.h"

/* path concatenation on the stack */
#define strjoina(a, b)                                                          \
        ({                                                                      \
                const char *_a = (a), *_b = (b);                                \
                char *_r = alloca(strlen(_a) + strlen(_b) + 1);                 \
                strcpy(stpcpy(_r, _a), _b);                                     \
                _r;                                                             \
        })

typedef struct Fixture {
        char dir[64];
        Agent agent;
} Fixture;

static inline int write_at(const char *root, const char *path, const char *text) {
        _cleanup_free_ char *p = NULL, *dir = NULL;
        const char *base;

        if (asprintf(&p, "%s%s", root, path) < 0 || path_split(p, &dir, &base) < 0 || mkdir_p(dir, 0755) < 0)
                return -ENOMEM;
        return write_file_atomic(p, text, strlen(text), 0644);
}

static inline char *read_at(const char *root, const char *path) {
        _cleanup_free_ char *p = NULL;
        char *t = NULL;

        if (asprintf(&p, "%s%s", root, path) < 0 || read_full_file(p, &t, NULL, 0) < 0)
                return NULL;
        return t;
}

static inline bool exists_at(const char *root, const char *path) {
        _cleanup_free_ char *p = NULL;
        return asprintf(&p, "%s%s", root, path) >= 0 && path_exists(p);
}

/* A fresh fixture below /tmp (prefix names the test); the agent runs with --systemctl=true. */
static inline Fixture *fixture_new(const char *prefix) {
        Fixture *f = calloc(1, sizeof *f);

        if (!f)
                return NULL;
        snprintf(f->dir, sizeof f->dir, "/tmp/%s-XXXXXX", prefix);
        if (!mkdtemp(f->dir)) {
                free(f);
                return NULL;
        }
        f->agent = (Agent) { .root = f->dir, .systemctl = (char *) "true", .metadata_url = (char *) "http://127.0.0.1:9/",
                             .once = true };
        if (agent_open_root(&f->agent) < 0) {
                (void) rmdir(f->dir);
                free(f);
                return NULL;
        }
        unsetenv("ENV_YML");
        unsetenv("NOTIFY_SOCKET");
        return f;
}

static inline int fixture_free(Fixture *f) {
        safe_close(f->agent.root_fd);
        (void) spawn_run((char *[]) { (char *) "rm", (char *) "-rf", f->dir, NULL });
        free(f);
        return 0;
}
