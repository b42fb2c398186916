/**
 * Unit tests of the TLS pair check: pairs made by the crypto wrapper (and an encrypted key by the
 * openssl command), each verdict with the env key it names.
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
#include "crypto.h"
#include "macro.h"
#include "spawn.h"
#include "tls.h"

static void test_pairs(void **state) {
        _cleanup_free_ char *k1 = NULL, *c1 = NULL, *k2 = NULL, *c2 = NULL, *why = NULL, *enc = NULL;
        (void) state;

        assert_int_equal(pem_make_self_signed("a.example.org", 30, &k1, &c1), 0);
        assert_int_equal(pem_make_self_signed("b.example.org", 30, &k2, &c2), 0);

        assert_int_equal(tls_check_pair(k1, c1, &why), 0);
        assert_null(why);
        assert_int_equal(tls_check_pair(k2, c1, &why), -EBADMSG);
        assert_string_equal(why, "appliance:ssl: the key does not belong to the certificate");
        assert_int_equal(tls_check_pair(c1, c1, &why), -EBADMSG);
        assert_string_equal(why, "appliance:ssl:key: not a readable PEM private key (or it is encrypted)");
        assert_int_equal(tls_check_pair(k1, k1, &why), -EBADMSG);
        assert_string_equal(why, "appliance:ssl:cert: not a readable PEM certificate");
        /* a truncated certificate */
        c1[strlen(c1) / 2] = 0;
        assert_int_equal(tls_check_pair(k1, c1, &why), -EBADMSG);
        assert_string_equal(why, "appliance:ssl:cert: not a readable PEM certificate");

        /* an encrypted key is refused without asking for a passphrase */
        if (spawn_capture((char *[]) { (char *) "openssl", (char *) "genpkey", (char *) "-algorithm", (char *) "EC",
                                       (char *) "-pkeyopt", (char *) "ec_paramgen_curve:P-256", (char *) "-aes256",
                                       (char *) "-pass", (char *) "pass:secret", NULL },
                          NULL, 0, SPAWN_NULL_STDERR, &enc, NULL) != 0)
                skip();
        assert_non_null(strstr(enc, "ENCRYPTED PRIVATE KEY"));
        assert_int_equal(tls_check_pair(enc, c2, &why), -EBADMSG);
        assert_string_equal(why, "appliance:ssl:key: not a readable PEM private key (or it is encrypted)");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pairs),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
