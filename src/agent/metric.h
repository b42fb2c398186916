/**
 * The metric switches of the env (manual: Metrics; APPLIANCE_METRIC_*), served with Debian's
 * packages of the image profile and bound to 127.0.0.1 (the image has no container bridge):
 *
 *   appliance:metric:exporter  prometheus-node-exporter (:9100, with the textfile metrics of the
 *                              backup, backup_last_*), prometheus-postgres-exporter (:9187, as the
 *                              role "prometheus" in pg_monitor), prometheus-nginx-exporter (:9113,
 *                              from nginx's stub_status on 127.0.0.1:8080)
 *   appliance:metric:server    prometheus (:9090) with the appliance's alert rules
 *   appliance:metric:gui       grafana: not packaged in Debian, reported as not served
 *   appliance:metric:pghero    pghero: not packaged in Debian, reported as not served
 *
 * The units are gated by flag files (ConditionPathExists= in the profile's drop-ins), so that
 * Debian's enabled-by-default exporters stay off unless the env turns them on. A switch whose
 * unit the image lacks is reported too.
 */
#pragma once

#include <stdbool.h>

#include "agent.h"
#include "env.h"

#define METRIC_EXPORTER_FLAG "/run/appliance/metric-exporter"
#define METRIC_SERVER_FLAG "/run/appliance/metric-server"

typedef struct MetricPlan {
        bool exporter, server;   /* the switches */
        char **start;            /* units to start, in order */
        char **stop;             /* units of switches that are off */
        char **notes;            /* "appliance:metric:...: ... not served" */
} MetricPlan;

void metric_plan_done(MetricPlan *p);
/* unit_exists(userdata, "NAME.service"): whether the image has the unit. */
int metric_plan_make(const Env *e, bool (*unit_exists)(void *userdata, const char *unit), void *userdata,
                     MetricPlan *ret);
/* The plan for the image below a->root. */
int metric_plan_for(const Agent *a, const Env *e, MetricPlan *ret);

/* prepare-appliance: the flag files. 1 if one changed. */
int metric_prepare(const Agent *a, const Env *e);
/* appliance, once ready: the postgres exporter's role, then start (and stop) the units. */
int metric_start(const Agent *a, const Env *e);
