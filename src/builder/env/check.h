/**
 * Validation of a loaded env.yml: required keys and their types, the ssl key and certificate as a
 * matching PEM pair, the DKIM key, the OpenPGP keys (imported into a throw-away GnuPG home) and
 * unknown keys. Each finding is logged as "file:line:column: key:path: message".
 */
#pragma once

#include <stdbool.h>

#include "env.h"

typedef struct EnvCheckResult {
        unsigned errors;
        unsigned warnings;
} EnvCheckResult;

/* Returns 0 when the checks ran (look at ret->errors), -errno if they could not run. */
int env_check(const Env *e, EnvCheckResult *ret);
