/**
 * The prepare-env step: finds the env (seed, /app/env.yml, metadata service), checks it and
 * activates it as /run/active-env.yml; also the seed's users and keys (provision.h) and the ssh host keys.
 */
#pragma once

#include "agent.h"

/* Returns 0 on success (also: nothing to do, standby) or a negative errno after logging, recording
 * the step and, where the step fails, setting the failed flag (as every step does). */
int step_prepare_env(const Agent *a);
