/**
 * The metric switches (see metric.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "agent-path.h"
#include "cleanup.h"
#include "log.h"
#include "macro.h"
#include "metric.h"
#include "spawn.h"
#include "strv.h"

static const char *const exporter_units[] = {
        "prometheus-node-exporter.service",
        "prometheus-postgres-exporter.service",
        "prometheus-nginx-exporter.service",
};
static const char server_unit[] = "prometheus.service";

void metric_plan_done(MetricPlan *p) {
        strv_free(p->start);
        strv_free(p->stop);
        strv_free(p->notes);
        *p = (MetricPlan) {};
}

static int note(MetricPlan *p, const char *fmt, ...) _printf_(2, 3);
static int note(MetricPlan *p, const char *fmt, ...) {
        char *s = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return strv_consume(&p->notes, s);
}

static int plan_units(MetricPlan *p, bool on, const char *key, const char *const *units, size_t n,
                      bool (*unit_exists)(void *, const char *), void *userdata) {
        int r;

        for (size_t i = 0; i < n; i++) {
                bool have = unit_exists(userdata, units[i]);
                if (on && !have)
                        r = note(p, "env: %s: not served: the image has no %s", key, units[i]);
                else if (have)
                        r = strv_extend(on ? &p->start : &p->stop, units[i]);
                else
                        r = 0;
                if (r < 0)
                        return r;
        }
        return 0;
}

int metric_plan_make(const Env *e, bool (*unit_exists)(void *, const char *), void *userdata, MetricPlan *ret) {
        _cleanup_(metric_plan_done) MetricPlan p = {};
        const char *server[] = { server_unit };
        int r;

        p.exporter = env_get_bool(e, "appliance:metric:exporter", false) > 0;
        p.server = env_get_bool(e, "appliance:metric:server", false) > 0;
        r = plan_units(&p, p.exporter, "appliance:metric:exporter", exporter_units, ELEMENTSOF(exporter_units),
                       unit_exists, userdata);
        if (r >= 0)
                r = plan_units(&p, p.server, "appliance:metric:server", server, 1, unit_exists, userdata);
        if (r >= 0 && env_get_bool(e, "appliance:metric:gui", false) > 0)
                r = note(&p, "env: %s: not served: %s is not packaged in Debian", "appliance:metric:gui", "grafana");
        if (r >= 0 && env_get_bool(e, "appliance:metric:pghero", false) > 0)
                r = note(&p, "env: %s: not served: %s is not packaged in Debian", "appliance:metric:pghero", "pghero");
        if (r >= 0 && p.server)
                r = note(&p, "env: %s: %s", "appliance:metric:server",
                         "alerts are evaluated by prometheus but not mailed (no alertmanager in this image)");
        if (r < 0)
                return r;
        *ret = p;
        p = (MetricPlan) {};
        return 0;
}

static bool image_has_unit(void *userdata, const char *unit) {
        const Agent *a = userdata;

        for (const char *const *d = (const char *const[]) { "/usr/lib/systemd/system/", "/lib/systemd/system/",
                                                             "/etc/systemd/system/", NULL };
             *d; d++) {
                _cleanup_free_ char *path = NULL;
                _cleanup_close_ int fd = -EBADF;
                if (asprintf(&path, "%s%s", *d, unit) < 0)
                        return false;
                if (agent_open_image(a, path, O_RDONLY | O_CLOEXEC, &fd) >= 0)
                        return true;
        }
        return false;
}

int metric_plan_for(const Agent *a, const Env *e, MetricPlan *ret) {
        return metric_plan_make(e, image_has_unit, (void *) a, ret);
}

static int set_flag(const Agent *a, const char *path, bool on) {
        int r;

        if (!on) {
                if (!agent_exists(a, path))
                        return 0;
                r = agent_unlink(a, path);
                return r == -ENOENT ? 0 : r < 0 ? r : 1;
        }
        if (agent_exists(a, path))
                return 0;
        r = agent_write_file(a, path, "", 0, 0644, (uid_t) -1, (gid_t) -1);
        return r < 0 ? r : 1;
}

int metric_prepare(const Agent *a, const Env *e) {
        _cleanup_(metric_plan_done) MetricPlan p = {};
        int r, changed = 0;

        r = metric_plan_for(a, e, &p);
        if (r < 0)
                return r;
        r = set_flag(a, METRIC_EXPORTER_FLAG, p.exporter);
        if (r < 0)
                return agent_log_io_error(a, "write", METRIC_EXPORTER_FLAG, r);
        changed |= r;
        r = set_flag(a, METRIC_SERVER_FLAG, p.server);
        if (r < 0)
                return agent_log_io_error(a, "write", METRIC_SERVER_FLAG, r);
        return changed | r;
}

int metric_start(const Agent *a, const Env *e) {
        _cleanup_(metric_plan_done) MetricPlan p = {};
        int r, ret = 0;

        r = metric_plan_for(a, e, &p);
        if (r < 0)
                return r;
        STRV_FOREACH(u, p.stop)
                if (agent_systemctl(a, "is-active", *u) == 0) {
                        log_info("Metrics: stopping '%s' (switched off).", *u);
                        (void) agent_systemctl(a, "stop", *u);
                }
        if (strv_contains(p.start, "prometheus-postgres-exporter.service") && agent_is_host_root(a)) {
                /* The exporter connects over the socket as the OS user prometheus (peer). */
                const char *argv[] = { "runuser", "-u", "postgres", "--", "psql", "-XtAq", "-c",
                                       "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'prometheus') "
                                       "THEN CREATE ROLE prometheus LOGIN; END IF; END $$; GRANT pg_monitor TO prometheus",
                                       NULL };
                if (spawn_capture((char *const *) argv, NULL, 0, SPAWN_NULL_STDOUT, NULL, NULL) != 0) {
                        log_warning("Metrics: cannot create the PostgreSQL role 'prometheus'.");
                        ret = -EIO;
                }
        }
        STRV_FOREACH(u, p.start) {
                log_info("Metrics: starting '%s'.", *u);
                if (agent_systemctl(a, "start-no-block", *u) != 0) {
                        log_warning("Metrics: cannot start '%s'.", *u);
                        ret = -EIO;
                }
        }
        return ret;
}
