/**
 * Generic YAML syntax checks with positions, for files cloud-init loads with yaml.safe_load():
 * cloud-config, meta-data, network-config. Messages have the form
 *   NAME:LINE:COLUMN: PROBLEM[ (CONTEXT at LINE:COLUMN)]
 * with 1-based positions. Never logs.
 *
 * Also the only door to libyaml for the rest of the tree: a document loader with an opaque node
 * handle (the profile parser), and an event reader (the env loader, which resolves anchors and
 * merge keys itself). Positions handed out are 1-based.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cleanup.h"

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

/* A parse error as libyaml reports it. problem and context are static strings (never freed);
 * line and column are 1-based (1:1 when libyaml set no mark); reader errors (bad encoding)
 * carry a byte offset instead of a mark. */
typedef struct YamlError {
        bool reader;
        size_t offset;
        size_t line, column;
        const char *problem;
        const char *context; /* NULL if none */
        size_t context_line, context_column;
} YamlError;

/* ---- documents and nodes ---- */

typedef struct YamlDoc YamlDoc;
typedef struct YamlNode YamlNode; /* valid as long as its document */

typedef enum YamlNodeKind {
        YAML_KIND_NONE,
        YAML_KIND_SCALAR,
        YAML_KIND_SEQUENCE,
        YAML_KIND_MAPPING,
} YamlNodeKind;

/* Loads the first document of data (at most 64 MiB). Returns 0 and *ret, -EBADMSG with the
 * error in *ret_error (may be NULL), -ENOMEM (also when libyaml runs out of memory). */
int yaml_doc_load(const void *data, size_t size, YamlDoc **ret, YamlError *ret_error);
void yaml_doc_free(YamlDoc *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(YamlDoc *, yaml_doc_free);

/* The root node, NULL for an empty stream. */
const YamlNode *yaml_doc_root(const YamlDoc *d);

YamlNodeKind yaml_node_kind(const YamlNode *n);
/* The 1-based position where the node starts. */
size_t yaml_node_line(const YamlNode *n);
size_t yaml_node_column(const YamlNode *n);
/* A scalar's text (NUL-terminated by libyaml, may hold NULs: see ret_len), NULL for other kinds. */
const char *yaml_node_scalar(const YamlNode *n, size_t *ret_len);
/* Whether a scalar was written plain (unquoted, not a block). */
bool yaml_node_scalar_plain(const YamlNode *n);

/* Sequence items and mapping pairs in document order; 0 for other kinds. An entry whose node id
 * does not resolve yields NULL. */
size_t yaml_node_n_items(const YamlNode *n);
const YamlNode *yaml_node_item(const YamlDoc *d, const YamlNode *seq, size_t i);
size_t yaml_node_n_pairs(const YamlNode *n);
void yaml_node_pair(const YamlDoc *d, const YamlNode *map, size_t i, const YamlNode **ret_key,
                    const YamlNode **ret_value);

/* ---- events ---- */

typedef struct YamlEvents YamlEvents;

typedef enum YamlEventKind {
        YAML_EVENT_OTHER, /* stream start, document end */
        YAML_EVENT_STREAM_END,
        YAML_EVENT_DOCUMENT_START,
        YAML_EVENT_ALIAS,
        YAML_EVENT_SCALAR,
        YAML_EVENT_SEQUENCE_START,
        YAML_EVENT_SEQUENCE_END,
        YAML_EVENT_MAPPING_START,
        YAML_EVENT_MAPPING_END,
} YamlEventKind;

typedef enum YamlScalarStyle {
        YAML_STYLE_PLAIN,
        YAML_STYLE_QUOTED, /* single or double quotes */
        YAML_STYLE_BLOCK,  /* literal | or folded > */
} YamlScalarStyle;

/* One event; its strings stay valid until the next yaml_events_next() or yaml_events_free(). */
typedef struct YamlEvent {
        YamlEventKind kind;
        size_t line, column; /* 1-based start */
        const char *anchor;  /* the anchor defined (scalar, start events) or referred to (alias), or NULL */
        const char *tag;     /* scalar and start events, or NULL */
        const char *value;   /* scalar: text of length bytes (NUL-terminated, may hold NULs) */
        size_t length;
        YamlScalarStyle style;
} YamlEvent;

/* A reader over data, which must outlive it (at most 64 MiB: -EFBIG). -ENOMEM. */
int yaml_events_new(const void *data, size_t size, YamlEvents **ret);
void yaml_events_free(YamlEvents *ev);
DEFINE_TRIVIAL_CLEANUP_FUNC(YamlEvents *, yaml_events_free);
/* Returns 0 and the next event, -EBADMSG with the error in *ret_error (may be NULL), -ENOMEM. */
int yaml_events_next(YamlEvents *ev, YamlEvent *ret, YamlError *ret_error);
