/**
 * Unit tests of the OpenSSL wrapper: SHA-256 (the FIPS 180-2 vectors; a sparse file hashed by its
 * extents equals its bytes hashed in memory; a pipe), base64, PEM pairs that match, do not match or
 * do not parse, key types, the self-signed certificate's domain and lifetime, the RSA key's public half.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "crypto.h"
#include "fileio.h"

static void test_sha256_vectors(void **state) {
        char hex[SHA256_HEX_SIZE];
        _cleanup_(sha256_freep) Sha256 *s = NULL;
        (void) state;

        assert_int_equal(sha256_hex("abc", 3, hex), 0);
        assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_int_equal(sha256_hex("", 0, hex), 0);
        assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

        /* Streamed in pieces gives the same as in one. */
        assert_int_equal(sha256_new(&s), 0);
        assert_int_equal(sha256_update(s, "abcdbcdecdefdefgefghfghighij", 28), 0);
        assert_int_equal(sha256_update(s, "hijkijkljklmklmnlmnomnopnopq", 28), 0);
        assert_int_equal(sha256_final_hex(s, hex), 0);
        assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_sha256_sparse_file(void **state) {
        char path[] = "/tmp/test-crypto-XXXXXX", a[SHA256_HEX_SIZE], b[SHA256_HEX_SIZE], c[SHA256_HEX_SIZE];
        const size_t size = 3 * 1024 * 1024 + 17;
        _cleanup_free_ uint8_t *buf = calloc(1, size);
        _cleanup_close_ int fd = mkstemp(path);
        uint64_t counter = 0;
        (void) state;

        assert_non_null(buf);
        assert_true(fd >= 0);
        /* data, a hole of 2 MiB, data at the end */
        memset(buf, 'x', 4096);
        memset(buf + size - 100, 'y', 100);
        assert_int_equal(pwrite(fd, buf, 4096, 0), 4096);
        assert_int_equal(pwrite(fd, buf + size - 100, 100, (off_t) (size - 100)), 100);

        assert_int_equal(sha256_fd_hex(fd, &counter, a), 0);
        assert_int_equal(counter, size);
        assert_int_equal(sha256_hex(buf, size, b), 0);
        assert_string_equal(a, b);
        assert_int_equal(sha256_file_hex(path, c), 0);
        assert_string_equal(c, b);

        buf[5] = 'z';
        assert_int_equal(sha256_hex(buf, size, b), 0);
        assert_string_not_equal(a, b);

        assert_int_equal(unlink(path), 0);
        assert_int_equal(sha256_file_hex(path, c), -ENOENT);
}

static void test_sha256_pipe(void **state) {
        int p[2];
        char hex[SHA256_HEX_SIZE];
        uint64_t counter = 0;
        (void) state;

        assert_int_equal(pipe(p), 0);
        assert_int_equal(write(p[1], "abc", 3), 3);
        close(p[1]);
        assert_int_equal(sha256_fd_hex(p[0], &counter, hex), 0);
        close(p[0]);
        assert_int_equal(counter, 3);
        assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_base64(void **state) {
        static const struct {
                const char *in, *out;
        } v[] = { { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" }, { "foobar", "Zm9vYmFy" } };
        (void) state;

        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
                _cleanup_free_ char *s = base64_encode(v[i].in, strlen(v[i].in));
                assert_non_null(s);
                assert_string_equal(s, v[i].out);
        }
}

static void test_self_signed_and_pairs(void **state) {
        _cleanup_free_ char *k1 = NULL, *c1 = NULL, *k2 = NULL, *c2 = NULL;
        PemKeyType t;
        (void) state;

        assert_int_equal(pem_make_self_signed("ecs.example.org", 10, &k1, &c1), 0);
        assert_int_equal(pem_make_self_signed("other.example.org", 1, &k2, &c2), 0);
        assert_non_null(strstr(k1, "-----BEGIN PRIVATE KEY-----"));
        assert_non_null(strstr(c1, "-----BEGIN CERTIFICATE-----"));

        assert_int_equal(pem_pair_check(k1, c1), PEM_PAIR_OK);
        assert_int_equal(pem_pair_check(k2, c2), PEM_PAIR_OK);
        assert_int_equal(pem_pair_check(k1, c2), PEM_PAIR_MISMATCH);
        assert_int_equal(pem_pair_check("not a key", c1), PEM_PAIR_BAD_KEY);
        assert_int_equal(pem_pair_check(k1, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
                         PEM_PAIR_BAD_CERT);
        assert_int_equal(pem_pair_check(c1, c1), PEM_PAIR_BAD_KEY);

        assert_int_equal(pem_private_key_type(k1, &t), 0);
        assert_int_equal(t, PEM_KEY_EC);
        assert_int_equal(pem_private_key_type(c1, &t), -EBADMSG);

        assert_true(pem_cert_usable(c1, "ecs.example.org", 86400));
        assert_false(pem_cert_usable(c1, "ecs.example.com", 86400));
        assert_false(pem_cert_usable(c1, "ecs.example.org", 11 * 86400));   /* expires within */
        assert_false(pem_cert_usable(c2, "other.example.org", 2 * 86400));
        assert_false(pem_cert_usable("garbage", "ecs.example.org", 0));
}

static void test_rsa(void **state) {
        _cleanup_free_ char *key = NULL, *pub = NULL;
        PemKeyType t;
        (void) state;

        assert_int_equal(pem_make_rsa(2048, &key, &pub), 0);
        assert_non_null(strstr(key, "-----BEGIN RSA PRIVATE KEY-----"));
        assert_int_equal(pem_private_key_type(key, &t), 0);
        assert_int_equal(t, PEM_KEY_RSA);
        /* SubjectPublicKeyInfo of RSA 2048: 294 bytes of DER, 392 characters of base64, starting
         * with the rsaEncryption algorithm identifier. */
        assert_int_equal(strlen(pub), 392);
        assert_true(strncmp(pub, "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", 44) == 0);
}

static void test_encrypted_key_refused(void **state) {
        /* A real encrypted key (openssl genpkey -aes256) is refused, never prompted for. */
        _cleanup_free_ char *enc = NULL;
        size_t n = 0;
        PemKeyType t;
        FILE *p;
        (void) state;

        p = popen("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes256 -pass pass:secret "
                  "2>/dev/null </dev/null", "r");
        assert_non_null(p);
        enc = calloc(1, 4096);
        assert_non_null(enc);
        n = fread(enc, 1, 4095, p);
        if (pclose(p) != 0 || n == 0)
                skip();
        assert_non_null(strstr(enc, "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        assert_int_equal(pem_private_key_type(enc, &t), -EBADMSG);
        assert_int_equal(pem_pair_check(enc, "x"), PEM_PAIR_BAD_KEY);
}

static void test_ca_client_p12_crl(void **state) {
        _cleanup_free_ char *ca_key = NULL, *ca_cert = NULL, *key = NULL, *cert = NULL, *crl = NULL, *serial = NULL,
                            *other_key = NULL, *other_cert = NULL, *pre = NULL, *pre_pub = NULL, *ca2_key = NULL,
                            *ca2_cert = NULL, *junk_key = NULL, *junk_cert = NULL;
        _cleanup_free_ void *p12 = NULL;
        CrlEntry revoked[] = { { 0x2a, 1700000000 } };
        char pw[17], pw2[17];
        size_t len = 0;
        (void) state;

        assert_int_equal(pem_make_ca("test CA", NULL, 2048, 3650, &ca_key, &ca_cert), 0);
        assert_int_equal(pem_pair_check(ca_key, ca_cert), PEM_PAIR_OK);
        /* A CA of a key made beforehand (the agent makes it on a thread) is the CA of that key. */
        assert_int_equal(pem_make_rsa(2048, &pre, &pre_pub), 0);
        assert_int_equal(pem_make_ca("test CA", pre, 0, 3650, &ca2_key, &ca2_cert), 0);
        assert_int_equal(pem_pair_check(pre, ca2_cert), PEM_PAIR_OK);
        assert_int_equal(pem_pair_check(ca2_key, ca2_cert), PEM_PAIR_OK);
        assert_int_equal(pem_pair_check(ca_key, ca2_cert), PEM_PAIR_MISMATCH);
        assert_int_equal(pem_make_ca("test CA", "junk", 0, 3650, &junk_key, &junk_cert), -EIO);
        assert_int_equal(pem_issue_client_cert(ca_key, ca_cert, "a@example.org", "Alice Example", 0x2a, 2048, 7, &key,
                                               &cert), 0);
        assert_int_equal(pem_pair_check(key, cert), PEM_PAIR_OK);
        serial = pem_cert_serial_hex(cert);
        assert_string_equal(serial, "2A");

        /* A CA whose key is not the certificate's is refused. */
        assert_int_equal(pem_make_self_signed("other.example", 1, &other_key, &other_cert), 0);
        assert_int_equal(pem_issue_client_cert(other_key, ca_cert, "a@example.org", "x", 1, 2048, 1, &key, &cert),
                         -EBADMSG);

        assert_int_equal(random_password(16, pw), 0);
        assert_int_equal(strlen(pw), 16);
        assert_int_equal(strspn(pw, "abcdefghijklmnopqrstuvwxyz0123456789"), 16);
        assert_int_equal(random_password(16, pw2), 0);
        assert_string_not_equal(pw, pw2);

        assert_int_equal(pkcs12_make(key, cert, ca_cert, "Alice Example", pw, &p12, &len), 0);
        assert_true(len > 1000);
        assert_int_equal(pkcs12_check(p12, len, pw), 0);
        assert_int_equal(pkcs12_check(p12, len, pw2), -EBADMSG);
        assert_int_equal(pkcs12_check("junk", 4, pw), -EBADMSG);

        assert_int_equal(pem_make_crl(ca_key, ca_cert, revoked, 1, 2, 3650, &crl), 0);
        assert_non_null(strstr(crl, "-----BEGIN X509 CRL-----"));
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sha256_vectors),      cmocka_unit_test(test_sha256_sparse_file),
                cmocka_unit_test(test_sha256_pipe),         cmocka_unit_test(test_base64),
                cmocka_unit_test(test_self_signed_and_pairs), cmocka_unit_test(test_rsa),
                cmocka_unit_test(test_encrypted_key_refused), cmocka_unit_test(test_ca_client_p12_crl),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("crypto", tests, NULL, NULL);
}
