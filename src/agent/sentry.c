/**
 * Sentry events (see sentry.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "cleanup.h"
#include "http.h"
#include "json-util.h"
#include "log.h"
#include "random-util.h"
#include "reterr.h"
#include "sentry.h"

void sentry_dsn_done(SentryDsn *d) {
        free(d->store_url);
        free(d->public_key);
        free(d->project);
        *d = (SentryDsn) {};
}

int sentry_dsn_parse(const char *dsn, SentryDsn *ret, char **reterr) {
        _cleanup_free_ char *scheme = NULL, *key = NULL, *hostpath = NULL;
        const char *p, *at, *slash, *project;
        SentryDsn d = {};

        p = dsn ? strstr(dsn, "://") : NULL;
        if (!p)
                return reterr_printf(reterr, -EINVAL, "appliance:sentry:dsn: no scheme");
        scheme = strndup(dsn, (size_t) (p - dsn));
        p += 3;
        at = strchr(p, '@');
        if (!scheme || !at)
                return reterr_printf(reterr, scheme ? -EINVAL : -ENOMEM, "appliance:sentry:dsn: no public key");
        if (!streq(scheme, "http") && !streq(scheme, "https"))
                return reterr_printf(reterr, -EINVAL, "appliance:sentry:dsn: scheme '%s' is not http or https", scheme);
        key = strndup(p, strcspn(p, ":@")); /* the secret after ':' is dropped */
        hostpath = strdup(at + 1);
        if (!key || !hostpath)
                return -ENOMEM;
        if (isempty(key) || strspn(key, "0123456789abcdefABCDEF") != strlen(key))
                return reterr_printf(reterr, -EINVAL, "appliance:sentry:dsn: the public key is not hexadecimal");
        slash = strrchr(hostpath, '/');
        if (!slash || slash == hostpath)
                return reterr_printf(reterr, -EINVAL, "appliance:sentry:dsn: no project id");
        project = slash + 1;
        if (isempty(project) || strspn(project, "0123456789") != strlen(project))
                return reterr_printf(reterr, -EINVAL, "appliance:sentry:dsn: the project id is not a number");
        for (const char *c = hostpath; *c; c++)
                if ((unsigned char) *c <= ' ' || *c == '"' || *c == '\\' || (unsigned char) *c >= 0x7f)
                        return reterr_printf(reterr, -EINVAL, "appliance:sentry:dsn: a character that a URL cannot hold");
        d.project = strdup(project);
        if (!d.project ||
            asprintf(&d.store_url, "%s://%.*s/api/%s/store/", scheme, (int) (slash - hostpath), hostpath, project) < 0) {
                sentry_dsn_done(&d);
                return -ENOMEM;
        }
        d.public_key = TAKE_PTR(key);
        *ret = d;
        return 0;
}

int sentry_dsn_servable(const SentryDsn *d, char **reterr) {
        const char *host;
        size_t n;

        if (!startswith(d->store_url, "http://"))
                return reterr_printf(reterr, -EPROTONOSUPPORT,
                                     "appliance:sentry:dsn: https is not served by the agent's HTTP client "
                                     "(use a relay on the appliance's loopback, http://KEY@127.0.0.1:PORT/ID)");
        host = d->store_url + 7;
        n = strcspn(host, ":/");
        if ((n == 9 && strneq(host, "localhost", 9)) || (host[0] == '[') ||
            strspn(host, "0123456789.") == n)
                return 0;
        return reterr_printf(reterr, -EPROTONOSUPPORT,
                             "appliance:sentry:dsn: host '%.*s' is a name; the agent sends only to numeric "
                             "addresses and localhost",
                             (int) n, host);
}

int sentry_event_render(const char *event_id, const char *timestamp, const char *level, const char *culprit,
                        const char *message, const char *server_name, const char *domain, char **ret) {
        _cleanup_free_ char *id = json_quote(event_id), *ts = json_quote(timestamp), *lv = json_quote(level),
                           *cu = json_quote(culprit), *msg = json_quote(message), *sn = json_quote(server_name),
                           *dom = json_quote(domain ?: "");

        if (!id || !ts || !lv || !cu || !msg || !sn || !dom)
                return -ENOMEM;
        return asprintf(ret,
                        "{\"event_id\": %s, \"timestamp\": %s, \"level\": %s, \"logger\": \"appliance.status\", "
                        "\"platform\": \"other\", \"culprit\": %s, \"message\": %s, \"server_name\": %s, "
                        "\"tags\": {\"domain\": %s}}",
                        id, ts, lv, cu, msg, sn, dom) < 0 ? -ENOMEM : 0;
}

int sentry_auth_header(const SentryDsn *d, long long now_sec, char **ret) {
        return asprintf(ret,
                        "X-Sentry-Auth: Sentry sentry_version=7, sentry_client=appliance-agent/1, "
                        "sentry_timestamp=%lld, sentry_key=%s\r\nContent-Type: application/json\r\n",
                        now_sec, d->public_key) < 0 ? -ENOMEM : 0;
}

int sentry_send(const Agent *a, const char *level, const char *culprit, const char *message) {
        _cleanup_(env_freep) Env *env = NULL;
        _cleanup_free_ char *err = NULL, *body = NULL, *auth = NULL, *pub = NULL, *host = NULL;
        _cleanup_(sentry_dsn_done) SentryDsn d = {};
        unsigned char raw[16];
        char id[33], ts[32];
        const char *dsn;
        time_t now = time(NULL);
        struct tm tm;
        int r, status = 0;

        if (!agent_exists(a, AGENT_ACTIVE_ENV) || agent_load_active_env(a, &env) < 0)
                return 0;
        dsn = env_get_string(env, "appliance:sentry:dsn", NULL);
        if (isempty(dsn))
                return 0;
        r = sentry_dsn_parse(dsn, &d, &err);
        if (r >= 0)
                r = sentry_dsn_servable(&d, &err);
        if (r < 0) {
                log_warning("Not sent to Sentry: %s", err ?: strerror(-r));
                return r;
        }
        r = random_bytes(raw, sizeof raw);
        if (r < 0)
                return r;
        for (size_t i = 0; i < sizeof raw; i++)
                snprintf(id + 2 * i, 3, "%02x", raw[i]);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        pub = agent_public_reason(a, message, env);
        host = agent_read_line(a, "/etc/hostname");
        if (!pub)
                return log_oom();
        r = sentry_event_render(id, ts, level, culprit, pub, host ?: "appliance",
                                env_get_string(env, "appliance:domain", NULL), &body);
        if (r >= 0)
                r = sentry_auth_header(&d, (long long) now, &auth);
        if (r < 0)
                return log_oom();
        r = http_request_body("POST", d.store_url, auth, body, strlen(body), 10000, 64 * 1024, &status, NULL, NULL);
        if (r < 0 || status < 200 || status >= 300) {
                log_warning("Sending the event to Sentry failed: %s", r < 0 ? strerror(-r) : "HTTP error");
                return r < 0 ? r : -EPROTO;
        }
        log_info("Sent a Sentry event (%s, %s): %s", level, culprit, pub);
        return 1;
}
