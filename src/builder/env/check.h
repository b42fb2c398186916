/**
 * The builder's env check: the common env schema (env-schema.h) and, on top of it, what needs GPGME
 * (which the static agent does not link): the OpenPGP keys importable (into a throw-away GnuPG
 * home) with a secret key. `env check`, `env create` and `image --env` use it.
 */
#pragma once

#include <stdbool.h>

#include "env-schema.h"
#include "env.h"

/* Appends every finding to ret (in the order found). Returns 0 when the checks ran (look at
 * ret->errors), -errno if they could not run (logged). */
int env_check(const Env *e, EnvFindings *ret);

/* Logs each finding, errors as errors and warnings as warnings. */
void env_findings_log(const EnvFindings *f);

/* Loads path and checks it; with log_findings set, logs every finding. Returns 0 if valid, -EINVAL
 * if it has errors (*reterr: the count, or without log_findings the first error), or the -errno of
 * loading it (its message in *reterr). */
int env_check_file(const char *path, bool log_findings, char **reterr);
