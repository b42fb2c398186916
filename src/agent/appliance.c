/**
 * The "appliance" step, run by the one enabled unit (Type=notify): queues the starts of all the
 * profile's services at once, in order (systemd runs them in parallel where their units' ordering
 * allows), waits for each health check in order, then marks the appliance ready and tells systemd (READY=1 and
 * a STATUS= line). Until then nginx serves the maintenance page: the agent keeps
 * /run/appliance/www/503.html and status.json current, and /run/appliance-ready exists only while
 * everything is healthy (the nginx snippet in rootfs answers 503 + Retry-After without it).
 *
 * Health checks (profile "health:"): "tcp:HOST:PORT" (connect), "http://HOST:PORT/PATH" (status
 * 200..399), "exec:/path args" (exit 0); none: the unit must be active. After READY the agent stays
 * (unless --once) and re-checks every 30 s, withdrawing the ready flag while a check fails, until
 * SIGTERM. A service that does not become healthy in its timeout, or whose unit fails (systemd's
 * "failed" state, seen at once rather than at the timeout), fails the appliance: the failed flag
 * gets the reason, and the maintenance page says so. The ready flag never exists while the failed
 * flag does: whoever set it (another unit's OnFailure handler, "appliance-agent fail"), the
 * monitor withdraws ready and leaves the failure page in place.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "agent-path.h"
#include "appliance.h"
#include "backup.h"
#include "cleanup.h"
#include "fileio.h"
#include "http.h"
#include "letsencrypt.h"
#include "log.h"
#include "metric.h"
#include "parse-util.h"
#include "profile.h"
#include "spawn.h"
#include "strv.h"

#define MONITOR_INTERVAL_SEC 30

/* $APPLIANCE_MONITOR_SEC (1..3600) overrides the interval (tests). */
static unsigned monitor_interval(void) {
        const char *e = getenv("APPLIANCE_MONITOR_SEC");
        unsigned v;

        if (e && safe_atou(e, &v) >= 0 && v >= 1 && v <= 3600)
                return v;
        return MONITOR_INTERVAL_SEC;
}

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
        (void) sig;
        stop_requested = 1;
}

/* 0 if healthy, else -errno with a short description in *ret_why. */
int health_check(const Agent *a, const ProfileService *s, char **ret_why) {
        int r;

        if (!s->health) {
                r = agent_systemctl(a, "is-active", s->unit);
                if (r != 0)
                        return asprintf(ret_why, "unit not active") < 0 ? -ENOMEM : -ESRCH;
                return 0;
        }
        if (startswith(s->health, "tcp:")) {
                r = tcp_check(s->health + 4, 2000);
                if (r < 0)
                        return asprintf(ret_why, "%s: %s", s->health, strerror(-r)) < 0 ? -ENOMEM : r;
                return 0;
        }
        if (startswith(s->health, "http://")) {
                int status = 0;
                r = http_get(s->health, 5000, 1024 * 1024, &status, NULL, NULL);
                if (r < 0)
                        return asprintf(ret_why, "%s: %s", s->health, strerror(-r)) < 0 ? -ENOMEM : r;
                if (status < 200 || status >= 400)
                        return asprintf(ret_why, "%s: HTTP %d", s->health, status) < 0 ? -ENOMEM : -EPROTO;
                return 0;
        }
        if (startswith(s->health, "exec:")) {
                _cleanup_strv_free_ char **argv = NULL;
                r = strv_split(s->health + 5, " ", &argv);
                if (r < 0)
                        return r;
                if (strv_length(argv) == 0)
                        return -EINVAL;
                r = spawn_capture(argv, NULL, 0, SPAWN_NULL_STDOUT | SPAWN_NULL_STDERR, NULL, NULL);
                if (r != 0)
                        return asprintf(ret_why, "%s: exit status %d", s->health, r) < 0 ? -ENOMEM : -EIO;
                return 0;
        }
        return -EINVAL;
}

static int write_services(const Agent *a, const Profile *p, char *const *states) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f;
        int r;

        f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_services; i++)
                fprintf(f, "%s\t%s\t%s\n", p->services[i].unit, states[i], p->services[i].health ?: "active");
        if (fclose(f) != 0)
                return -ENOMEM;
        r = agent_write_file(a, "/run/appliance/services", text ?: "", text ? strlen(text) : 0, 0644, (uid_t) -1,
                             (gid_t) -1);
        return r < 0 ? r : 0;
}

static int set_ready(const Agent *a, bool ready) {
        int r;

        if (!ready)
                return agent_unlink(a, AGENT_READY_FLAG);
        r = agent_write_file(a, AGENT_READY_FLAG, "", 0, 0644, (uid_t) -1, (gid_t) -1);
        return r < 0 ? r : 0;
}

static void sleep_interruptible_ms(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
        (void) nanosleep(&ts, NULL);
}

/* Queues the start of a service that is not active yet. 1 if queued, 0 if it already runs. */
static int start_one(const Agent *a, const ProfileService *s, char **ret_reason) {
        if (agent_systemctl(a, "is-active", s->unit) == 0)
                return 0;
        log_info("Starting '%s'.", s->unit);
        /* Queued: the health check decides, and a unit that happens to be ordered after
         * appliance.service cannot deadlock the start. */
        if (agent_systemctl(a, "start-no-block", s->unit) != 0)
                return asprintf(ret_reason, "Service '%s' failed to start", s->unit) < 0 ? -ENOMEM : -EIO;
        return 1;
}

static int wait_healthy(const Agent *a, const ProfileService *s, bool started, char **ret_reason) {
        _cleanup_free_ char *why = NULL;
        uint64_t deadline;
        int r;

        deadline = now_usec() + (uint64_t) s->timeout * 1000000ULL;
        for (;;) {
                free(why);
                why = NULL;
                r = health_check(a, s, &why);
                if (r == 0) {
                        log_info("'%s' is healthy.", s->unit);
                        return 0;
                }
                if (r == -ENOMEM)
                        return r;
                if (started && agent_systemctl(a, "is-failed", s->unit) == 0)
                        return asprintf(ret_reason, "Service '%s' failed to start (%s; journalctl -u %s)", s->unit,
                                        why ?: "check failed", s->unit) < 0 ? -ENOMEM : -EIO;
                if (now_usec() >= deadline || stop_requested)
                        return asprintf(ret_reason, "Service '%s' did not become healthy within %u s (%s)", s->unit,
                                        s->timeout, why ?: "check failed") < 0 ? -ENOMEM : -ETIMEDOUT;
                (void) agent_notifyf("STATUS=Waiting for %s (%s)", s->unit, why ?: "starting");
                /* A port or page is probed often; a command (exec:) costs a process each time. */
                sleep_interruptible_ms(s->health && startswith(s->health, "exec:") ? 1000 : 250);
        }
}

int step_appliance(const Agent *a) {
        _cleanup_(profile_freep) Profile *p = NULL;
        _cleanup_(env_freep) Env *env = NULL;
        _cleanup_free_ char *err = NULL, *reason = NULL;
        _cleanup_strv_free_ char **states = NULL;
        uint64_t t0 = now_usec();
        struct sigaction sa = { .sa_handler = on_signal };
        int r;

        r = agent_step_begin(a, "appliance", &env);
        if (r <= 0) {
                if (r == 0)
                        (void) agent_notify("READY=1\nSTATUS=Appliance Standby");
                return r;
        }
        if (r == 2) {
                /* Nothing to start without an env; the maintenance page says how to make one. */
                (void) agent_record_step(a, "appliance", STEP_UNCONFIGURED, "no env: services not started",
                                         now_usec() - t0, NULL);
                (void) agent_notify("READY=1\nSTATUS=Appliance Unconfigured");
                return 0;
        }
        (void) sigaction(SIGTERM, &sa, NULL);
        (void) sigaction(SIGINT, &sa, NULL);

        r = agent_load_profile(a, &p, &err);
        if (r < 0)
                return agent_step_fail(a, "appliance", t0, err ?: "cannot read the image profile");

        (void) set_ready(a, false);
        (void) agent_write_status_page(a, "Appliance Startup", "Starting the services");
        for (size_t i = 0; i < p->n_services; i++)
                if (strv_extend(&states, "pending") < 0)
                        return log_oom();
        (void) write_services(a, p, states);

        /* All starts are queued at once, in the profile's order: systemd runs them in parallel
         * where their units allow (appliance-database is ordered after postgresql by its own
         * After=), and the health checks below are then awaited in order. */
        _cleanup_free_ bool *started = calloc(p->n_services ?: 1, sizeof(bool));
        if (!started)
                return log_oom();
        for (size_t i = 0; i < p->n_services; i++) {
                r = start_one(a, &p->services[i], &reason);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        return agent_step_fail(a, "appliance", t0, reason ?: "a service failed");
                started[i] = r > 0;
        }
        for (size_t i = 0; i < p->n_services; i++) {
                (void) agent_notifyf("STATUS=Starting %s (%zu/%zu)", p->services[i].unit, i + 1, p->n_services);
                r = wait_healthy(a, &p->services[i], started[i], &reason);
                free(states[i]);
                states[i] = strdup(r == 0 ? "healthy" : "failed");
                (void) write_services(a, p, states);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0 && stop_requested) {
                        /* systemctl stop during the start: a stop, not a failure. */
                        log_info("Stop requested while starting '%s'.", p->services[i].unit);
                        (void) agent_write_status_page(a, "Appliance Stopped", "The appliance is stopped for maintenance");
                        return 0;
                }
                if (r < 0)
                        return agent_step_fail(a, "appliance", t0, reason ?: "a service failed");
        }

        if (agent_failed_check(a, &reason) == -EBUSY) {
                /* Set while the services started (another unit failed): never ready over it. */
                log_error("Not ready: the appliance failed: %s", reason);
                (void) agent_notifyf("STATUS=Appliance failed: %s", reason);
                return -EIO;
        }
        {
                /* A new appliance with the old env and an empty database: the manual's disaster
                 * recovery waits for recover-from-backup.sh rather than starting empty. */
                _cleanup_free_ char *wait = NULL;
                r = backup_recovery_wait(a, env, &wait);
                if (r == -ENOMEM)
                        return log_oom();
                if (r > 0) {
                        r = agent_write_file(a, AGENT_RECOVERY_FLAG, wait, strlen(wait), 0644, (uid_t) -1, (gid_t) -1);
                        if (r < 0)
                                return agent_log_io_error(a, "write", AGENT_RECOVERY_FLAG, r);
                        (void) agent_record_step(a, "appliance", STEP_STANDBY, wait, now_usec() - t0, NULL);
                        (void) agent_write_status_page(a, "Appliance Waiting For Recovery", wait);
                        (void) agent_notifyf("READY=1\nSTATUS=%s", wait);
                        return 0;
                }
                (void) agent_unlink(a, AGENT_RECOVERY_FLAG);
        }
        r = backup_timer_start(a);
        if (r < 0)
                log_warning("Cannot start appliance-backup.timer.");
        if (metric_start(a, env) < 0)
                log_warning("Metrics: not every switch of appliance:metric could be served (see above).");
        r = set_ready(a, true);
        if (r < 0)
                return agent_log_io_error(a, "write", AGENT_READY_FLAG, r);
        (void) agent_record_step(a, "appliance", STEP_OK, "Appliance ready", now_usec() - t0, NULL);
        (void) agent_write_status_page(a, "Appliance Ready", "The appliance is ready");
        log_info("Appliance ready: %zu service(s) healthy.", p->n_services);
        (void) agent_notifyf("READY=1\nSTATUS=Appliance ready (%zu service%s healthy)", p->n_services,
                             p->n_services == 1 ? "" : "s");
        {
                /* Let's Encrypt needs nginx up for http-01: once per boot, now. */
                _cleanup_free_ char *acme = NULL;
                r = letsencrypt_renew(a, env, &acme);
                if (r < 0)
                        log_warning("Let's Encrypt: %s; the current certificate stays.", strna(acme));
                if (r > 0)
                        (void) agent_systemctl(a, "try-reload-or-restart", "nginx.service");
        }
        if (a->once)
                return 0;

        while (!stop_requested) {
                _cleanup_free_ char *failed = NULL;
                bool all = true;

                sleep_interruptible_ms(monitor_interval() * 1000);
                if (stop_requested)
                        break;
                if (agent_failed_check(a, &failed) == -EBUSY) {
                        /* The failed flag wins: no ready flag, the failure page stays. */
                        if (agent_exists(a, AGENT_READY_FLAG))
                                log_error("The appliance failed while running: %s", failed);
                        (void) set_ready(a, false);
                        (void) agent_notifyf("STATUS=Appliance failed");
                        continue;
                }
                for (size_t i = 0; i < p->n_services; i++) {
                        _cleanup_free_ char *why = NULL;
                        bool ok = health_check(a, &p->services[i], &why) == 0;
                        if (!ok)
                                log_warning("'%s' is unhealthy: %s", p->services[i].unit, strna(why));
                        all = all && ok;
                        free(states[i]);
                        states[i] = strdup(ok ? "healthy" : "unhealthy");
                }
                (void) write_services(a, p, states);
                (void) set_ready(a, all);
                (void) agent_write_status_page(a, all ? "Appliance Ready" : "Appliance Degraded",
                                               all ? "The appliance is ready" : "A service is not healthy, retrying");
                (void) agent_notifyf("STATUS=%s", all ? "Appliance ready" : "Appliance degraded: a service is unhealthy");
        }
        (void) agent_notify("STOPPING=1\nSTATUS=Stopping");
        (void) set_ready(a, false);
        (void) agent_write_status_page(a, "Appliance Stopped", "The appliance is stopped for maintenance");
        log_info("Appliance stopped.");
        return 0;
}
