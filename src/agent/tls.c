/**
 * OpenSSL for the server identity: the only agent file that includes OpenSSL headers.
 */
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "macro.h"
#include "tls.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free_all);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509 *, X509_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(BIGNUM *, BN_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_EXTENSION *, X509_EXTENSION_free);

static X509 *parse_cert(const char *pem) {
        _cleanup_(BIO_free_allp) BIO *b = BIO_new_mem_buf(pem, -1);
        return b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
}

static EVP_PKEY *parse_key(const char *pem) {
        _cleanup_(BIO_free_allp) BIO *b = BIO_new_mem_buf(pem, -1);
        return b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
}

int tls_check_pair(const char *key_pem, const char *cert_pem, char **ret_error) {
        _cleanup_(X509_freep) X509 *x = parse_cert(cert_pem);
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = parse_key(key_pem);
        const char *msg = NULL;

        if (!k)
                msg = "appliance:ssl:key: not a readable PEM private key (or it is encrypted)";
        else if (!x)
                msg = "appliance:ssl:cert: not a readable PEM certificate";
        else if (X509_check_private_key(x, k) != 1)
                msg = "appliance:ssl: the key does not belong to the certificate";
        if (msg) {
                if (ret_error)
                        *ret_error = strdup(msg);
                return -EBADMSG;
        }
        return 0;
}

bool tls_cert_usable(const char *cert_pem, const char *domain, time_t min_seconds) {
        _cleanup_(X509_freep) X509 *x = parse_cert(cert_pem);
        time_t when = time(NULL) + min_seconds;

        if (!x)
                return false;
        if (X509_cmp_time(X509_get0_notAfter(x), &when) <= 0)
                return false;
        return X509_check_host(x, domain, 0, 0, NULL) == 1;
}

static char *bio_text(BIO *b) {
        char *data;
        long n = BIO_get_mem_data(b, &data);
        char *out;

        /* The BIO's data is not NUL-terminated: copy by length. */
        if (n < 0)
                return NULL;
        out = malloc((size_t) n + 1);
        if (!out)
                return NULL;
        memcpy(out, data, (size_t) n);
        out[n] = 0;
        return out;
}

static int add_ext(X509 *x, int nid, const char *value) {
        X509V3_CTX ctx;
        _cleanup_(X509_EXTENSION_freep) X509_EXTENSION *e = NULL;

        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
        e = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
        if (!e || !X509_add_ext(x, e, -1))
                return -EIO;
        return 0;
}

int tls_make_self_signed(const char *domain, unsigned days, char **ret_key_pem, char **ret_cert_pem) {
        /* ECDSA P-256: as strong as RSA-3072 and generated in milliseconds, where RSA-2048 takes
         * seconds on a slow first boot (software-emulated CPUs). */
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = EVP_EC_gen("P-256");
        _cleanup_(X509_freep) X509 *x = X509_new();
        _cleanup_(BN_freep) BIGNUM *serial = BN_new();
        _cleanup_(BIO_free_allp) BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
        _cleanup_free_ char *san = NULL, *key = NULL, *cert = NULL;

        if (!k || !x || !serial || !kb || !cb)
                return -ENOMEM;
        if (asprintf(&san, "DNS:%s", domain) < 0)
                return -ENOMEM;
        if (!X509_set_version(x, X509_VERSION_3) || !BN_rand(serial, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
            !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) ||
            !X509_gmtime_adj(X509_getm_notBefore(x), -300) ||
            !X509_gmtime_adj(X509_getm_notAfter(x), (long) days * 86400L) || !X509_set_pubkey(x, k) ||
            !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
                                        (const unsigned char *) domain, -1, -1, 0) ||
            !X509_set_issuer_name(x, X509_get_subject_name(x)))
                return -EIO;
        if (add_ext(x, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
            add_ext(x, NID_key_usage, "critical,digitalSignature") < 0 ||
            add_ext(x, NID_ext_key_usage, "serverAuth") < 0 || add_ext(x, NID_subject_alt_name, san) < 0 ||
            add_ext(x, NID_subject_key_identifier, "hash") < 0)
                return -EIO;
        if (!X509_sign(x, k, EVP_sha256()))
                return -EIO;
        if (!PEM_write_bio_PrivateKey(kb, k, NULL, NULL, 0, NULL, NULL) || !PEM_write_bio_X509(cb, x))
                return -EIO;
        key = bio_text(kb);
        cert = bio_text(cb);
        if (!key || !cert)
                return -ENOMEM;
        *ret_key_pem = TAKE_PTR(key);
        *ret_cert_pem = TAKE_PTR(cert);
        return 0;
}
