/**
 * Unit tests of letsencrypt: when the env asks for it (by default; not when disabled; not with an
 * own key and certificate), and that nothing runs below a --root (only the real root runs ACME).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "agent-test-root.h"
#include "cleanup.h"
#include "env.h"
#include "letsencrypt.h"

static Env *load(const char *text) {
        Env *e = NULL;
        assert_int_equal(env_load_buffer("env.yml", text, strlen(text), &e, NULL), 0);
        return e;
}

static void test_wanted(void **state) {
        _cleanup_(env_freep) Env *dflt = load("#cloud-config\nappliance:\n  domain: a.example.org\n"),
                                 *off = load("#cloud-config\nappliance:\n  ssl:\n    letsencrypt:\n      enabled: false\n"),
                                 *own = load("#cloud-config\nappliance:\n  ssl:\n    key: K\n    cert: C\n"),
                                 *half = load("#cloud-config\nappliance:\n  ssl:\n    key: K\n");
        Fixture *f = fixture_new("test-letsencrypt");
        _cleanup_free_ char *err = NULL;
        (void) state;

        assert_true(letsencrypt_wanted(dflt));
        assert_false(letsencrypt_wanted(off));
        assert_false(letsencrypt_wanted(own));
        assert_true(letsencrypt_wanted(half));
        assert_non_null(f);
        assert_int_equal(letsencrypt_renew(&f->agent, dflt, &err), 0);
        assert_false(exists_at(f->dir, LETSENCRYPT_WELLKNOWN));
        fixture_free(f);
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_wanted),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("letsencrypt", tests, NULL, NULL);
}
