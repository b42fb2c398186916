/**
 * The first-boot agent's shared state on top of its context (agent-context.h) and its file access
 * (agent-path.h): the failed, standby and unconfigured flags, the step records, the status page,
 * sd_notify() and systemctl, the active env. Every step uses it; it uses no step (each step is
 * declared in its own header).
 */
#pragma once

#include "json-util.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent-context.h"
#include "agent-path.h"
#include "env.h"
#include "macro.h"

typedef enum StepResult {
        STEP_OK,
        STEP_CHANGED,
        STEP_FAILED,
        STEP_STANDBY,
        STEP_REFUSED,
        STEP_UNCONFIGURED,
        _STEP_RESULT_MAX,
        _STEP_RESULT_INVALID = -EINVAL,
} StepResult;

const char *step_result_to_string(StepResult r);


/* What public pages (503.html, index.html, status.json) and unit status lines show of a reason or
 * message: one line of at most AGENT_PUBLIC_MAX bytes (cut at a character boundary, "..." at the
 * end), control characters as spaces, invalid UTF-8 as '?'. Escaping for HTML or JSON is the
 * writer's. The full text goes to the journal only. NULL on OOM. */
#define AGENT_PUBLIC_MAX 200
#define AGENT_REASON_SCAN (64U * 1024U)
char *agent_public_line(const char *s);
/* The same after every value below a secret-looking key (secret, password, key, token, encrypt,
 * sign, settings, contents, ...) of env and of the active env is replaced by "[secret]". a and
 * env may be NULL. */
char *agent_public_reason(const Agent *a, const char *reason, const Env *env);

/* The failed flag. agent_failed_check(): 0 if not failed (and cleans up a half-removed flag pair),
 * -EBUSY if failed (the reason in *ret_reason if not NULL). agent_set_failed() writes both names. */
int agent_failed_check(const Agent *a, char **ret_reason);
int agent_set_failed(const Agent *a, const char *reason);
/* The same with the failing step named on the page ("Step STEP failed: REASON"); record the step
 * first, so that status.json names it too. */
int agent_set_failed_step(const Agent *a, const char *step, const char *reason);
bool agent_standby(const Agent *a);
/* The first line of a small file below the root (NULL if absent or on OOM). */
char *agent_read_line(const Agent *a, const char *path);
bool agent_unconfigured(const Agent *a);

/* Step records under AGENT_STATE_DIR. */
int agent_record_step(const Agent *a, const char *step, StepResult result, const char *message,
                      uint64_t duration_usec, const char *source);

/* Writes www/503.html (title, text) and www/status.json. */
int agent_write_status_page(const Agent *a, const char *title, const char *text);
/* The status as JSON (for "status --json" and www/status.json). */
int agent_status_json(const Agent *a, char **ret);
int agent_status_text(const Agent *a, char **ret);

/* sd_notify() over $NOTIFY_SOCKET; a no-op (0) when it is unset. */
int agent_notify(const char *msg);
int agent_notifyf(const char *fmt, ...) _printf_(1, 2);

/* Begins a step other than prepare-env: refuses (-EBUSY, logged) while the failed flag is set,
 * returns 0 (recorded as standby) in standby, else loads the active env and returns 1, or, while
 * unconfigured, a placeholder env ("appliance:domain" = the host name) and returns 2. */
int agent_step_begin(const Agent *a, const char *step, Env **ret_env);
/* "#cloud-config" with appliance:domain = ROOT/etc/hostname (else "appliance"). */
int agent_placeholder_env(const Agent *a, Env **ret);
/* Sets the failed flag with reason, records and reports the step as failed; returns -EIO. */
int agent_step_fail(const Agent *a, const char *step, uint64_t t0, const char *reason);

/* Loads and validates /run/active-env.yml (or another file) for the later steps. */
int agent_load_active_env(const Agent *a, Env **ret);

/* Runs a unit operation (unit NULL: a manager operation such as "daemon-reload"; "start", "stop", "is-active",
 * "is-failed", or "start-no-block": queue the start without
 * waiting, for units ordered after the calling one) through a->systemctl; returns its exit status. */
int agent_systemctl(const Agent *a, const char *verb, const char *unit);

/* A unit's drop-in at path (below /etc/systemd/system): text written with mode 0644, or with
 * text NULL removed, so that the unit's own setting applies. systemd reloads its units (on the
 * host root) only when the file changed: a drop-in that would repeat the unit's default is never
 * written, which spares a first boot the reload (seconds under emulation). Returns 1 if changed,
 * 0 if not, <0 with *reterr. */
int agent_unit_dropin(const Agent *a, const char *path, const char *text, char **reterr);

uint64_t now_usec(void);
