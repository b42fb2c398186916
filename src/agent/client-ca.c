/**
 * The client certificate authority (client-ca.h): files below CLIENT_CA_DIR through agent-path, the
 * certificates through the crypto wrapper.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "agent-path.h"
#include "client-ca.h"
#include "cleanup.h"
#include "crypto.h"
#include "log.h"
#include "parse-util.h"
#include "reterr.h"
#include "strv.h"
#include "users.h"

#define CA_KEY CLIENT_CA_DIR "/ca.key.pem"
#define CA_CERT CLIENT_CA_DIR "/ca.cert.pem"
#define CA_CRL CLIENT_CA_DIR "/crl.pem"
#define CA_INDEX CLIENT_CA_DIR "/index.txt"
#define CA_MAX (1024U * 1024U)

void client_cert_index_done(ClientCertIndex *idx) {
        for (size_t i = 0; i < idx->n; i++) {
                free(idx->entries[i].email);
                free(idx->entries[i].name);
        }
        free(idx->entries);
        *idx = (ClientCertIndex) {};
}

static int parse_hex64(const char *s, uint64_t *ret) {
        uint64_t v = 0;
        size_t n = strlen(s);

        if (n == 0 || n > 16 || strspn(s, "0123456789abcdefABCDEF") != n)
                return -EINVAL;
        for (const char *p = s; *p; p++)
                v = v << 4 | (uint64_t) (*p <= '9' ? *p - '0' : (*p | 0x20) - 'a' + 10);
        *ret = v;
        return 0;
}

/* As nginx prints serials: upper-case hex of whole bytes. */
static char *serial_hex(uint64_t serial) {
        char *s;
        int n;

        if (asprintf(&s, "%" PRIX64, serial) < 0)
                return NULL;
        n = (int) strlen(s);
        if (n % 2) {
                char *t;
                if (asprintf(&t, "0%s", s) < 0)
                        t = NULL;
                free(s);
                s = t;
        }
        return s;
}

static int parse_time(const char *s, time_t *ret) {
        uint64_t v;

        if (safe_atou64(s, &v) < 0 || v > INT64_MAX)
                return -EINVAL;
        *ret = (time_t) v;
        return 0;
}

int client_cert_index_parse(const char *name, const char *text, ClientCertIndex *ret, char **reterr) {
        _cleanup_(client_cert_index_done) ClientCertIndex idx = {};
        _cleanup_strv_free_ char **lines = NULL;
        unsigned line = 0;
        int r;

        r = strv_split(text, "\n", &lines);
        if (r < 0)
                return r;
        STRV_FOREACH(l, lines) {
                _cleanup_strv_free_ char **f = NULL;
                ClientCertEntry e = {};
                ClientCertEntry *n;

                line++;
                if (**l == 0)
                        continue;
                r = strv_split(*l, "\t", &f);
                if (r < 0)
                        return r;
                if (strv_length(f) != 6)
                        return reterr_printf(reterr, -EBADMSG, "%s:%u: expected 6 tab-separated fields, got %zu", name,
                                             line, strv_length(f));
                if (!streq(f[0], "V") && !streq(f[0], "R"))
                        return reterr_printf(reterr, -EBADMSG, "%s:%u: status '%s' is neither V nor R", name, line, f[0]);
                e.revoked = streq(f[0], "R");
                if (parse_hex64(f[1], &e.serial) < 0)
                        return reterr_printf(reterr, -EBADMSG, "%s:%u: serial '%s' is not hex", name, line, f[1]);
                if (parse_time(f[2], &e.not_after) < 0)
                        return reterr_printf(reterr, -EBADMSG, "%s:%u: expiry '%s' is not a time", name, line, f[2]);
                if (e.revoked ? parse_time(f[3], &e.revoked_at) < 0 : !streq(f[3], "-"))
                        return reterr_printf(reterr, -EBADMSG, "%s:%u: revocation time '%s' does not fit status %s",
                                             name, line, f[3], f[0]);
                for (size_t i = 0; i < idx.n; i++)
                        if (idx.entries[i].serial == e.serial)
                                return reterr_printf(reterr, -EBADMSG, "%s:%u: serial %s is listed twice", name, line,
                                                     f[1]);
                n = reallocarray(idx.entries, idx.n + 1, sizeof *n);
                if (!n)
                        return -ENOMEM;
                idx.entries = n;
                e.email = TAKE_PTR(f[4]);
                e.name = TAKE_PTR(f[5]);
                idx.entries[idx.n++] = e;
        }
        *ret = idx;
        idx = (ClientCertIndex) {};
        return 0;
}

char *client_cert_index_format(const ClientCertIndex *idx) {
        _cleanup_free_ char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);

        if (!f)
                return NULL;
        for (size_t i = 0; i < idx->n; i++) {
                const ClientCertEntry *e = &idx->entries[i];
                _cleanup_free_ char *s = serial_hex(e->serial);
                if (!s) {
                        fclose(f);
                        return NULL;
                }
                fprintf(f, "%s\t%s\t%lld\t", e->revoked ? "R" : "V", s, (long long) e->not_after);
                if (e->revoked)
                        fprintf(f, "%lld", (long long) e->revoked_at);
                else
                        fputc('-', f);
                fprintf(f, "\t%s\t%s\n", e->email, e->name);
        }
        if (fclose(f) != 0)
                return NULL;
        return out ? TAKE_PTR(out) : strdup("");
}

int client_cert_check_email(const char *email, char **reterr) {
        const char *at = strchr(email, '@');
        size_t n = strlen(email);

        if (n == 0 || n > 254 || !at || at == email || !at[1] || strchr(at + 1, '@') ||
            strspn(email, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.!#$%&'*+/=?^_`{|}~-@") != n)
                return reterr_printf(reterr, -EINVAL, "EMAIL '%s' is not an e-mail address (local@domain, ASCII)",
                                     email);
        return 0;
}

int client_cert_check_name(const char *name, char **reterr) {
        size_t n = strlen(name);

        if (n == 0 || n > 64)
                return reterr_printf(reterr, -EINVAL, "NAME must have 1 to 64 characters, it has %zu", n);
        for (const unsigned char *p = (const unsigned char *) name; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return reterr_printf(reterr, -EINVAL, "NAME must not contain control characters");
        if (name[0] == ' ' || name[n - 1] == ' ')
                return reterr_printf(reterr, -EINVAL, "NAME must not begin or end with a space");
        return 0;
}

int client_cert_parse_days(const char *s, unsigned *ret, char **reterr) {
        unsigned d;

        if (safe_atou(s, &d) < 0 || d < 1 || d > CLIENT_CERT_DAYS_MAX)
                return reterr_printf(reterr, -EINVAL, "DAYS '%s' is not a number of days from 1 to %u", s,
                                     CLIENT_CERT_DAYS_MAX);
        *ret = d;
        return 0;
}

static int read_ca(const Agent *a, char **ret_key, char **ret_cert, char **reterr) {
        _cleanup_free_ char *key = NULL, *cert = NULL;
        int r;

        r = agent_read_text(a, CA_KEY, CA_MAX, &key, reterr);
        if (r >= 0)
                r = agent_read_text(a, CA_CERT, CA_MAX, &cert, reterr);
        if (r < 0)
                return r;
        if (!key && !cert)
                return 0;
        if (!key || !cert)
                return reterr_printf(reterr, -EBADMSG, "%s: %s is missing; the CA is never replaced, restore it",
                                     CLIENT_CA_DIR, key ? "ca.cert.pem" : "ca.key.pem");
        if (pem_pair_check(key, cert) != PEM_PAIR_OK)
                return reterr_printf(reterr, -EBADMSG, "%s: ca.key.pem and ca.cert.pem do not belong together",
                                     CLIENT_CA_DIR);
        *ret_key = TAKE_PTR(key);
        *ret_cert = TAKE_PTR(cert);
        return 1;
}

static int read_index(const Agent *a, ClientCertIndex *ret, char **reterr) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = agent_read_text(a, CA_INDEX, 16 * CA_MAX, &text, reterr);
        if (r < 0)
                return r;
        *ret = (ClientCertIndex) {};
        return text ? client_cert_index_parse(CA_INDEX, text, ret, reterr) : 0;
}

static int write_crl(const Agent *a, const char *key, const char *cert, const ClientCertIndex *idx, char **reterr) {
        _cleanup_free_ CrlEntry *list = calloc(idx->n + 1, sizeof(CrlEntry));
        _cleanup_free_ char *crl = NULL;
        size_t n = 0;
        int r;

        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < idx->n; i++)
                if (idx->entries[i].revoked)
                        list[n++] = (CrlEntry) { idx->entries[i].serial, idx->entries[i].revoked_at };
        /* The original's CRL number: the number of revoked certificates + 1. */
        r = pem_make_crl(key, cert, list, n, n + 1, CLIENT_CRL_DAYS, &crl);
        if (r < 0)
                return reterr_printf(reterr, r, "Cannot make the CRL: %s", strerror(-r));
        return agent_write_text(a, CA_CRL, crl, 0644, 0, 0, reterr);
}

/* The CA's RSA key takes seconds of a first boot under emulation and needs no input: when there is
 * no CA yet, it is made on a thread while the step does its other parts, and client_ca_ensure()
 * takes it. The process forks while the thread runs; the child only execs (spawn.c). */
static struct {
        pthread_t thread;
        bool started;
        int r;
        char *key;
} ca_key_job;

static void *ca_key_worker(void *userdata) {
        _cleanup_free_ char *pub = NULL;

        (void) userdata;
        ca_key_job.r = pem_make_rsa(CLIENT_CA_BITS, &ca_key_job.key, &pub);
        return NULL;
}

void client_ca_key_start(const Agent *a) {
        if (ca_key_job.started || agent_exists(a, CA_KEY) || agent_exists(a, CA_CERT))
                return;
        ca_key_job.key = NULL;
        ca_key_job.started = pthread_create(&ca_key_job.thread, NULL, ca_key_worker, NULL) == 0;
}

/* The key made on the thread, or NULL (none started, or it failed: the caller makes one). */
static char *ca_key_take(void) {
        if (!ca_key_job.started)
                return NULL;
        (void) pthread_join(ca_key_job.thread, NULL);
        ca_key_job.started = false;
        if (ca_key_job.r < 0) {
                free(ca_key_job.key);
                ca_key_job.key = NULL;
        }
        return TAKE_PTR(ca_key_job.key);
}

void client_ca_key_done(void) {
        free(ca_key_take());
}

int client_ca_ensure(const Agent *a, const char *domain, char **reterr) {
        _cleanup_free_ char *key = NULL, *cert = NULL, *cn = NULL;
        _cleanup_(client_cert_index_done) ClientCertIndex idx = {};
        uid_t uid;
        gid_t gid;
        int r, made = 0;

        /* Owner and mode as prepare-storage's layout makes the directory (the original's uid 1000). */
        if (owner_parse(a, "1000", &uid, &gid) < 0)
                uid = 0, gid = 0;
        r = agent_mkdir(a, CLIENT_CA_DIR, 0700, uid, gid, NULL);
        if (r < 0) {
                _cleanup_free_ char *why = agent_io_reason(a, CLIENT_CA_DIR, r);
                return reterr_printf(reterr, r, "Cannot make '%s': %s", CLIENT_CA_DIR, why ?: strerror(-r));
        }
        r = read_ca(a, &key, &cert, reterr);
        if (r < 0)
                return r;
        if (r == 0) {
                _cleanup_free_ char *made_key = ca_key_take();

                if (asprintf(&cn, "%s client CA", domain ?: "appliance") < 0)
                        return -ENOMEM;
                r = pem_make_ca(cn, made_key, CLIENT_CA_BITS, CLIENT_CA_DAYS, &key, &cert);
                if (r < 0)
                        return reterr_printf(reterr, r, "Cannot make the client CA: %s", strerror(-r));
                /* The key first: a certificate alone is refused by read_ca() next time. */
                r = agent_write_text(a, CA_KEY, key, 0600, 0, 0, reterr);
                if (r >= 0)
                        r = agent_write_text(a, CA_CERT, cert, 0644, 0, 0, reterr);
                if (r < 0)
                        return r;
                log_info("Made the client certificate authority '%s' in %s.", cn, CLIENT_CA_DIR);
                made = 1;
        }
        r = read_index(a, &idx, reterr);
        if (r < 0)
                return r;
        if (made || !agent_exists(a, CA_CRL)) {
                r = write_crl(a, key, cert, &idx, reterr);
                if (r < 0)
                        return r;
                made = 1;
        }
        return made;
}

bool client_ca_exists(const Agent *a) {
        return agent_exists(a, CA_CERT) && agent_exists(a, CA_CRL);
}

int client_ca_write_nginx(const Agent *a, const Env *env, bool verify, char **reterr) {
        int mandatory = env_get_bool(env, "appliance:ssl:client_certs_mandatory", false);
        _cleanup_free_ char *text = NULL;

        if (!verify) {
                static const char off[] = "# Written by appliance-agent: no client CA yet, no client verification.\n"
                                          "ssl_verify_client off;\n";
                return agent_write_text(a, CLIENT_CA_NGINX_SNIPPET, off, 0644, 0, 0, reterr);
        }
        if (asprintf(&text,
                     "# Written by appliance-agent from appliance:ssl:client_certs_mandatory (%s): client\n"
                     "# certificates of the appliance's CA (create-client-cert.sh), checked against its CRL.\n"
                     "ssl_client_certificate %s;\n"
                     "ssl_crl %s;\n"
                     "ssl_verify_client %s;\n"
                     "ssl_verify_depth 1;\n",
                     mandatory > 0 ? "true" : "false", CA_CERT, CA_CRL, mandatory > 0 ? "on" : "optional") < 0)
                return -ENOMEM;
        return agent_write_text(a, CLIENT_CA_NGINX_SNIPPET, text, 0644, 0, 0, reterr);
}

static char *p12_file_name(const char *name) {
        _cleanup_free_ char *s = strdup(name);
        char *path;

        if (!s)
                return NULL;
        for (char *p = s; *p; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p))
                        *p = '_';
        if (s[0] == '.')
                s[0] = '_';
        if (asprintf(&path, "%s/%s.p12", CLIENT_CERT_OUT_DIR, s) < 0)
                return NULL;
        return path;
}

int client_cert_issue(const Agent *a, const char *email, const char *name, unsigned days,
                      char password[static CLIENT_CERT_PASSWORD_LEN + 1], char **ret_serial, char **ret_path,
                      char **reterr) {
        _cleanup_free_ char *ca_key = NULL, *ca_cert = NULL, *key = NULL, *cert = NULL, *index = NULL, *path = NULL,
                            *serial_text = NULL;
        _cleanup_free_ void *p12 = NULL;
        _cleanup_(client_cert_index_done) ClientCertIndex idx = {};
        ClientCertEntry *n;
        uint64_t serial = 1;
        size_t p12_len;
        int r;

        r = client_cert_check_email(email, reterr);
        if (r >= 0)
                r = client_cert_check_name(name, reterr);
        if (r < 0)
                return r;
        r = read_ca(a, &ca_key, &ca_cert, reterr);
        if (r == 0)
                return reterr_printf(reterr, -ENOENT, "No client CA in %s yet (prepare-appliance makes it)",
                                     CLIENT_CA_DIR);
        if (r < 0)
                return r;
        r = read_index(a, &idx, reterr);
        if (r < 0)
                return r;
        for (size_t i = 0; i < idx.n; i++)
                if (idx.entries[i].serial >= serial)
                        serial = idx.entries[i].serial + 1;
        r = pem_issue_client_cert(ca_key, ca_cert, email, name, serial, CLIENT_CA_BITS, days, &key, &cert);
        if (r < 0)
                return reterr_printf(reterr, r, "Cannot issue the certificate: %s", strerror(-r));
        r = random_password(CLIENT_CERT_PASSWORD_LEN, password);
        if (r < 0)
                return reterr_printf(reterr, r, "No random bytes for the transport password: %s", strerror(-r));
        r = pkcs12_make(key, cert, ca_cert, name, password, &p12, &p12_len);
        if (r < 0)
                return reterr_printf(reterr, r, "Cannot make the PKCS#12 file: %s", strerror(-r));
        path = p12_file_name(name);
        serial_text = serial_hex(serial);
        if (!path || !serial_text)
                return -ENOMEM;

        n = reallocarray(idx.entries, idx.n + 1, sizeof *n);
        if (!n)
                return -ENOMEM;
        idx.entries = n;
        idx.entries[idx.n] = (ClientCertEntry) {
                .serial = serial,
                .not_after = time(NULL) + (time_t) days * 86400,
                .email = strdup(email),
                .name = strdup(name),
        };
        idx.n++;
        if (!idx.entries[idx.n - 1].email || !idx.entries[idx.n - 1].name)
                return -ENOMEM;
        index = client_cert_index_format(&idx);
        if (!index)
                return -ENOMEM;
        /* The record first: a serial is never handed out twice, even if the p12 cannot be written. */
        r = agent_write_text(a, CA_INDEX, index, 0600, 0, 0, reterr);
        if (r < 0)
                return r;
        r = agent_mkdir(a, CLIENT_CERT_OUT_DIR, 0700, 0, 0, NULL);
        if (r >= 0)
                r = agent_write_file(a, path, p12, p12_len, 0600, 0, 0);
        if (r < 0) {
                _cleanup_free_ char *why = agent_io_reason(a, path, r);
                return reterr_printf(reterr, r, "Cannot write '%s': %s", path, why ?: strerror(-r));
        }
        *ret_serial = TAKE_PTR(serial_text);
        *ret_path = TAKE_PTR(path);
        return 0;
}

int client_cert_revoke(const Agent *a, const char *what, char **reterr) {
        _cleanup_free_ char *ca_key = NULL, *ca_cert = NULL, *index = NULL;
        _cleanup_(client_cert_index_done) ClientCertIndex idx = {};
        size_t matched = 0, revoked = 0;
        uint64_t serial = 0;
        bool by_serial = parse_hex64(what, &serial) >= 0;
        time_t now = time(NULL);
        int r;

        r = read_ca(a, &ca_key, &ca_cert, reterr);
        if (r == 0)
                return reterr_printf(reterr, -ENOENT, "No client CA in %s", CLIENT_CA_DIR);
        if (r < 0)
                return r;
        r = read_index(a, &idx, reterr);
        if (r < 0)
                return r;
        for (size_t i = 0; i < idx.n; i++) {
                ClientCertEntry *e = &idx.entries[i];
                if (!streq(e->name, what) && !(by_serial && e->serial == serial))
                        continue;
                matched++;
                if (e->revoked)
                        continue;
                e->revoked = true;
                e->revoked_at = now;
                revoked++;
        }
        if (matched == 0)
                return reterr_printf(reterr, -ENOENT, "No certificate with the serial or name '%s' (see: %s list)",
                                     what, "revoke-client-cert.sh");
        if (revoked == 0)
                return reterr_printf(reterr, -EALREADY, "'%s' is revoked already", what);
        index = client_cert_index_format(&idx);
        if (!index)
                return -ENOMEM;
        r = agent_write_text(a, CA_INDEX, index, 0600, 0, 0, reterr);
        if (r < 0)
                return r;
        r = write_crl(a, ca_key, ca_cert, &idx, reterr);
        if (r < 0)
                return r;
        return (int) revoked;
}

int client_cert_list(const Agent *a, char **ret) {
        _cleanup_(client_cert_index_done) ClientCertIndex idx = {};
        _cleanup_free_ char *out = NULL, *err = NULL;
        size_t len = 0;
        FILE *f;
        int r;

        r = read_index(a, &idx, &err);
        if (r < 0) {
                if (err)
                        log_error("%s", err);
                return r;
        }
        f = open_memstream(&out, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, "%-8s %-8s %-20s %-32s %s\n", "SERIAL", "STATE", "EXPIRES", "EMAIL", "NAME");
        for (size_t i = 0; i < idx.n; i++) {
                const ClientCertEntry *e = &idx.entries[i];
                _cleanup_free_ char *s = serial_hex(e->serial);
                char when[32] = "?";
                struct tm tm;

                if (gmtime_r(&e->not_after, &tm))
                        strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
                fprintf(f, "%-8s %-8s %-20s %-32s %s\n", s ?: "?",
                        e->revoked ? "revoked" : e->not_after < time(NULL) ? "expired" : "valid", when, e->email,
                        e->name);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(out);
        return 0;
}
