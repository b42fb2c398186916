/**
 * Sentry events over its HTTP store API (manual: alerting; the original's ravencat.py): with
 * appliance:sentry:dsn in the active env, appliance failures (appliance-failed@), failed backups
 * and failed services (service-failed@) are sent as events. The message is the public reason
 * (agent_public_reason(): one bounded line, the env's secrets replaced), never the env, and the
 * DSN's secret part is never sent.
 *
 * The agent's HTTP client speaks plain http to numeric addresses and localhost (http.h): a DSN
 * for https or a host name is reported in the journal and in status as not served (a local
 * relay on the appliance's loopback is served).
 */
#pragma once

#include "agent.h"

typedef struct SentryDsn {
        char *store_url;     /* SCHEME://HOST[:PORT][/PREFIX]/api/PROJECT/store/ */
        char *public_key;
        char *project;
} SentryDsn;

void sentry_dsn_done(SentryDsn *d);
/* {SCHEME}://{PUBLIC_KEY}[:{SECRET}]@{HOST}[:PORT][/PREFIX]/{PROJECT_ID}; -EINVAL with the reason. */
int sentry_dsn_parse(const char *dsn, SentryDsn *ret, char **reterr);
/* Whether the agent's client can send to it; the reason in *reterr if not. */
int sentry_dsn_servable(const SentryDsn *d, char **reterr);

/* The event's JSON: event_id (32 hex), timestamp (ISO 8601 UTC), level, logger "appliance.status",
 * platform "other", culprit, message, server_name, tags.domain. */
int sentry_event_render(const char *event_id, const char *timestamp, const char *level, const char *culprit,
                        const char *message, const char *server_name, const char *domain, char **ret);
/* The X-Sentry-Auth header line (with CRLF). */
int sentry_auth_header(const SentryDsn *d, long long now_sec, char **ret);

/* Sends one event if the active env has a DSN: 1 sent, 0 no DSN, <0 error (logged). */
int sentry_send(const Agent *a, const char *level, const char *culprit, const char *message);
