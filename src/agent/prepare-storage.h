/**
 * prepare-storage helpers exposed for tests.
 */
#pragma once

#include "agent.h"
#include "agent-path.h"

/* Adds "LABEL=label where ext4 defaults,nofail 0 2" to ROOT/etc/fstab unless where has an entry.
 * Returns 1 if added, 0 if present. */
int fstab_ensure(const Agent *a, const char *label, const char *where);

/* Returns 0 on success or a negative errno after logging and recording the step (see prepare-env.h). */
int step_prepare_storage(const Agent *a);
