/**
 * Generic YAML syntax checks with positions, for files cloud-init loads with yaml.safe_load():
 * cloud-config, meta-data, network-config. Messages have the form
 *   NAME:LINE:COLUMN: PROBLEM[ (CONTEXT at LINE:COLUMN)]
 * with 1-based positions. Never logs.
 */
#pragma once

#include <stddef.h>

typedef enum YamlCheckFlags {
        YAML_CHECK_ROOT_MAPPING = 1 << 0,  /* the root must be a mapping (an empty document is fine) */
        YAML_CHECK_ROOT_SEQUENCE = 1 << 1, /* the root must be a sequence (an empty document is fine) */
        YAML_CHECK_NO_DUPLICATE_KEYS = 1 << 2,
} YamlCheckFlags;

/* Checks that data is exactly one well-formed YAML document (yaml.safe_load() rejects a second
 * one), with the root kind asked for. Returns 0, -EBADMSG for a syntax or structure error
 * (message in *reterr), -ENOMEM. name is used in messages only. */
int yaml_check(const char *name, const void *data, size_t size, YamlCheckFlags flags, char **reterr);

/* Looks up a node by a path of mapping keys from the root, e.g. { "appliance", "domain", NULL }.
 * Returns 1 and sets *ret_value to a copy of the scalar (NULL if the node is a mapping or a
 * sequence) and the key position in ret_line, ret_column (1-based, of the key; may be NULL), 0 if absent (also when
 * the document does not parse), -ENOMEM. */
int yaml_lookup(const void *data, size_t size, const char *const *keys, char **ret_value, unsigned *ret_line,
                unsigned *ret_column);
