/**
 * The env schema: what an env.yml must look like beyond being a well-formed #cloud-config mapping
 * (env.h checks that). It is the one rule set of both programs: `appliance-builder env check`,
 * `image --env` and `env create` apply it, and so does the agent's prepare-env before it activates
 * an env, so an env the build accepted is accepted at boot and the other way round.
 *
 *   EnvFindings f = {};
 *   r = env_schema_check(e, &f);            0 or -ENOMEM; f.errors > 0: the env is invalid
 *   for (size_t i = 0; i < f.n; i++)  log(f.items[i].error ? ... , "%s", f.items[i].text);
 *   env_findings_done(&f);
 *
 * Each finding reads "NAME:LINE:COLUMN: key:path: message". The rules (original-appliance.md
 * section 2): the types of every key the appliance reads (booleans are booleans, strings are
 * strings: "permissions: 0600" is the integer 384 and refused, so that every consumer reads a string
 * as it is written); required keys: appliance and appliance:domain, and in a section that is there,
 * what that section needs (appliance:backup:encrypt; ecs:settings, ecs:vault_encrypt, ecs:vault_sign);
 * the domain an RFC 1123 host name; ssh keys authorized_keys lines; appliance:extra:files with
 * absolute paths without "..", owners "user[:group]" (names or ids, never -1) and octal modes;
 * appliance:ssl:key/cert set together and a matching pair, the DKIM key an RSA key (read with the
 * common crypto wrapper), the OpenPGP keys in their armour. Unknown keys, non-ASCII text, duplicate
 * keys and quoted booleans are warnings.
 *
 * Whether an OpenPGP key imports needs GPGME, which the static agent does not link: the builder's
 * env check adds that on top (src/builder/env/check.c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "env.h"
#include "macro.h"

typedef struct EnvFinding {
        bool error;          /* false: a warning */
        char *text;          /* "NAME:LINE:COLUMN: key:path: message" */
} EnvFinding;

typedef struct EnvFindings {
        EnvFinding *items;   /* in the order found */
        size_t n;
        unsigned errors, warnings;
} EnvFindings;

/* Appends the loader's warnings and every schema finding to f. Returns 0 or -ENOMEM. */
int env_schema_check(const Env *e, EnvFindings *f);

/* Appends one finding at node n (NULL: line 1, column 1) of e. Returns 0 or -ENOMEM. */
int env_findings_add(EnvFindings *f, const Env *e, bool error, const EnvNode *n, const char *path,
                     const char *fmt, ...) _printf_(6, 7);
/* The text of the first error, NULL if there is none. */
const char *env_findings_first_error(const EnvFindings *f);
void env_findings_done(EnvFindings *f);

/* The rules of single values. */
bool env_hostname_is_valid(const char *s);       /* RFC 1123: labels 1..63 of [A-Za-z0-9-], no '-' at
                                                  * either end of a label, at most 253 in all */
bool env_ssh_key_line_is_valid(const char *s);   /* [options] TYPE BASE64 [comment], one line */
bool env_owner_is_valid(const char *s);          /* user or user:group, names or ids 0..4294967294 */
bool env_file_mode_is_valid(const char *s);      /* octal 0..07777, e.g. "0600" */
bool env_path_is_valid(const char *s);           /* absolute, no ".." component, one line */
