/**
 * The agent's check of an env: the common env schema (env-schema.h), the same rules as the builder's
 * `env check` and `image --env`, so that an env is refused at boot exactly when the build refuses it.
 */
#pragma once

#include <stdbool.h>

#include "env.h"

/* Returns 0 or -EBADMSG with the first error ("NAME:LINE:COLUMN: key:path: message", and how many
 * more there are) in *reterr; -ENOMEM. With log_warnings set, logs every warning. */
int agent_env_check(const Env *e, bool log_warnings, char **reterr);
