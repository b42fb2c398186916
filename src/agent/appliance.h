/**
 * The appliance step: starts the profile's services in order, waits for their health checks and
 * keeps the ready flag and the maintenance page while monitoring them.
 */
#pragma once

#include "agent.h"

/* A profile service's health check: 0 if healthy, else -errno and a description in *ret_why. */
struct ProfileService;
int health_check(const Agent *a, const struct ProfileService *s, char **ret_why);

/* Returns 0 on success or a negative errno after logging and recording the step (see prepare-env.h). */
int step_appliance(const Agent *a);
