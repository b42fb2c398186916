/**
 * The prepare-appliance step: host name, ssh keys, extra files, TLS and templates from the active env.
 */
#pragma once

#include "agent.h"

/* Returns 0 on success or a negative errno after logging and recording the step (see prepare-env.h). */
int step_prepare_appliance(const Agent *a);
