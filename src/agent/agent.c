/**
 * Agent state: paths under the root, the failed and standby flags, the per-step records, the
 * maintenance page and status.json, sd_notify() and systemctl.
 *
 * The failed flag exists under two names: /run/appliance-failed (the reference) and
 * /run/appliance_failed (the administration manual's spelling). The agent always writes both; the
 * state counts as failed only while both exist, so the manual's recovery ("rm /run/appliance_failed;
 * systemctl restart appliance") works with either spelling. The units express the same thing with
 * two triggering conditions (ConditionPathExists=|!...), and the next step removes the leftover name.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "agent-path.h"
#include "cleanup.h"
#include "env-check.h"
#include "env-schema.h"
#include "escape.h"
#include "fileio.h"
#include "log.h"
#include "parse-util.h"
#include "reterr.h"
#include "spawn.h"
#include "strv.h"

static const char *const step_result_table[_STEP_RESULT_MAX] = {
        [STEP_OK] = "ok",
        [STEP_CHANGED] = "changed",
        [STEP_FAILED] = "failed",
        [STEP_STANDBY] = "standby",
        [STEP_REFUSED] = "refused",
        [STEP_UNCONFIGURED] = "unconfigured",
};

const char *step_result_to_string(StepResult r) {
        if (r < 0 || r >= _STEP_RESULT_MAX)
                return NULL;
        return step_result_table[r];
}

uint64_t now_usec(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

/* Writes text to an agent path (creating the parents), atomically, through the root fd. */
static int agent_write(const Agent *a, const char *path, const char *text, mode_t mode) {
        int r = agent_write_file(a, path, text, strlen(text), mode, (uid_t) -1, (gid_t) -1);
        return r < 0 ? r : 0;
}

/* The two names of the failed flag are written one after the other: a check between the two writes
 * would take the one name it sees for an administrator's rm of the other and clear the state. So
 * both writes and every check hold an flock of /run (a lock without a file of its own). Where /run
 * cannot be opened, *ret_fd stays -EBADF and the caller goes on unlocked. */
static void failed_flag_lock(const Agent *a, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;

        if (agent_open(a, "/run", O_RDONLY | O_DIRECTORY | O_CLOEXEC, &fd) < 0)
                return;
        if (flock(fd, LOCK_EX) < 0)
                return;
        *ret_fd = TAKE_FD(fd);
}

int agent_failed_check(const Agent *a, char **ret_reason) {
        _cleanup_close_ int lock = -EBADF;
        bool hyphen, underscore;

        failed_flag_lock(a, &lock);
        hyphen = agent_exists(a, AGENT_FAILED_FLAG);
        underscore = agent_exists(a, AGENT_FAILED_FLAG_MANUAL);

        if (hyphen && underscore) {
                if (ret_reason) {
                        char *text = NULL;

                        if (agent_read_file(a, AGENT_FAILED_FLAG, 64 * 1024, &text, NULL) < 0)
                                text = strdup("unknown reason");
                        if (!text)
                                return -ENOMEM;
                        text[strcspn(text, "\n")] = 0;
                        *ret_reason = text;
                }
                return -EBUSY;
        }
        if (hyphen || underscore) {
                /* The administrator removed one of the two names: the failed state is cleared. */
                log_info("Failed flag removed by the administrator, clearing '%s'.",
                         hyphen ? AGENT_FAILED_FLAG : AGENT_FAILED_FLAG_MANUAL);
                (void) agent_unlink(a, AGENT_FAILED_FLAG);
                (void) agent_unlink(a, AGENT_FAILED_FLAG_MANUAL);
        }
        return 0;
}

/* Length of the valid UTF-8 sequence at s (1-4), 0 if there is none. */
static size_t utf8_sequence(const unsigned char *s) {
        size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;

        if (n == 2 && s[0] < 0xc2)
                return 0; /* overlong */
        for (size_t i = 1; i < n; i++)
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
        return n;
}

char *agent_public_line(const char *s) {
        size_t len = 0, cut = 0;
        char *out;

        out = malloc(AGENT_PUBLIC_MAX + 1);
        if (!out)
                return NULL;
        for (const unsigned char *c = (const unsigned char *) (s ?: ""); *c;) {
                size_t n = utf8_sequence(c);

                if (len + MAX(n, (size_t) 1) > AGENT_PUBLIC_MAX) {
                        /* Too long: cut at a character boundary, with room for the ellipsis. */
                        len = cut;
                        memcpy(out + len, "...", 3);
                        len += 3;
                        break;
                }
                if (n == 0 || (n == 1 && (*c < 0x20 || *c == 0x7f))) {
                        out[len++] = n == 0 ? '?' : ' '; /* invalid UTF-8, line ends and other controls */
                        c++;
                } else {
                        memcpy(out + len, c, n);
                        len += n;
                        c += n;
                }
                if (len <= AGENT_PUBLIC_MAX - 3)
                        cut = len;
        }
        out[len] = 0;
        return out;
}

/* Whether a key's name says that its value (and everything below it) is a secret. Redacting more
 * than needed costs nothing: only the public copy of a reason is redacted. */
static bool secret_key_name(const char *key) {
        static const char *const words[] = { "secret", "password", "passwd", "token", "key", "encrypt", "sign",
                                             "settings", "content", "dsn", "credential", "private" };
        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (key && strcasestr(key, words[i]))
                        return true;
        return false;
}

#define SECRET_MIN 6 /* shorter values are not searched for */
#define REDACTED "[secret]"

static int redact_value(char **text, const char *value) {
        size_t vl = strlen(value);
        char *at;

        if (vl < SECRET_MIN)
                return 0;
        while ((at = strstr(*text, value))) {
                size_t pre = (size_t) (at - *text);
                char *n;

                if (asprintf(&n, "%.*s" REDACTED "%s", (int) pre, *text, at + vl) < 0)
                        return -ENOMEM;
                free(*text);
                *text = n;
        }
        return 0;
}

/* Replaces, in *text, every value (and every line of a multi-line value) found below a secret key. */
static int redact_node(char **text, const EnvNode *n, bool secret, unsigned depth) {
        int r;

        if (!n || depth > 64)
                return 0;
        if (env_node_type(n) == ENV_NODE_SCALAR) {
                _cleanup_free_ char *v = secret ? strdup(env_node_string(n)) : NULL;

                if (!secret)
                        return 0;
                if (!v)
                        return -ENOMEM;
                r = redact_value(text, v);
                for (char *l = v, *e; r >= 0 && l && *l; l = e ? e + 1 : NULL) {
                        e = strchr(l, '\n');
                        if (e)
                                *e = 0;
                        r = redact_value(text, l + strspn(l, " \t"));
                }
                return r;
        }
        for (size_t i = 0; i < env_node_size(n); i++) {
                r = redact_node(text, env_node_item(n, i), secret || secret_key_name(env_node_key(n, i)), depth + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

char *agent_public_reason(const Agent *a, const char *reason, const Env *env) {
        _cleanup_(env_freep) Env *active = NULL;
        _cleanup_free_ char *text = NULL, *body = NULL;
        size_t len, body_len;

        /* No reason quotes more than a few KiB of secrets: what lies beyond this is never shown. */
        len = strnlen(reason ?: "", AGENT_REASON_SCAN);
        text = strndup(reason ?: "", len);
        if (!text)
                return NULL;
        if (a && agent_read_file(a, AGENT_ACTIVE_ENV, 16U * 1024U * 1024U, &body, &body_len) >= 0)
                (void) env_load_buffer(AGENT_ACTIVE_ENV, body, body_len, &active, NULL);
        if (redact_node(&text, env_root(env), false, 0) < 0 || redact_node(&text, env_root(active), false, 0) < 0)
                return NULL;
        /* A reason cut at the scan limit that quotes secrets might end in part of one that the
         * redaction did not recognize: such a reason is not shown at all. */
        if (len == AGENT_REASON_SCAN && strstr(text, REDACTED))
                return strdup("(the reason is in the journal: journalctl -b -u 'prepare-*' -u appliance)");
        return agent_public_line(text);
}

int agent_set_failed_step(const Agent *a, const char *step, const char *reason) {
        _cleanup_free_ char *pub = agent_public_reason(a, reason, NULL), *text = NULL, *page = NULL;
        int r;

        /* Root only (the manual's "rm /run/appliance_failed" works as before); what the pages and
         * status.json show of it is the public, bounded form. */
        if (!pub || asprintf(&text, "%s\n", pub) < 0)
                return -ENOMEM;
        {
                _cleanup_close_ int lock = -EBADF;

                failed_flag_lock(a, &lock);
                r = agent_write(a, AGENT_FAILED_FLAG, text, 0600);
                if (r < 0)
                        return r;
                r = agent_write(a, AGENT_FAILED_FLAG_MANUAL, text, 0600);
                if (r < 0)
                        return r;
        }
        (void) agent_unlink(a, AGENT_READY_FLAG);
        if (step && asprintf(&page, "Step %s failed: %s", step, pub) < 0)
                return -ENOMEM;
        (void) agent_write_status_page(a, "Appliance Error", page ?: pub);
        return 0;
}

int agent_set_failed(const Agent *a, const char *reason) {
        return agent_set_failed_step(a, NULL, reason);
}

bool agent_standby(const Agent *a) {
        return agent_exists(a, AGENT_STANDBY_FLAG);
}

bool agent_unconfigured(const Agent *a) {
        return agent_exists(a, AGENT_UNCONFIGURED_FLAG);
}

/* The first line of an agent file, or NULL. */
char *agent_read_line(const Agent *a, const char *path) {
        char *text = NULL;

        if (agent_read_file(a, path, 64 * 1024, &text, NULL) < 0)
                return NULL;
        text[strcspn(text, "\n")] = 0;
        return text;
}

static bool valid_step_name(const char *s) {
        return !isempty(s) && strspn(s, "abcdefghijklmnopqrstuvwxyz-") == strlen(s);
}

int agent_record_step(const Agent *a, const char *step, StepResult result, const char *message,
                      uint64_t duration_usec, const char *source) {
        _cleanup_free_ char *path = NULL, *text = NULL, *msg = agent_public_line(message),
                           *src = agent_public_line(source);
        int r;

        if (!valid_step_name(step))
                return -EINVAL;
        if (!msg || !src)
                return -ENOMEM;
        if (asprintf(&path, "%s/%s", AGENT_STATE_DIR, step) < 0)
                return -ENOMEM;
        /* The one line per step an administrator (and the serial console) sees. */
        log_full(result == STEP_FAILED ? LOG_ERR : LOG_NOTICE, "Step %s: %s%s%s (%.1fs)", step,
                 strna(step_result_to_string(result)), *msg ? ": " : "", msg, (double) duration_usec / 1e6);
        if (asprintf(&text, "RESULT=%s\nMESSAGE=%s\nDURATION_USEC=%llu\nFINISHED_USEC=%llu\n%s%s%s",
                     step_result_to_string(result), msg, (unsigned long long) duration_usec,
                     (unsigned long long) now_usec(), *src ? "SOURCE=" : "", src, *src ? "\n" : "") < 0)
                return -ENOMEM;
        r = agent_write(a, path, text, 0644);
        /* The callers go on (the step's own result stands), so say it here: status and the pages
         * will not show this step's result. */
        return r < 0 ? agent_log_io_error(a, "record the step in", path, r) : 0;
}

/* A small "KEY=value" lookup in a step record. Returns a pointer into a newly allocated copy. */
static char *record_get(const char *text, const char *key) {
        size_t kl = strlen(key);

        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (strneq(l, key, kl) && l[kl] == '=')
                        return strndup(l + kl + 1, strcspn(l + kl + 1, "\n"));
        return NULL;
}

static char *record_get_public(const char *text, const char *key) {
        _cleanup_free_ char *v = record_get(text, key);
        return v ? agent_public_line(v) : NULL;
}

/* The boot steps, always listed; then the jobs, listed once they ran. */
static const char *const step_order[] = { "prepare-env", "prepare-storage", "prepare-appliance", "appliance",
                                          "backup", "recovery", "appliance-update" };
#define N_BOOT_STEPS 4

typedef struct StatusData {
        char *state;
        char *failed_reason;
        const char *failed_step;  /* the first step recorded as failed while the flag is set */
        char *env_source;
        char *unconfigured_reason;
        char *recovery_reason;    /* AGENT_RECOVERY_FLAG: empty database, a backup to recover */
        char **notes;             /* AGENT_NOTES_FILE: what the image does not act on */
        char *step_text[ELEMENTSOF(step_order)];
        /* /run/appliance/services, one "UNIT\tSTATE\tHEALTH" line per service, split once:
         * service_fields[i] holds the three fields of service i. */
        char ***service_fields;
        size_t n_services;
} StatusData;

static void status_data_done(StatusData *d) {
        free(d->state);
        free(d->failed_reason);
        free(d->env_source);
        free(d->unconfigured_reason);
        free(d->recovery_reason);
        strv_free(d->notes);
        for (size_t i = 0; i < ELEMENTSOF(step_order); i++)
                free(d->step_text[i]);
        for (size_t i = 0; i < d->n_services; i++)
                strv_free(d->service_fields[i]);
        free(d->service_fields);
}

static int status_data_load_services(const Agent *a, StatusData *d) {
        _cleanup_free_ char *text = NULL;
        _cleanup_strv_free_ char **lines = NULL;

        if (agent_read_file(a, "/run/appliance/services", 64 * 1024, &text, NULL) < 0)
                return 0; /* no services recorded yet */
        if (strv_split(text, "\n", &lines) < 0)
                return -ENOMEM;
        d->service_fields = calloc(strv_length(lines) + 1, sizeof(char **));
        if (!d->service_fields)
                return -ENOMEM;
        STRV_FOREACH(l, lines) {
                char **fields = NULL;

                if (strv_split(*l, "\t", &fields) < 0)
                        return -ENOMEM;
                if (strv_length(fields) < 3) {
                        strv_free(fields);
                        continue;
                }
                d->service_fields[d->n_services++] = fields;
        }
        return 0;
}

static int make_public(char **s) {
        char *p;

        if (!*s)
                return 0;
        p = agent_public_line(*s);
        if (!p)
                return -ENOMEM;
        free(*s);
        *s = p;
        return 0;
}

/* Everything the status shows is public (status.json, index.html): one bounded line per value
 * (step messages through record_get_public()). */
static int status_data_make_public(StatusData *d) {
        int r = make_public(&d->failed_reason);

        if (r >= 0)
                r = make_public(&d->env_source);
        if (r >= 0)
                r = make_public(&d->unconfigured_reason);
        if (r >= 0)
                r = make_public(&d->recovery_reason);
        for (char **n = d->notes; r >= 0 && n && *n; n++)
                r = make_public(n);
        for (size_t i = 0; i < d->n_services && r >= 0; i++)
                for (char **f = d->service_fields[i]; r >= 0 && *f; f++)
                        r = make_public(f);
        return r;
}

static int status_data_load(const Agent *a, StatusData *d) {
        const char *state;
        int r;

        *d = (StatusData) {};
        r = agent_failed_check(a, &d->failed_reason);
        if (r < 0 && r != -EBUSY)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(step_order); i++) {
                _cleanup_free_ char *rel = NULL;

                if (asprintf(&rel, "%s/%s", AGENT_STATE_DIR, step_order[i]) < 0)
                        return -ENOMEM;
                (void) agent_read_file(a, rel, 64 * 1024, &d->step_text[i], NULL);
        }
        if (d->step_text[0])
                d->env_source = record_get(d->step_text[0], "SOURCE");
        r = status_data_load_services(a, d);
        if (r < 0)
                return r;
        {
                _cleanup_free_ char *text = NULL;
                if (agent_read_file(a, AGENT_NOTES_FILE, 1024 * 1024, &text, NULL) >= 0 &&
                    strv_split(text, "\n", &d->notes) < 0)
                        return -ENOMEM;
        }
        d->unconfigured_reason = agent_read_line(a, AGENT_UNCONFIGURED_FLAG);
        d->recovery_reason = agent_read_line(a, AGENT_RECOVERY_FLAG);
        r = status_data_make_public(d);
        if (r < 0)
                return r;

        for (size_t i = 0; d->failed_reason && !d->failed_step && i < ELEMENTSOF(step_order); i++) {
                _cleanup_free_ char *res = d->step_text[i] ? record_get(d->step_text[i], "RESULT") : NULL;
                if (res && streq(res, "failed"))
                        d->failed_step = step_order[i];
        }
        if (d->failed_reason)
                state = "failed";
        else if (agent_standby(a))
                state = "standby";
        else if (d->unconfigured_reason)
                state = "unconfigured";
        else if (d->recovery_reason)
                state = "waiting-for-recovery";
        else if (agent_exists(a, AGENT_READY_FLAG))
                state = "ready";
        else if (!agent_exists(a, AGENT_ACTIVE_ENV))
                state = "unconfigured";
        else
                state = "starting";
        d->state = strdup(state);
        return d->state ? 0 : -ENOMEM;
}

/* The start of both status renderings: the data, and a memory stream to print them into. */
static int status_begin(const Agent *a, StatusData *d, FILE **ret_f, char **out, size_t *len) {
        int r = status_data_load(a, d);

        if (r < 0)
                return r;
        *ret_f = open_memstream(out, len);
        return *ret_f ? 0 : -ENOMEM;
}

int agent_status_json(const Agent *a, char **ret) {
        _cleanup_(status_data_done) StatusData d = {};
        _cleanup_free_ char *out = NULL;
        size_t len = 0;
        FILE *f = NULL;
        int r;

        r = status_begin(a, &d, &f, &out, &len);
        if (r < 0)
                return r;
        {
                _cleanup_free_ char *st = json_quote(d.state), *fr = d.failed_reason ? json_quote(d.failed_reason) : NULL,
                                   *es = d.env_source ? json_quote(d.env_source) : NULL;
                fprintf(f, "{\n  \"state\": %s,\n  \"failed_reason\": %s,\n  \"failed_step\": %s%s%s,\n"
                        "  \"env_source\": %s,\n", st, fr ?: "null", d.failed_step ? "\"" : "",
                        d.failed_step ?: "null", d.failed_step ? "\"" : "", es ?: "null");
        }
        fputs("  \"unconfigured_reason\": ", f);
        if (d.unconfigured_reason)
                json_write_string(f, d.unconfigured_reason);
        else
                fputs("null", f);
        fputs(",\n  \"recovery_reason\": ", f);
        if (d.recovery_reason)
                json_write_string(f, d.recovery_reason);
        else
                fputs("null", f);
        fputs(",\n  \"notes\": [", f);
        STRV_FOREACH(n, d.notes) {
                fputs(n == d.notes ? "\n    " : ",\n    ", f);
                json_write_string(f, *n);
        }
        fputs(d.notes ? "\n  ],\n  \"steps\": [" : "],\n  \"steps\": [", f);
        for (size_t i = 0; i < ELEMENTSOF(step_order); i++) {
                _cleanup_free_ char *name = json_quote(step_order[i]), *res = NULL, *msg = NULL, *dur = NULL,
                                   *qres = NULL, *qmsg = NULL;

                if (i >= N_BOOT_STEPS && !d.step_text[i])
                        continue;
                if (d.step_text[i]) {
                        res = record_get(d.step_text[i], "RESULT");
                        msg = record_get_public(d.step_text[i], "MESSAGE");
                        dur = record_get(d.step_text[i], "DURATION_USEC");
                }
                qres = json_quote(res ?: "pending");
                qmsg = json_quote(msg ?: "");
                fprintf(f, "%s\n    { \"name\": %s, \"result\": %s, \"message\": %s, \"duration_usec\": %s }",
                        i ? "," : "", name, qres, qmsg, dur && *dur ? dur : "null");
        }
        fputs("\n  ],\n  \"services\": [", f);
        for (size_t i = 0; i < d.n_services; i++) {
                char **fields = d.service_fields[i];

                fprintf(f, "%s\n    { \"unit\": ", i ? "," : "");
                json_write_string(f, fields[0]);
                fputs(", \"state\": ", f);
                json_write_string(f, fields[1]);
                fputs(", \"health\": ", f);
                json_write_string(f, fields[2]);
                fputs(" }", f);
        }
        fputs(d.n_services ? "\n  ]\n}\n" : "]\n}\n", f);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(out);
        return 0;
}

int agent_status_text(const Agent *a, char **ret) {
        _cleanup_(status_data_done) StatusData d = {};
        _cleanup_free_ char *out = NULL;
        size_t len = 0;
        FILE *f = NULL;
        int r;

        r = status_begin(a, &d, &f, &out, &len);
        if (r < 0)
                return r;
        fprintf(f, "State: %s\n", d.state);
        if (d.failed_reason)
                fprintf(f, "Failed: %s\n  (remove %s to recover, then: systemctl restart appliance)\n",
                        d.failed_reason, AGENT_FAILED_FLAG_MANUAL);
        if (d.failed_step)
                fprintf(f, "Failed step: %s\n", d.failed_step);
        if (d.unconfigured_reason)
                fprintf(f, "Unconfigured: %s\n", d.unconfigured_reason);
        if (d.recovery_reason)
                fprintf(f, "Waiting: %s\n", d.recovery_reason);
        fprintf(f, "Env source: %s\n", d.env_source ?: "none");
        fputs("Steps:\n", f);
        for (size_t i = 0; i < ELEMENTSOF(step_order); i++) {
                _cleanup_free_ char *res = NULL, *msg = NULL, *dur = NULL;
                uint64_t us = 0;

                if (i >= N_BOOT_STEPS && !d.step_text[i])
                        continue;
                if (d.step_text[i]) {
                        res = record_get(d.step_text[i], "RESULT");
                        msg = record_get_public(d.step_text[i], "MESSAGE");
                        dur = record_get(d.step_text[i], "DURATION_USEC");
                }
                if (dur)
                        (void) safe_atou64(dur, &us);
                fprintf(f, "  %-18s %-8s %7.3fs  %s\n", step_order[i], res ?: "pending", (double) us / 1e6,
                        msg ?: "");
        }
        if (d.notes) {
                fputs("Notes (not supported by this image, or refused):\n", f);
                STRV_FOREACH(n, d.notes)
                        fprintf(f, "  %s\n", *n);
        }
        fputs("Services:\n", f);
        if (d.n_services == 0)
                fputs("  (none)\n", f);
        for (size_t i = 0; i < d.n_services; i++)
                fprintf(f, "  %-24s %-8s %s\n", d.service_fields[i][0], d.service_fields[i][1],
                        d.service_fields[i][2]);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(out);
        return 0;
}

/* The status page nginx shows once the appliance is ready: the state and the status text. */
static int write_index_page(const Agent *a, const char *title_html, const char *text_html) {
        _cleanup_free_ char *status = NULL, *status_html = NULL, *html = NULL;
        int r;

        r = agent_status_text(a, &status);
        if (r < 0)
                return r;
        status_html = html_escape(status);
        if (!status_html)
                return -ENOMEM;
        if (asprintf(&html,
                     "<!DOCTYPE html>\n"
                     "<html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"30\">\n"
                     "<title>%s</title>\n"
                     "<style>body{font-family:sans-serif;margin:4em auto;max-width:48em;color:#333}"
                     "pre{background:#f4f4f4;padding:1em}</style>\n"
                     "</head><body>\n<h1>%s</h1>\n<p>%s</p>\n<pre>%s</pre>\n"
                     "<p><a href=\"/status.json\">status.json</a></p>\n</body></html>\n",
                     title_html, title_html, text_html, status_html) < 0)
                return -ENOMEM;
        return agent_write(a, AGENT_WWW_DIR "/index.html", html, 0644);
}

int agent_write_status_page(const Agent *a, const char *title, const char *text) {
        _cleanup_free_ char *reason = NULL, *t = NULL, *x = NULL, *html = NULL, *json = NULL;
        int r;

        /* While unconfigured the page says so (and how to configure), whatever step runs. */
        if (!streq(title, "Appliance Error") && (reason = agent_read_line(a, AGENT_UNCONFIGURED_FLAG))) {
                title = "Appliance Unconfigured";
                text = reason;
        }
        _cleanup_free_ char *line = agent_public_line(text);
        if (!line)
                return -ENOMEM;
        t = html_escape(title);
        x = html_escape(line);
        if (!t || !x)
                return -ENOMEM;
        if (asprintf(&html,
                     "<!DOCTYPE html>\n"
                     "<html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"30\">\n"
                     "<title>%s</title>\n"
                     "<style>body{font-family:sans-serif;margin:4em auto;max-width:40em;color:#333}</style>\n"
                     "</head><body>\n<h1>%s</h1>\n<p>%s</p>\n"
                     "<p><small>This page reloads every 30 seconds.</small></p>\n</body></html>\n",
                     t, t, x) < 0)
                return -ENOMEM;
        r = agent_write(a, AGENT_WWW_DIR "/503.html", html, 0644);
        if (r < 0)
                return r;
        r = agent_status_json(a, &json);
        if (r < 0)
                return r;
        r = agent_write(a, AGENT_WWW_DIR "/status.json", json, 0644);
        if (r < 0)
                return r;
        return write_index_page(a, t, x);
}

int agent_notify(const char *msg) {
        const char *e = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        size_t l;

        if (isempty(e))
                return 0;
        l = strlen(e);
        if ((e[0] != '/' && e[0] != '@') || l >= sizeof sa.sun_path)
                return -EINVAL;
        memcpy(sa.sun_path, e, l);
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = 0;   /* abstract namespace */
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *) &sa,
                   (socklen_t) (offsetof(struct sockaddr_un, sun_path) + l)) < 0)
                return -errno;
        return 1;
}

int agent_notifyf(const char *fmt, ...) {
        _cleanup_free_ char *m = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&m, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return agent_notify(m);
}

int agent_systemctl(const Agent *a, const char *verb, const char *unit) {
        _cleanup_strv_free_ char **argv = NULL;
        int r;

        r = strv_split(a->systemctl, " ", &argv);
        if (r < 0)
                return r;
        if (strv_length(argv) == 0)
                return -EINVAL;
        if (streq(verb, "is-active") || streq(verb, "is-failed"))
                r = strv_extend(&argv, "--quiet");
        else if (streq(verb, "start-no-block")) {
                r = strv_extend(&argv, "--no-block");
                verb = "start";
        }
        if (r >= 0)
                r = strv_extend(&argv, verb);
        if (r >= 0 && !isempty(unit))
                r = strv_extend(&argv, unit);
        if (r < 0)
                return r;
        return spawn_capture(argv, NULL, 0, SPAWN_NULL_STDOUT, NULL, NULL);
}

int agent_unit_dropin(const Agent *a, const char *path, const char *text, char **reterr) {
        int r;

        if (text)
                r = agent_write_text(a, path, text, 0644, 0, 0, reterr);
        else if (!agent_exists(a, path))
                r = 0;
        else {
                r = agent_unlink(a, path);
                if (r < 0)
                        return reterr_printf(reterr, r, "cannot remove '%s': %s", path, strerror(-r));
                r = 1;
        }
        if (r > 0 && agent_is_host_root(a))
                (void) agent_systemctl(a, "daemon-reload", NULL);
        return r;
}

int agent_step_begin(const Agent *a, const char *step, Env **ret_env) {
        _cleanup_free_ char *reason = NULL;
        int r;

        r = agent_failed_check(a, &reason);
        if (r == -EBUSY) {
                log_error("Refusing to run %s: the appliance failed: %s", step, reason);
                log_error("Resolve the issue, then: rm %s; systemctl restart appliance", AGENT_FAILED_FLAG_MANUAL);
                (void) agent_notifyf("STATUS=Refused: appliance failed: %s", reason);
                return -EBUSY;
        }
        if (r < 0)
                return log_error_errno(r, "Failed to check the failed flag: %m");
        if (agent_standby(a)) {
                log_notice("Appliance Standby: not running %s.", step);
                (void) agent_record_step(a, step, STEP_STANDBY, "Appliance Standby", 0, NULL);
                (void) agent_notify("STATUS=Appliance Standby");
                return 0;
        }
        if (agent_unconfigured(a) && !agent_exists(a, AGENT_ACTIVE_ENV)) {
                r = agent_placeholder_env(a, ret_env);
                if (r < 0)
                        return log_error_errno(r, "Failed to make the placeholder env: %m");
                log_info("Unconfigured: %s runs with the host name as appliance:domain.", step);
                return 2;
        }
        r = agent_load_active_env(a, ret_env);
        if (r < 0)
                return r;
        return 1;
}

int agent_placeholder_env(const Agent *a, Env **ret) {
        _cleanup_free_ char *name = agent_read_line(a, "/etc/hostname"), *text = NULL;

        if (!name || !env_hostname_is_valid(name)) {
                free(name);
                name = strdup("appliance");
                if (!name)
                        return -ENOMEM;
        }
        if (asprintf(&text, "#cloud-config\nappliance:\n  domain: \"%s\"\n", name) < 0)
                return -ENOMEM;
        return env_load_buffer("(unconfigured)", text, strlen(text), ret, NULL);
}

int agent_step_fail(const Agent *a, const char *step, uint64_t t0, const char *reason) {
        _cleanup_free_ char *pub = agent_public_reason(a, reason, NULL);

        log_error("%s failed: %s", step, reason); /* the whole reason: the journal is root's */
        /* The record first: the status.json that set_failed() writes names the step. */
        (void) agent_record_step(a, step, STEP_FAILED, pub ?: "failed", now_usec() - t0, NULL);
        (void) agent_set_failed_step(a, step, reason);
        (void) agent_notifyf("STATUS=Appliance Error: %s", pub ?: "see the journal");
        return -EIO;
}

int agent_load_active_env(const Agent *a, Env **ret) {
        _cleanup_free_ char *text = NULL, *err = NULL;
        _cleanup_(env_freep) Env *env = NULL;
        size_t len;
        int r;

        r = agent_read_file(a, AGENT_ACTIVE_ENV, AGENT_ENV_MAX, &text, &len);
        if (r == -ENOENT)
                return log_error_errno(r, "No active env '%s': run prepare-env first.", AGENT_ACTIVE_ENV);
        if (r < 0) {
                _cleanup_free_ char *why = agent_io_reason(a, AGENT_ACTIVE_ENV, r);
                log_error("Failed to read '%s': %s", AGENT_ACTIVE_ENV, why ?: strerror(-r));
                return r;
        }
        r = env_load_buffer(AGENT_ACTIVE_ENV, text, len, &env, &err);
        if (r == -ENOMEM)
                return log_oom();
        if (r >= 0)
                r = agent_env_check(env, false, &err);
        if (r < 0)
                return log_error_errno(r, "Invalid active env: %s", err ?: AGENT_ACTIVE_ENV);
        *ret = TAKE_PTR(env);
        return 0;
}
