/**
 * Creating an env: DIR/env.yml from the env template (@@NAME@@ placeholders, filled in as text so
 * its comments survive) with fresh secrets, --extra's keys spliced in, checked before it is
 * written (atomically, mode 0600).
 */
#pragma once

#include <stdbool.h>

/* The env template of the profiles directory (profile_dir(): the source tree's, or the installed
 * one). */
const char *env_create_default_template(void);

typedef struct EnvCreateOptions {
        const char *domain; /* valid (domain_valid()) */
        const char *dir;
        const char *template_path; /* NULL: env_create_default_template() */
        const char *extra_path;    /* NULL: none */
        bool force;                /* replace an existing DIR/env.yml */
} EnvCreateOptions;

/* Returns 0 when DIR/env.yml was written, -errno on failure (logged; nothing is written). */
int env_create(const EnvCreateOptions *o);
