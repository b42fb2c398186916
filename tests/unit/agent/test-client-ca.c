/**
 * Unit tests of client-ca: the index read and written back (and its errors with file:line), the
 * arguments of create-client-cert.sh, a CA made once and kept, certificates issued with increasing
 * serials into PKCS#12 files that open with the printed password only, and a revocation that
 * "openssl verify -crl_check" then sees, the other certificate staying valid; the nginx snippet from
 * appliance:ssl:client_certs_mandatory.
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

#include "agent.h"
#include "agent-test-root.h"
#include "cleanup.h"
#include "client-ca.h"
#include "crypto.h"
#include "env.h"

static void test_index(void **state) {
        _cleanup_(client_cert_index_done) ClientCertIndex idx = {};
        _cleanup_free_ char *err = NULL, *text = NULL;
        const char *in = "V\t01\t1700000000\t-\ta@example.org\tAlice A\nR\t0A\t1700000001\t1690000000\tb@x.org\tBob\n";
        (void) state;

        assert_int_equal(client_cert_index_parse("index.txt", in, &idx, &err), 0);
        assert_int_equal(idx.n, 2);
        assert_false(idx.entries[0].revoked);
        assert_int_equal(idx.entries[1].serial, 10);
        assert_true(idx.entries[1].revoked);
        text = client_cert_index_format(&idx);
        assert_string_equal(text, in);

        client_cert_index_done(&idx);
        assert_int_equal(client_cert_index_parse("index.txt", "V\t01\t1\t-\ta@b\tA\nV\t01\t1\t-\ta@b\tB\n", &idx, &err),
                         -EBADMSG);
        assert_string_equal(err, "index.txt:2: serial 01 is listed twice");
        free(err);
        err = NULL;
        assert_int_equal(client_cert_index_parse("index.txt", "V\t01\t1\t5\ta@b\tA\n", &idx, &err), -EBADMSG);
        assert_non_null(strstr(err, "index.txt:1: revocation time"));
        free(err);
        err = NULL;
        assert_int_equal(client_cert_index_parse("index.txt", "X\t01\t1\t-\ta@b\n", &idx, &err), -EBADMSG);
        assert_non_null(strstr(err, "index.txt:1: expected 6"));
}

static void test_arguments(void **state) {
        _cleanup_free_ char *err = NULL;
        unsigned d = 0;
        (void) state;

        assert_int_equal(client_cert_check_email("user@example.org", &err), 0);
        assert_int_equal(client_cert_check_email("no-at.example.org", &err), -EINVAL);
        free(err);
        err = NULL;
        assert_int_equal(client_cert_check_email("a@b@c", &err), -EINVAL);
        free(err);
        err = NULL;
        assert_int_equal(client_cert_check_name("Alice Example", &err), 0);
        assert_int_equal(client_cert_check_name("tab\there", &err), -EINVAL);
        free(err);
        err = NULL;
        assert_int_equal(client_cert_check_name("", &err), -EINVAL);
        free(err);
        err = NULL;
        assert_int_equal(client_cert_parse_days("30", &d, &err), 0);
        assert_int_equal(d, 30);
        assert_int_equal(client_cert_parse_days("0", &d, &err), -EINVAL);
        free(err);
        err = NULL;
        assert_int_equal(client_cert_parse_days("7x", &d, &err), -EINVAL);
}

static int sh(const char *cmd) {
        return spawn_run((char *[]) { (char *) "sh", (char *) "-c", (char *) cmd, NULL });
}

static void test_issue_revoke(void **state) {
        Fixture *f = fixture_new("test-client-ca");
        _cleanup_free_ char *err = NULL, *key1 = NULL, *key2 = NULL, *s1 = NULL, *p1 = NULL, *s2 = NULL, *p2 = NULL,
                            *p12 = NULL, *index = NULL, *list = NULL, *cmd = NULL, *snippet = NULL;
        _cleanup_(env_freep) Env *env = NULL;
        char pw1[CLIENT_CERT_PASSWORD_LEN + 1], pw2[CLIENT_CERT_PASSWORD_LEN + 1];
        size_t len = 0;
        (void) state;

        assert_non_null(f);
        /* No CA yet: issuing is refused. */
        assert_int_equal(client_cert_issue(&f->agent, "a@example.org", "Alice", 7, pw1, &s1, &p1, &err), -ENOENT);
        free(err);
        err = NULL;

        assert_int_equal(client_ca_ensure(&f->agent, "ecs.example.org", &err), 1);
        key1 = read_at(f->dir, "/data/ecs-ca/ca.key.pem");
        assert_non_null(key1);
        assert_true(exists_at(f->dir, "/data/ecs-ca/crl.pem"));
        /* Made once: the second call keeps the key. */
        assert_int_equal(client_ca_ensure(&f->agent, "ecs.example.org", &err), 0);
        key2 = read_at(f->dir, "/data/ecs-ca/ca.key.pem");
        assert_string_equal(key1, key2);

        assert_int_equal(client_cert_issue(&f->agent, "a@example.org", "Alice A", 7, pw1, &s1, &p1, &err), 0);
        assert_string_equal(s1, "01");
        assert_string_equal(p1, "/root/client-certs/Alice_A.p12");
        assert_int_equal(strlen(pw1), 16);
        assert_int_equal(client_cert_issue(&f->agent, "b@example.org", "Bob", 30, pw2, &s2, &p2, &err), 0);
        assert_string_equal(s2, "02");
        assert_int_equal(read_full_file(strjoina(f->dir, "/root/client-certs/Alice_A.p12"), &p12, &len, 0), 0);
        assert_int_equal(pkcs12_check(p12, len, pw1), 0);
        assert_int_equal(pkcs12_check(p12, len, pw2), -EBADMSG);

        /* Unknown, then by name, then again. */
        assert_int_equal(client_cert_revoke(&f->agent, "nobody", &err), -ENOENT);
        free(err);
        err = NULL;
        assert_int_equal(client_cert_revoke(&f->agent, "Alice A", &err), 1);
        assert_int_equal(client_cert_revoke(&f->agent, "01", &err), -EALREADY);
        index = read_at(f->dir, "/data/ecs-ca/index.txt");
        assert_non_null(strstr(index, "R\t01\t"));
        assert_non_null(strstr(index, "V\t02\t"));
        assert_int_equal(client_cert_list(&f->agent, &list), 0);
        assert_non_null(strstr(list, "revoked"));

        /* OpenSSL's own verification: the revoked one fails the CRL check, the other passes. */
        if (asprintf(&cmd,
                     "set -e; cd %s; "
                     "openssl pkcs12 -in root/client-certs/Alice_A.p12 -passin pass:%s -clcerts -nokeys -out a.pem; "
                     "openssl pkcs12 -in root/client-certs/Bob.p12 -passin pass:%s -clcerts -nokeys -out b.pem; "
                     "openssl verify -CAfile data/ecs-ca/ca.cert.pem -CRLfile data/ecs-ca/crl.pem -crl_check b.pem; "
                     "! openssl verify -CAfile data/ecs-ca/ca.cert.pem -CRLfile data/ecs-ca/crl.pem -crl_check a.pem",
                     f->dir, pw1, pw2) < 0)
                fail();
        assert_int_equal(sh(cmd), 0);

        /* nginx: optional by default, on when mandatory. */
        {
                static const char y[] = "#cloud-config\nappliance:\n  ssl:\n    client_certs_mandatory: true\n";
                assert_int_equal(env_load_buffer("env.yml", y, sizeof y - 1, &env, &err), 0);
        }
        assert_int_equal(client_ca_write_nginx(&f->agent, env, true, &err), 1);
        snippet = read_at(f->dir, CLIENT_CA_NGINX_SNIPPET);
        assert_non_null(strstr(snippet, "ssl_verify_client on;"));
        assert_non_null(strstr(snippet, "ssl_crl /data/ecs-ca/crl.pem;"));
        assert_int_equal(client_ca_write_nginx(&f->agent, env, true, &err), 0);
        fixture_free(f);
}

/* The key made on a thread (client_ca_key_start()) is the CA's; none is started once a CA exists,
 * and one that was not taken is dropped. */
static void test_key_thread(void **state) {
        Fixture *f = fixture_new("test-client-ca");
        _cleanup_free_ char *err = NULL, *key1 = NULL, *key2 = NULL, *cert = NULL;
        (void) state;

        assert_non_null(f);
        client_ca_key_start(&f->agent);
        client_ca_key_start(&f->agent); /* once only */
        assert_int_equal(client_ca_ensure(&f->agent, "ecs.example.org", &err), 1);
        client_ca_key_done();
        key1 = read_at(f->dir, "/data/ecs-ca/ca.key.pem");
        cert = read_at(f->dir, "/data/ecs-ca/ca.cert.pem");
        assert_non_null(key1);
        assert_non_null(cert);
        assert_int_equal(pem_pair_check(key1, cert), PEM_PAIR_OK);

        client_ca_key_start(&f->agent); /* a CA exists: nothing is started */
        assert_int_equal(client_ca_ensure(&f->agent, "ecs.example.org", &err), 0);
        client_ca_key_done();
        key2 = read_at(f->dir, "/data/ecs-ca/ca.key.pem");
        assert_string_equal(key1, key2);
        fixture_free(f);

        /* Started and never taken (a part before the CA failed): dropped, no leak. */
        f = fixture_new("test-client-ca");
        assert_non_null(f);
        client_ca_key_start(&f->agent);
        client_ca_key_done();
        client_ca_key_done();
        fixture_free(f);
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_index),
                cmocka_unit_test(test_arguments),
                cmocka_unit_test(test_issue_revoke),
                cmocka_unit_test(test_key_thread),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("client-ca", tests, NULL, NULL);
}
