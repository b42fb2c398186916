/**
 * The agent's checks of an env's shape (on top of the env model's syntax checks).
 */
#pragma once

#include <stdbool.h>

#include "env.h"

/* Returns 0 or -EBADMSG with "NAME:LINE:COLUMN: KEY: message" in *ret_error. */
int agent_env_check(const Env *e, char **ret_error);

bool hostname_is_valid(const char *s);
/* An authorized_keys line: [options] TYPE BASE64 [comment]. */
bool ssh_key_line_is_valid(const char *s);
