/**
 * appliance-update (manual: "restart and apply new environment: systemctl start appliance-update"):
 * re-applies everything that depends on the env to the running appliance, without a reboot and
 * without taking it down.
 *
 *  1. The env is read and checked again as env-update.sh does (prepare-env with Agent.reconfigure):
 *     a bad one changes nothing and the update stops with its reason (file:line:column).
 *  2. The work of prepare-appliance on the new env: host name, ssh keys added and removed, extra
 *     files, the TLS certificate, the client CA and nginx's client verification, the profile's
 *     templates, the update timer's schedule (appliance:update:oncalendar).
 *  3. Packages, when appliance:update:automatic is not false: apt-get update and dist-upgrade.
 *  4. If anything changed: each profile service is reloaded (or restarted where it cannot reload),
 *     "systemctl try-reload-or-restart", in the profile's order; then every health check must pass.
 * The result and what changed are recorded as the step "appliance-update" (appliance-status,
 * status.json). A failure there sets no failed flag: the appliance keeps running as it was.
 */
#pragma once

#include "agent.h"

int step_appliance_update(const Agent *a);
