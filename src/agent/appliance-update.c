/**
 * appliance-update (appliance-update.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "agent-path.h"
#include "appliance.h"
#include "appliance-update.h"
#include "cleanup.h"
#include "letsencrypt.h"
#include "log.h"
#include "prepare-appliance.h"
#include "prepare-env.h"
#include "profile.h"
#include "spawn.h"
#include "reterr.h"
#include "strv.h"

static int run_logged(char *const *argv) {
        _cleanup_free_ char *out = NULL, *cmd = strv_join((char **) argv, " ");
        int r;

        log_info("Running: %s", strna(cmd));
        r = spawn_capture(argv, NULL, 0, SPAWN_STDERR_TO_STDOUT, &out, NULL);
        if (out && *out)
                log_info("%s", out);
        return r;
}

/* 1 if packages were upgraded, 0 if none, <0 on failure (reason set). */
static int upgrade_packages(const Agent *a, const Env *env, char **reason) {
        char *update[] = { (char *) "apt-get", (char *) "-q", (char *) "update", NULL };
        char *upgrade[] = { (char *) "apt-get", (char *) "-q", (char *) "-y", (char *) "-o",
                            (char *) "Dpkg::Options::=--force-confdef", (char *) "-o",
                            (char *) "Dpkg::Options::=--force-confold", (char *) "dist-upgrade", NULL };
        char *count[] = { (char *) "apt-get", (char *) "-s", (char *) "-q", (char *) "dist-upgrade", NULL };
        _cleanup_free_ char *sim = NULL;
        unsigned n = 0;
        int r;

        if (env_get_bool(env, "appliance:update:automatic", true) == 0) {
                log_info("appliance:update:automatic is false: no package upgrade.");
                return 0;
        }
        if (!agent_is_host_root(a)) {
                log_info("Not on the host's root: no package upgrade.");
                return 0;
        }
        (void) setenv("DEBIAN_FRONTEND", "noninteractive", 1);
        r = run_logged(update);
        if (r != 0)
                log_warning("apt-get update exited with %d; upgrading from the lists it has.", r);
        r = spawn_capture(count, NULL, 0, SPAWN_NULL_STDERR, &sim, NULL);
        if (r == 0)
                for (const char *l = sim; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                        n += startswith(l, "Inst ") ? 1 : 0;
        if (r == 0 && n == 0) {
                log_info("No package to upgrade.");
                return 0;
        }
        r = run_logged(upgrade);
        if (r != 0)
                return reterr_printf(reason, -EIO, "apt-get dist-upgrade failed with exit status %d (see the journal)", r);
        log_info("Upgraded %u package(s).", n);
        return 1;
}

int step_appliance_update(const Agent *a) {
        _cleanup_(env_freep) Env *env = NULL;
        _cleanup_(profile_freep) Profile *p = NULL;
        _cleanup_strv_free_ char **changed = NULL;
        _cleanup_free_ char *reason = NULL, *err = NULL, *msg = NULL, *list = NULL, *acme = NULL;
        uint64_t t0 = now_usec();
        Agent b = *a;
        int r;

        r = agent_failed_check(a, NULL);
        if (r == -EBUSY) {
                log_error("The appliance is failed: recover first (rm %s; systemctl restart appliance).",
                          AGENT_FAILED_FLAG_MANUAL);
                return r;
        }
        b.reconfigure = true;
        r = step_prepare_env(&b);
        if (r < 0) {
                (void) agent_record_step(a, "appliance-update", STEP_REFUSED,
                                         "env not activated (see env-update.sh), nothing changed", now_usec() - t0, NULL);
                return r;
        }
        if (agent_standby(a)) {
                (void) agent_record_step(a, "appliance-update", STEP_STANDBY, "Appliance Standby", now_usec() - t0, NULL);
                return 0;
        }
        r = agent_load_active_env(a, &env);
        if (r < 0)
                return r;
        r = agent_load_profile(a, &p, &err);
        if (r < 0) {
                log_error("%s", err ?: "cannot read the image profile");
                return r;
        }

        r = prepare_appliance_apply(a, env, true, &changed, &reason);
        if (r >= 0) {
                /* ACME failing is no failure of the update: the current certificate stays. */
                r = letsencrypt_renew(a, env, &acme);
                if (r > 0 && strv_extend(&changed, "letsencrypt certificate") < 0)
                        return log_oom();
                if (r < 0)
                        log_warning("Let's Encrypt: %s; the current certificate stays.", strna(acme));
                r = 0;
        }
        if (r >= 0) {
                r = upgrade_packages(a, env, &reason);
                if (r > 0 && strv_extend(&changed, "packages") < 0)
                        return log_oom();
        }
        if (r < 0) {
                log_error("Update failed, the appliance keeps running: %s", strna(reason));
                (void) agent_record_step(a, "appliance-update", STEP_FAILED, reason ?: "update failed",
                                         now_usec() - t0, NULL);
                return r;
        }

        if (changed)
                for (size_t i = 0; i < p->n_services; i++) {
                        log_info("Reloading '%s'.", p->services[i].unit);
                        r = agent_systemctl(a, "try-reload-or-restart", p->services[i].unit);
                        if (r != 0)
                                log_warning("systemctl try-reload-or-restart %s exited with %d.", p->services[i].unit, r);
                }
        for (size_t i = 0; i < p->n_services; i++) {
                _cleanup_free_ char *why = NULL;
                unsigned tries = 0;

                while ((r = health_check(a, &p->services[i], &why)) < 0 && tries++ < p->services[i].timeout) {
                        free(why);
                        why = NULL;
                        (void) sleep(1);
                }
                if (r < 0) {
                        if (asprintf(&msg, "'%s' is not healthy after the update: %s", p->services[i].unit,
                                     strna(why)) < 0)
                                return log_oom();
                        log_error("%s", msg);
                        (void) agent_record_step(a, "appliance-update", STEP_FAILED, msg, now_usec() - t0, NULL);
                        return -EIO;
                }
        }
        list = changed ? strv_join(changed, ", ") : NULL;
        if (changed && !list)
                return log_oom();
        if ((changed || acme) && asprintf(&msg, "%s%s%s%s", changed ? "applied: " : "", list ?: "",
                                          acme && changed ? "; " : "", acme ? "letsencrypt failed, certificate kept" : "") < 0)
                return log_oom();
        (void) agent_record_step(a, "appliance-update", changed ? STEP_CHANGED : STEP_OK, msg ?: "nothing changed",
                                 now_usec() - t0, NULL);
        return 0;
}
