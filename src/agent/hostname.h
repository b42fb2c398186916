/**
 * The instance's host name in the image.
 */
#pragma once

#include "agent.h"

/* ROOT/etc/hostname and the 127.0.1.1 line of ROOT/etc/hosts (and sethostname() on the real root).
 * Returns 1 if changed, 0 if not, <0 with the reason in *reterr. hostname_apply() logs the reason. */
int hostname_set(const Agent *a, const char *name, char **reterr);
int hostname_apply(const Agent *a, const char *name);
