/**
 * OpenSSL (libcrypto) behind crypto.h: the only file that includes its headers, and the one place
 * its cleanup helpers are declared.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "crypto.h"
#include "fileio.h"
#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free_all);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509 *, X509_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(BIGNUM *, BN_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_EXTENSION *, X509_EXTENSION_free);

#define READ_BLOCK (1U << 20)

struct Sha256 {
        EVP_MD_CTX *md;
};

int sha256_new(Sha256 **ret) {
        _cleanup_(sha256_freep) Sha256 *s = calloc(1, sizeof *s);

        if (!s)
                return -ENOMEM;
        s->md = EVP_MD_CTX_new();
        if (!s->md)
                return -ENOMEM;
        if (EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1)
                return -EIO;
        *ret = TAKE_PTR(s);
        return 0;
}

int sha256_update(Sha256 *s, const void *data, size_t len) {
        if (len > 0 && EVP_DigestUpdate(s->md, data, len) != 1)
                return -EIO;
        return 0;
}

int sha256_final(Sha256 *s, uint8_t ret[static SHA256_DIGEST_SIZE]) {
        unsigned n = 0;

        if (EVP_DigestFinal_ex(s->md, ret, &n) != 1 || n != SHA256_DIGEST_SIZE)
                return -EIO;
        return 0;
}

int sha256_final_hex(Sha256 *s, char ret[static SHA256_HEX_SIZE]) {
        static const char hex[] = "0123456789abcdef";
        uint8_t d[SHA256_DIGEST_SIZE];
        int r;

        r = sha256_final(s, d);
        if (r < 0)
                return r;
        for (size_t i = 0; i < sizeof d; i++) {
                ret[2 * i] = hex[d[i] >> 4];
                ret[2 * i + 1] = hex[d[i] & 15];
        }
        ret[2 * SHA256_DIGEST_SIZE] = 0;
        return 0;
}

Sha256 *sha256_free(Sha256 *s) {
        if (s) {
                EVP_MD_CTX_free(s->md);
                free(s);
        }
        return NULL;
}

int sha256_hex(const void *data, size_t len, char ret[static SHA256_HEX_SIZE]) {
        _cleanup_(sha256_freep) Sha256 *s = NULL;
        int r;

        r = sha256_new(&s);
        if (r >= 0)
                r = sha256_update(s, data, len);
        if (r >= 0)
                r = sha256_final_hex(s, ret);
        return r;
}

static void count(uint64_t *counter, uint64_t n) {
        if (counter)
                __atomic_add_fetch(counter, n, __ATOMIC_RELAXED);
}

/* A regular file by its data extents: holes are hashed as zeros without being read. */
static int sha256_update_file(Sha256 *s, int fd, uint64_t size, uint8_t *buf, uint64_t *counter) {
        static const uint8_t zeros[1 << 16];
        uint64_t pos = 0;
        int r;

        while (pos < size) {
                off_t data = lseek(fd, (off_t) pos, SEEK_DATA);
                uint64_t hole_end = data < 0 ? size : MIN((uint64_t) data, size);

                while (pos < hole_end) {
                        size_t n = (size_t) MIN(hole_end - pos, (uint64_t) sizeof zeros);
                        r = sha256_update(s, zeros, n);
                        if (r < 0)
                                return r;
                        pos += n;
                        count(counter, n);
                }
                if (pos >= size)
                        break;
                off_t hole = lseek(fd, (off_t) pos, SEEK_HOLE);
                uint64_t data_end = hole < 0 ? size : MIN((uint64_t) hole, size);
                while (pos < data_end) {
                        ssize_t n = pread(fd, buf, (size_t) MIN(data_end - pos, (uint64_t) READ_BLOCK), (off_t) pos);
                        if (n < 0)
                                return -errno;
                        if (n == 0)
                                return -EIO;    /* shrunk while hashed */
                        r = sha256_update(s, buf, (size_t) n);
                        if (r < 0)
                                return r;
                        pos += (uint64_t) n;
                        count(counter, (uint64_t) n);
                }
        }
        return 0;
}

int sha256_fd_hex(int fd, uint64_t *counter, char ret[static SHA256_HEX_SIZE]) {
        _cleanup_(sha256_freep) Sha256 *s = NULL;
        _cleanup_free_ uint8_t *buf = malloc(READ_BLOCK);
        struct stat st;
        int r;

        if (!buf)
                return -ENOMEM;
        if (fstat(fd, &st) < 0)
                return -errno;
        r = sha256_new(&s);
        if (r < 0)
                return r;
        if (S_ISREG(st.st_mode))
                r = sha256_update_file(s, fd, (uint64_t) st.st_size, buf, counter);
        else
                for (;;) {
                        ssize_t n = loop_read(fd, buf, READ_BLOCK);
                        if (n <= 0) {
                                r = (int) n;
                                break;
                        }
                        r = sha256_update(s, buf, (size_t) n);
                        if (r < 0)
                                break;
                        count(counter, (uint64_t) n);
                }
        if (r < 0)
                return r;
        return sha256_final_hex(s, ret);
}

int sha256_file_hex(const char *path, char ret[static SHA256_HEX_SIZE]) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        return sha256_fd_hex(fd, NULL, ret);
}

char *base64_encode(const void *data, size_t len) {
        char *out;

        if (len > INT_MAX / 2)
                return NULL;
        out = malloc(4 * DIV_ROUND_UP(len, 3) + 1);
        if (!out)
                return NULL;
        EVP_EncodeBlock((unsigned char *) out, data, (int) len);
        return out;
}

/* Refuses encrypted keys instead of prompting on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u) {
        (void) buf, (void) size, (void) rwflag, (void) u;
        return -1;
}

static X509 *parse_cert(const char *pem) {
        _cleanup_(BIO_free_allp) BIO *b = BIO_new_mem_buf(pem, -1);
        X509 *x = b ? PEM_read_bio_X509(b, NULL, no_passphrase, NULL) : NULL;

        ERR_clear_error();
        return x;
}

static EVP_PKEY *parse_key(const char *pem) {
        _cleanup_(BIO_free_allp) BIO *b = BIO_new_mem_buf(pem, -1);
        EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;

        ERR_clear_error();
        return k;
}

int pem_private_key_type(const char *key_pem, PemKeyType *ret) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = parse_key(key_pem);

        if (!k)
                return -EBADMSG;
        switch (EVP_PKEY_get_base_id(k)) {
        case EVP_PKEY_RSA:
                *ret = PEM_KEY_RSA;
                break;
        case EVP_PKEY_EC:
                *ret = PEM_KEY_EC;
                break;
        default:
                *ret = PEM_KEY_OTHER;
        }
        return 0;
}

PemPairResult pem_pair_check(const char *key_pem, const char *cert_pem) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = parse_key(key_pem);
        _cleanup_(X509_freep) X509 *x = NULL;
        PemPairResult r = PEM_PAIR_OK;

        if (!k)
                return PEM_PAIR_BAD_KEY;
        x = parse_cert(cert_pem);
        if (!x)
                return PEM_PAIR_BAD_CERT;
        if (X509_check_private_key(x, k) != 1)
                r = PEM_PAIR_MISMATCH;
        ERR_clear_error();
        return r;
}

bool pem_cert_usable(const char *cert_pem, const char *domain, time_t min_seconds) {
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

int pem_make_self_signed(const char *domain, unsigned days, char **ret_key_pem, char **ret_cert_pem) {
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

static void openssl_freep(unsigned char **p) {
        OPENSSL_free(*p);
}

int pem_make_rsa(unsigned bits, char **ret_key_pem, char **ret_public_base64) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) bits);
        _cleanup_(BIO_free_allp) BIO *b = BIO_new(BIO_s_mem());
        _cleanup_(openssl_freep) unsigned char *der = NULL;
        _cleanup_free_ char *key = NULL, *pub = NULL;
        int len;

        if (!k)
                return -EIO;
        if (!b)
                return -ENOMEM;
        if (PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL, NULL) != 1)
                return -EIO;
        key = bio_text(b);
        len = i2d_PUBKEY(k, &der);
        if (len <= 0)
                return -EIO;
        pub = base64_encode(der, (size_t) len);
        if (!key || !pub)
                return -ENOMEM;
        *ret_key_pem = TAKE_PTR(key);
        *ret_public_base64 = TAKE_PTR(pub);
        return 0;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(X509_CRL *, X509_CRL_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_REVOKED *, X509_REVOKED_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(PKCS12 *, PKCS12_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_TIME *, ASN1_TIME_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_INTEGER *, ASN1_INTEGER_free);

static int pem_out(EVP_PKEY *k, X509 *x, char **ret_key_pem, char **ret_cert_pem) {
        _cleanup_(BIO_free_allp) BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
        _cleanup_free_ char *key = NULL, *cert = NULL;

        if (!kb || !cb)
                return -ENOMEM;
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

/* Extensions with the issuer known (authorityKeyIdentifier needs it). */
static int add_ext_issued(X509 *x, X509 *issuer, int nid, const char *value) {
        X509V3_CTX ctx;
        _cleanup_(X509_EXTENSION_freep) X509_EXTENSION *e = NULL;

        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
        e = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
        if (!e || !X509_add_ext(x, e, -1))
                return -EIO;
        return 0;
}

int pem_make_ca(const char *cn, const char *key_pem, unsigned bits, unsigned days, char **ret_key_pem,
                char **ret_cert_pem) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = key_pem ? parse_key(key_pem)
                                                       : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) bits);
        _cleanup_(X509_freep) X509 *x = X509_new();
        _cleanup_(BN_freep) BIGNUM *serial = BN_new();

        if (!k)
                return -EIO;
        if (!x || !serial)
                return -ENOMEM;
        if (!X509_set_version(x, X509_VERSION_3) || !BN_rand(serial, 63, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) ||
            !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) ||
            !X509_gmtime_adj(X509_getm_notBefore(x), -300) ||
            !X509_gmtime_adj(X509_getm_notAfter(x), (long) days * 86400L) || !X509_set_pubkey(x, k) ||
            !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8, (const unsigned char *) cn,
                                        -1, -1, 0) ||
            !X509_set_issuer_name(x, X509_get_subject_name(x)))
                return -EIO;
        if (add_ext(x, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
            add_ext(x, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
            add_ext(x, NID_subject_key_identifier, "hash") < 0)
                return -EIO;
        if (!X509_sign(x, k, EVP_sha256()))
                return -EIO;
        return pem_out(k, x, ret_key_pem, ret_cert_pem);
}

static int ca_load(const char *ca_key_pem, const char *ca_cert_pem, EVP_PKEY **ret_key, X509 **ret_cert) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = parse_key(ca_key_pem);
        _cleanup_(X509_freep) X509 *x = parse_cert(ca_cert_pem);

        if (!k || !x || X509_check_private_key(x, k) != 1) {
                ERR_clear_error();
                return -EBADMSG;
        }
        *ret_key = TAKE_PTR(k);
        *ret_cert = TAKE_PTR(x);
        return 0;
}

static int set_serial(X509 *x, uint64_t serial) {
        _cleanup_(BN_freep) BIGNUM *bn = BN_new();

        if (!bn)
                return -ENOMEM;
        if (!BN_set_word(bn, serial) || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
                return -EIO;
        return 0;
}

int pem_issue_client_cert(const char *ca_key_pem, const char *ca_cert_pem, const char *email, const char *name,
                          uint64_t serial, unsigned bits, unsigned days, char **ret_key_pem, char **ret_cert_pem) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *cak = NULL, *k = NULL;
        _cleanup_(X509_freep) X509 *ca = NULL, *x = NULL;
        X509_NAME *subject;
        int r;

        r = ca_load(ca_key_pem, ca_cert_pem, &cak, &ca);
        if (r < 0)
                return r;
        k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) bits);
        if (!k)
                return -EIO;
        x = X509_new();
        if (!x)
                return -ENOMEM;
        subject = X509_get_subject_name(x);
        if (!X509_set_version(x, X509_VERSION_3) || set_serial(x, serial) < 0 ||
            !X509_gmtime_adj(X509_getm_notBefore(x), -300) ||
            !X509_gmtime_adj(X509_getm_notAfter(x), (long) days * 86400L) || !X509_set_pubkey(x, k) ||
            !X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, (const unsigned char *) name, -1, -1, 0) ||
            !X509_NAME_add_entry_by_txt(subject, "emailAddress", MBSTRING_ASC, (const unsigned char *) email, -1,
                                        -1, 0) ||
            !X509_set_issuer_name(x, X509_get_subject_name(ca))) {
                ERR_clear_error();
                return -EINVAL;
        }
        if (add_ext_issued(x, ca, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
            add_ext_issued(x, ca, NID_key_usage, "critical,digitalSignature,keyEncipherment") < 0 ||
            add_ext_issued(x, ca, NID_ext_key_usage, "clientAuth") < 0 ||
            add_ext_issued(x, ca, NID_subject_key_identifier, "hash") < 0 ||
            add_ext_issued(x, ca, NID_authority_key_identifier, "keyid:always") < 0)
                return -EIO;
        if (!X509_sign(x, cak, EVP_sha256()))
                return -EIO;
        return pem_out(k, x, ret_key_pem, ret_cert_pem);
}

int pkcs12_make(const char *key_pem, const char *cert_pem, const char *ca_cert_pem, const char *name,
                const char *password, void **ret, size_t *ret_len) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = parse_key(key_pem);
        _cleanup_(X509_freep) X509 *x = parse_cert(cert_pem), *ca = parse_cert(ca_cert_pem);
        _cleanup_(PKCS12_freep) PKCS12 *p = NULL;
        _cleanup_(openssl_freep) unsigned char *der = NULL;
        STACK_OF(X509) *chain;
        void *out;
        int len;

        if (!k || !x || !ca)
                return -EBADMSG;
        chain = sk_X509_new_null();
        if (!chain)
                return -ENOMEM;
        if (!sk_X509_push(chain, ca)) {
                sk_X509_free(chain);
                return -ENOMEM;
        }
        p = PKCS12_create(password, name, k, x, chain, 0, 0, 0, 0, 0);
        sk_X509_free(chain); /* the certificate itself is still ca's */
        if (!p) {
                ERR_clear_error();
                return -EIO;
        }
        len = i2d_PKCS12(p, &der);
        if (len <= 0)
                return -EIO;
        out = malloc((size_t) len);
        if (!out)
                return -ENOMEM;
        memcpy(out, der, (size_t) len);
        *ret = out;
        *ret_len = (size_t) len;
        return 0;
}

int pkcs12_check(const void *p12, size_t len, const char *password) {
        const unsigned char *in = p12;
        _cleanup_(PKCS12_freep) PKCS12 *p = len <= LONG_MAX ? d2i_PKCS12(NULL, &in, (long) len) : NULL;
        EVP_PKEY *k = NULL;
        X509 *x = NULL;
        STACK_OF(X509) *ca = NULL;
        int r = -EBADMSG;

        if (p && PKCS12_parse(p, password, &k, &x, &ca) == 1 && x && k)
                r = 0;
        EVP_PKEY_free(k);
        X509_free(x);
        sk_X509_pop_free(ca, X509_free);
        ERR_clear_error();
        return r;
}

int pem_make_crl(const char *ca_key_pem, const char *ca_cert_pem, const CrlEntry *revoked, size_t n_revoked,
                 uint64_t number, unsigned days, char **ret_crl_pem) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *cak = NULL;
        _cleanup_(X509_freep) X509 *ca = NULL;
        _cleanup_(X509_CRL_freep) X509_CRL *crl = X509_CRL_new();
        _cleanup_(ASN1_TIME_freep) ASN1_TIME *last = ASN1_TIME_new(), *next = ASN1_TIME_new();
        _cleanup_(ASN1_INTEGER_freep) ASN1_INTEGER *num = ASN1_INTEGER_new();
        _cleanup_(BIO_free_allp) BIO *b = BIO_new(BIO_s_mem());
        char *text;
        int r;

        if (!crl || !last || !next || !num || !b)
                return -ENOMEM;
        r = ca_load(ca_key_pem, ca_cert_pem, &cak, &ca);
        if (r < 0)
                return r;
        if (!X509_CRL_set_version(crl, X509_CRL_VERSION_2) || !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) ||
            !X509_gmtime_adj(last, 0) || !X509_gmtime_adj(next, (long) days * 86400L) ||
            !X509_CRL_set1_lastUpdate(crl, last) || !X509_CRL_set1_nextUpdate(crl, next) ||
            !ASN1_INTEGER_set_uint64(num, number) || !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0))
                return -EIO;
        for (size_t i = 0; i < n_revoked; i++) {
                _cleanup_(X509_REVOKED_freep) X509_REVOKED *rv = X509_REVOKED_new();
                _cleanup_(ASN1_INTEGER_freep) ASN1_INTEGER *s = ASN1_INTEGER_new();
                _cleanup_(ASN1_TIME_freep) ASN1_TIME *t = NULL;

                if (!rv || !s)
                        return -ENOMEM;
                t = ASN1_TIME_set(NULL, revoked[i].revoked);
                if (!t || !ASN1_INTEGER_set_uint64(s, revoked[i].serial) || !X509_REVOKED_set_serialNumber(rv, s) ||
                    !X509_REVOKED_set_revocationDate(rv, t) || !X509_CRL_add0_revoked(crl, rv))
                        return -EIO;
                TAKE_PTR(rv);
        }
        if (!X509_CRL_sort(crl) || !X509_CRL_sign(crl, cak, EVP_sha256()) || !PEM_write_bio_X509_CRL(b, crl))
                return -EIO;
        text = bio_text(b);
        if (!text)
                return -ENOMEM;
        *ret_crl_pem = text;
        return 0;
}

char *pem_cert_serial_hex(const char *cert_pem) {
        _cleanup_(X509_freep) X509 *x = parse_cert(cert_pem);
        _cleanup_(BN_freep) BIGNUM *bn = NULL;
        char *hex, *out;

        if (!x)
                return NULL;
        bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
        hex = bn ? BN_bn2hex(bn) : NULL;
        if (!hex)
                return NULL;
        out = strdup(hex);
        OPENSSL_free(hex);
        return out;
}

int random_password(size_t len, char *ret) {
        static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
        size_t i = 0;

        while (i < len) {
                unsigned char buf[64];
                if (RAND_bytes(buf, sizeof buf) != 1)
                        return -EIO;
                for (size_t j = 0; j < sizeof buf && i < len; j++)
                        /* 252 = 7 * 36: no bias */
                        if (buf[j] < 252)
                                ret[i++] = alphabet[buf[j] % 36];
        }
        ret[len] = 0;
        return 0;
}
