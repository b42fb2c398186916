/**
 * Unit tests of hostname: ROOT/etc/hostname and the 127.0.1.1 line of ROOT/etc/hosts (added when
 * missing, replaced once when present, other lines kept, a hosts file made when there is none),
 * unchanged files reported as such, a planted /etc symlink refused with the reason.
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
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "agent-test-root.h"
#include "cleanup.h"
#include "hostname.h"

static void test_set(void **state) {
        Fixture *f = fixture_new("test-hostname");
        _cleanup_free_ char *reason = NULL, *hn = NULL, *hosts = NULL, *hosts2 = NULL, *hosts3 = NULL;
        (void) state;

        assert_non_null(f);
        assert_int_equal(write_at(f->dir, "/etc/hosts",
                                  "127.0.0.1\tlocalhost\n127.0.1.1 old.example old\n::1 ip6-localhost\n"
                                  "127.0.1.1\tduplicate\n"), 0);
        assert_int_equal(hostname_set(&f->agent, "ecs.example.org", &reason), 1);
        hn = read_at(f->dir, "/etc/hostname");
        assert_string_equal(hn, "ecs.example.org\n");
        hosts = read_at(f->dir, "/etc/hosts");
        assert_string_equal(hosts, "127.0.0.1\tlocalhost\n127.0.1.1\tecs.example.org ecs\n::1 ip6-localhost\n");

        /* Again: unchanged. */
        assert_int_equal(hostname_set(&f->agent, "ecs.example.org", &reason), 0);

        /* A name without a dot: no short alias. */
        assert_int_equal(hostname_apply(&f->agent, "appliance"), 1);
        hosts2 = read_at(f->dir, "/etc/hosts");
        assert_string_equal(hosts2, "127.0.0.1\tlocalhost\n127.0.1.1\tappliance\n::1 ip6-localhost\n");

        /* No hosts file: one with localhost and the name. */
        assert_int_equal(unlink(strjoina(f->dir, "/etc/hosts")), 0);
        assert_int_equal(hostname_set(&f->agent, "a.b.c", &reason), 1);
        hosts3 = read_at(f->dir, "/etc/hosts");
        assert_string_equal(hosts3, "127.0.0.1\tlocalhost\n127.0.1.1\ta.b.c a\n");
        fixture_free(f);
}

static void test_symlink_refused(void **state) {
        Fixture *f = fixture_new("test-hostname-link");
        _cleanup_free_ char *reason = NULL, *outside = NULL;
        (void) state;

        assert_non_null(f);
        assert_true(asprintf(&outside, "%s-outside", f->dir) > 0);
        assert_int_equal(mkdir(outside, 0755), 0);
        assert_int_equal(symlink(outside, strjoina(f->dir, "/etc")), 0);
        assert_true(hostname_set(&f->agent, "ecs.example.org", &reason) < 0);
        assert_non_null(reason);
        assert_non_null(strstr(reason, "/etc"));
        assert_false(exists_at(outside, "/hostname"));
        assert_int_equal(rmdir(outside), 0);
        fixture_free(f);
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_set),
                cmocka_unit_test(test_symlink_refused),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("hostname", tests, NULL, NULL);
}
