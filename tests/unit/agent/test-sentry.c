/**
 * Unit tests of sentry: DSN parsing (the secret part dropped, the store URL built), which DSNs the
 * agent's client serves, the event JSON and the auth header carrying the public key only. The
 * event's way to a listener is proven in tests/boot/test-backup-recovery.sh.
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

#include "cleanup.h"
#include "sentry.h"

static void test_dsn(void **state) {
        _cleanup_(sentry_dsn_done) SentryDsn d = {}, d2 = {}, d3 = {};
        _cleanup_free_ char *err = NULL, *err2 = NULL, *err3 = NULL, *err4 = NULL;
        SentryDsn x = {};
        (void) state;

        assert_int_equal(sentry_dsn_parse("http://abc123:s3cr3t@127.0.0.1:9000/prefix/42", &d, NULL), 0);
        assert_string_equal(d.store_url, "http://127.0.0.1:9000/prefix/api/42/store/");
        assert_string_equal(d.public_key, "abc123");
        assert_string_equal(d.project, "42");
        assert_int_equal(sentry_dsn_servable(&d, NULL), 0);

        assert_int_equal(sentry_dsn_parse("https://abc@sentry.example.org/7", &d2, NULL), 0);
        assert_string_equal(d2.store_url, "https://sentry.example.org/api/7/store/");
        assert_int_equal(sentry_dsn_servable(&d2, &err), -EPROTONOSUPPORT);
        assert_non_null(strstr(err, "https"));
        assert_int_equal(sentry_dsn_parse("http://abc@sentry.example.org/7", &d3, NULL), 0);
        assert_int_equal(sentry_dsn_servable(&d3, &err2), -EPROTONOSUPPORT);
        assert_non_null(strstr(err2, "sentry.example.org"));

        assert_int_equal(sentry_dsn_parse("127.0.0.1/1", &x, &err3), -EINVAL);
        assert_int_equal(sentry_dsn_parse("http://abc@127.0.0.1/notanumber", &x, &err4), -EINVAL);
        assert_non_null(strstr(err4, "project"));
}

static void test_event(void **state) {
        _cleanup_(sentry_dsn_done) SentryDsn d = {};
        _cleanup_free_ char *ev = NULL, *auth = NULL;
        (void) state;

        assert_int_equal(sentry_event_render("0123456789abcdef0123456789abcdef", "2026-12-02T01:02:03Z", "error",
                                             "appliance-backup.service", "Backup \"failed\"", "ecs", "ecs.example",
                                             &ev), 0);
        assert_string_equal(ev, "{\"event_id\": \"0123456789abcdef0123456789abcdef\", \"timestamp\": "
                                "\"2026-12-02T01:02:03Z\", \"level\": \"error\", \"logger\": \"appliance.status\", "
                                "\"platform\": \"other\", \"culprit\": \"appliance-backup.service\", \"message\": "
                                "\"Backup \\\"failed\\\"\", \"server_name\": \"ecs\", \"tags\": {\"domain\": "
                                "\"ecs.example\"}}");
        assert_int_equal(sentry_dsn_parse("http://abc123:s3cr3t@127.0.0.1:9000/42", &d, NULL), 0);
        assert_int_equal(sentry_auth_header(&d, 1700000000, &auth), 0);
        assert_non_null(strstr(auth, "sentry_key=abc123"));
        assert_null(strstr(auth, "s3cr3t"));
        assert_non_null(strstr(auth, "sentry_version=7"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dsn),
                cmocka_unit_test(test_event),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
