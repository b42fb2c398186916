/**
 * The env model: env.yml, the one file that carries all per-instance configuration of the appliance.
 *
 * An env.yml is a YAML document whose first line is "#cloud-config". It is loaded (libyaml, through yaml-util) into a
 * read-only tree of EnvNode that keeps every node's position, and can be queried with colon paths
 * as the administration manual writes them:
 *
 *   _cleanup_(env_freep) Env *e = NULL;
 *   _cleanup_free_ char *err = NULL;
 *   r = env_load_file("env.yml", &e, &err);            err: "env.yml:3:7: mapping values are not ..."
 *   const char *domain = env_get_string(e, "appliance:domain", NULL);
 *   r = env_get_bool(e, "ecs:userswitcher:enabled", false);          1, 0 or -EINVAL
 *   const EnvNode *k = env_lookup(e, "ssh_authorized_keys:0");
 *   r = env_flatten(e, NULL, ENV_FLATTEN_SH, &text);                  "APPLIANCE_DOMAIN=...\n..."
 *
 * Scalars are resolved like YAML 1.1 (the original appliance read the file with PyYAML): plain
 * true/false/yes/no/on/off are booleans, plain ~/null/empty are null, plain 0x1f/017/1_000 are
 * integers; any quoted scalar is a string. Duplicate mapping keys are accepted, the last value wins
 * (the key keeps its first position). Anchors and aliases are resolved; merge keys ("<<") are applied.
 * Non-ASCII text and duplicate keys are recorded as warnings (env_warnings()), never as errors.
 *
 * Limits, each an error naming the file (and position) rather than a hang or an exhausted memory:
 * 16 MiB of text, nesting 256 levels deep, 100,000 pairs copied by merge keys in the whole document
 * (a merge bomb: thousands of mappings each merging a large one), numbers (integers and floats) of
 * at most 4300 characters (Python's own limit for integers: sys.int_info.default_max_str_digits).
 * Aliases share their node, so a document's tree is never larger than its text; walkers that
 * expand aliases (env_flatten()) bound what they visit themselves.
 *
 * Ownership: every EnvNode and string returned belongs to the Env and lives until env_free().
 * Nothing here logs above debug. This file only uses libyaml (through yaml-util) and libc (the static agent links it).
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cleanup.h"

typedef struct Env Env;
typedef struct EnvNode EnvNode;

typedef enum EnvNodeType {
        ENV_NODE_NULL,
        ENV_NODE_SCALAR,
        ENV_NODE_SEQUENCE,
        ENV_NODE_MAPPING,
        _ENV_NODE_TYPE_MAX,
        _ENV_NODE_TYPE_INVALID = -EINVAL,
} EnvNodeType;

typedef enum EnvScalarStyle {
        ENV_SCALAR_PLAIN,         /* unquoted: subject to bool/int/null resolution */
        ENV_SCALAR_QUOTED,        /* 'single' or "double" quoted, or tagged !!str: always a string */
        ENV_SCALAR_BLOCK,         /* | or > block scalar: always a string */
        _ENV_SCALAR_STYLE_MAX,
        _ENV_SCALAR_STYLE_INVALID = -EINVAL,
} EnvScalarStyle;

/* What a scalar resolves to (YAML 1.1 core resolution as PyYAML does it). */
typedef enum EnvScalarKind {
        ENV_SCALAR_STRING,
        ENV_SCALAR_BOOL,
        ENV_SCALAR_INT,
        ENV_SCALAR_FLOAT,
        _ENV_SCALAR_KIND_MAX,
        _ENV_SCALAR_KIND_INVALID = -EINVAL,
} EnvScalarKind;

typedef enum EnvFlattenFormat {
        ENV_FLATTEN_SH,           /* "export KEY=value" lines, values quoted like Python's shlex.quote() */
        ENV_FLATTEN_SYSTEMD,      /* "KEY=value" lines for systemd EnvironmentFile= (also valid sh) */
        _ENV_FLATTEN_FORMAT_MAX,
        _ENV_FLATTEN_FORMAT_INVALID = -EINVAL,
} EnvFlattenFormat;

/* Loading. On failure *ret is untouched and, if reterr is not NULL, *reterr gets a newly
 * allocated "name:line:column: message" (1-based line and column). Returns 0, -ENOMEM, -EBADMSG
 * (not YAML / not a mapping / bad header), -ENODATA (empty), -EILSEQ (NUL bytes), -EFBIG (too
 * large) or the -errno of reading the file. The first line must be "#cloud-config" (trailing
 * spaces and a CR are tolerated). The root must be a mapping. */
int env_load_file(const char *path, Env **ret, char **reterr);
int env_load_buffer(const char *name, const char *buf, size_t len, Env **ret, char **reterr);

typedef enum EnvLoadFlags {
        ENV_LOAD_NO_HEADER = 1 << 0,    /* do not require "#cloud-config" (YAML fragments, e.g. --extra) */
} EnvLoadFlags;
int env_load_buffer_flags(const char *name, const char *buf, size_t len, EnvLoadFlags flags, Env **ret,
                          char **reterr);

Env *env_free(Env *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(Env *, env_free);

/* The raw source bytes (NUL-terminated; *ret_len excludes the NUL) and the name it was loaded as. */
const char *env_text(const Env *e, size_t *ret_len);
const char *env_name(const Env *e);

/* Warnings found while loading, as a NULL-terminated vector of "name:line:column: message"
 * (non-ASCII text, duplicate keys). Never NULL. */
char *const *env_warnings(const Env *e);

/* The root mapping. */
const EnvNode *env_root(const Env *e);

/* Looks up a colon path ("appliance:ssl:key", "ssh_authorized_keys:0"; a sequence index is a
 * decimal number). NULL if any component is missing. An empty path gives the root. */
const EnvNode *env_lookup(const Env *e, const char *path);
const EnvNode *env_node_lookup(const EnvNode *n, const char *path);

/* Typed accessors by path.
 *   env_get_string: the text of a scalar (of any kind); def if missing, null or not a scalar.
 *   env_get_bool:   1 or 0; def if missing or null; -EINVAL if present but not a boolean. Besides
 *                   the YAML 1.1 words (plain yes/no/on/off/true/false), a quoted "true" or
 *                   "false" in any case counts: the original's scripts compared that text.
 *   env_get_int:    0 and *ret set; *ret = def and 0 if missing or null; -EINVAL if not an integer,
 *                   -ERANGE if it does not fit into int64_t. */
const char *env_get_string(const Env *e, const char *path, const char *def);
int env_get_bool(const Env *e, const char *path, int def);
int env_get_int(const Env *e, const char *path, int64_t def, int64_t *ret);
/* Number of items of the sequence (or pairs of the mapping) at path; 0 if missing or a scalar. */
size_t env_list_length(const Env *e, const char *path);

/* Node accessors. All accept NULL (returning NULL, 0 or -EINVAL / ENV_NODE_NULL as fitting). */
EnvNodeType env_node_type(const EnvNode *n);
unsigned env_node_line(const EnvNode *n);       /* 1-based position in the source */
unsigned env_node_column(const EnvNode *n);
const char *env_node_string(const EnvNode *n);  /* scalar text; NULL for null, sequence, mapping */
EnvScalarStyle env_node_style(const EnvNode *n);
EnvScalarKind env_node_kind(const EnvNode *n);  /* -EINVAL if not a scalar */
int env_node_bool(const EnvNode *n);            /* 1, 0 or -EINVAL; see env_get_bool() */
int env_node_int(const EnvNode *n, int64_t *ret);  /* 0, -EINVAL, -ERANGE */

/* Sequences and mappings: env_node_size() is the number of items (pairs); env_node_item() gives
 * item i of a sequence or the value of pair i of a mapping; env_node_key() the key of pair i
 * (NULL for sequences), env_node_key_line() its line. Pairs are in document order. */
size_t env_node_size(const EnvNode *n);
const EnvNode *env_node_item(const EnvNode *n, size_t i);
const char *env_node_key(const EnvNode *n, size_t i);
unsigned env_node_key_line(const EnvNode *n, size_t i);
unsigned env_node_key_column(const EnvNode *n, size_t i);
const EnvNode *env_node_child(const EnvNode *n, const char *key);

/* Flattens the given top-level keys (NULL-terminated; NULL means { "ecs", "appliance" }) to
 * variable assignments exactly as the original appliance's flatyaml did:
 *   names: the key path joined with '_' and upper-cased (root first); sequence items as _0, _1, ...
 *          plus _LEN with the count; a scalar or null root gives "ROOT_";
 *   values: null -> empty, booleans -> true/false, integers and floats in Python's str() form,
 *           strings stripped of surrounding white space and quoted like shlex.quote() (newlines kept);
 *   order: each root in the order given, within a root sorted by the original-case name.
 * Roots that are missing are skipped (check with env_lookup()). Names that are not valid shell
 * identifiers (e.g. from keys with '-') are not assigned; a "# skipped: NAME" comment line is
 * written instead. Returns 0, -ENOMEM, -E2BIG (alias expansion beyond sane limits), -EINVAL. */
int env_flatten(const Env *e, char *const *roots, EnvFlattenFormat fmt, char **ret_text);

/* The one reading of a scalar (or null), newly allocated: the value env_flatten() assigns, unquoted,
 * which is what the services' environment and the agent's templates see. Booleans give true/false,
 * integers and floats Python's str() form, strings their text stripped of surrounding white space,
 * null "". The schema (env-schema.h) makes every key the appliance reads as a string a string, so
 * for those it is the text as written. NULL (errno EINVAL or ENOMEM) for sequences and mappings. */
char *env_node_text(const EnvNode *n);

/* Quotes s (len bytes) the way env_flatten() does for the given format; newly allocated. */
char *env_quote(const char *s, size_t len, EnvFlattenFormat fmt);

const char *env_flatten_format_to_string(EnvFlattenFormat f);
EnvFlattenFormat env_flatten_format_from_string(const char *s);
