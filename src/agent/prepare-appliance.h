/**
 * The prepare-appliance step: host name, ssh keys, extra files, TLS and templates from the active env.
 */
#pragma once

#include "agent.h"

#define UPDATE_TIMER_DROPIN "/etc/systemd/system/appliance-update.timer.d/oncalendar.conf"
#define UPDATE_ONCALENDAR_DEFAULT "*-*-* 06:30:00"
#define UPDATE_APT_PERIODIC "/etc/apt/apt.conf.d/20auto-upgrades"

/* Returns 0 on success or a negative errno after logging and recording the step (see prepare-env.h). */
int step_prepare_appliance(const Agent *a);

/* The work of the step on env, for the step and for appliance-update: returns 1 if something
 * changed (what, in *ret_changed if not NULL, in this order: "hostname", "ssh keys", "extra
 * files", "tls certificate", "update timer", "templates", with configured (an env, not the
 * placeholder of the unconfigured appliance) "backup", "metrics", then "client ca"), 0 if nothing
 * did, <0 with *reason. Sets no flag. */
int prepare_appliance_apply(const Agent *a, const Env *env, bool configured, char ***ret_changed, char **reason);
