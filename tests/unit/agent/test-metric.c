/**
 * Unit tests of metric: the plan from the env's switches (units to start and stop, the switches
 * that cannot be served reported: grafana and pghero, a unit the image lacks, the missing
 * alertmanager), and the flag files below a root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent-test-root.h"
#include "cleanup.h"
#include "env.h"
#include "metric.h"
#include "strv.h"

static bool all_but_nginx(void *userdata, const char *unit) {
        (void) userdata;
        return !streq(unit, "prometheus-nginx-exporter.service");
}

static Env *load(const char *text) {
        Env *e = NULL;
        assert_int_equal(env_load_buffer("test.yml", text, strlen(text), &e, NULL), 0);
        return e;
}

static bool notes_have(char **notes, const char *s) {
        STRV_FOREACH(n, notes)
                if (strstr(*n, s))
                        return true;
        return false;
}

static void test_plan(void **state) {
        _cleanup_(env_freep) Env *off = load("#cloud-config\nappliance:\n  domain: a.example\n");
        _cleanup_(env_freep) Env *on = load("#cloud-config\nappliance:\n  domain: a.example\n  metric:\n"
                                            "    exporter: true\n    server: true\n    gui: true\n    pghero: true\n");
        _cleanup_(metric_plan_done) MetricPlan p = {}, q = {};
        (void) state;

        assert_int_equal(metric_plan_make(off, all_but_nginx, NULL, &p), 0);
        assert_false(p.exporter);
        assert_false(p.server);
        assert_int_equal(strv_length(p.start), 0);
        assert_true(strv_contains(p.stop, "prometheus-node-exporter.service"));
        assert_true(strv_contains(p.stop, "prometheus.service"));
        assert_int_equal(strv_length(p.notes), 0);

        assert_int_equal(metric_plan_make(on, all_but_nginx, NULL, &q), 0);
        assert_true(q.exporter && q.server);
        assert_true(strv_contains(q.start, "prometheus-node-exporter.service"));
        assert_true(strv_contains(q.start, "prometheus-postgres-exporter.service"));
        assert_true(strv_contains(q.start, "prometheus.service"));
        assert_false(strv_contains(q.start, "prometheus-nginx-exporter.service"));
        assert_true(notes_have(q.notes, "appliance:metric:exporter: not served: the image has no prometheus-nginx-exporter"));
        assert_true(notes_have(q.notes, "appliance:metric:gui: not served: grafana"));
        assert_true(notes_have(q.notes, "appliance:metric:pghero: not served: pghero"));
        assert_true(notes_have(q.notes, "alertmanager"));
}

static void test_flags(void **state) {
        Fixture *f = fixture_new("test-metric");
        _cleanup_(env_freep) Env *on = load("#cloud-config\nappliance:\n  domain: a.example\n  metric:\n    exporter: yes\n");
        _cleanup_(env_freep) Env *off = load("#cloud-config\nappliance:\n  domain: a.example\n");
        (void) state;

        assert_non_null(f);
        assert_int_equal(metric_prepare(&f->agent, on), 1);
        assert_true(exists_at(f->dir, METRIC_EXPORTER_FLAG));
        assert_false(exists_at(f->dir, METRIC_SERVER_FLAG));
        assert_int_equal(metric_prepare(&f->agent, on), 0);
        assert_int_equal(metric_prepare(&f->agent, off), 1);
        assert_false(exists_at(f->dir, METRIC_EXPORTER_FLAG));
        fixture_free(f);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_plan),
                cmocka_unit_test(test_flags),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
