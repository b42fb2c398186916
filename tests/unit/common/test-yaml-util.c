/**
 * Unit tests of the YAML checks cloud-init's files get: one document, the root kind, duplicate
 * keys, messages with the name and the 1-based position, and lookups by key path with positions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "macro.h"
#include "yaml-util.h"

static void test_check(void **state) {
        static const struct {
                const char *text;
                YamlCheckFlags flags;
                int r;
                const char *error; /* a part of the message */
        } rows[] = {
                { "a: 1\nb: [x]\n", YAML_CHECK_ROOT_MAPPING, 0, NULL },
                { "", YAML_CHECK_ROOT_MAPPING, 0, NULL },
                { "- a\n", YAML_CHECK_ROOT_SEQUENCE, 0, NULL },
                { "- a\n", YAML_CHECK_ROOT_MAPPING, -EBADMSG, "md:1:1:" },
                { "a: 1\n", YAML_CHECK_ROOT_SEQUENCE, -EBADMSG, "md:1:1:" },
                { "a: 1\n---\nb: 2\n", 0, -EBADMSG, "md:2:1:" },
                { "a: [1\n", 0, -EBADMSG, "md:" },
                { "a: 1\nb: 2\na: 3\n", YAML_CHECK_NO_DUPLICATE_KEYS, -EBADMSG, "md:3:1:" },
                { "a: 1\nb: 2\na: 3\n", 0, 0, NULL },
                { "a:\n\tb: 1\n", 0, -EBADMSG, "md:2:" },
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ char *err = NULL;
                int r = yaml_check("md", rows[i].text, strlen(rows[i].text), rows[i].flags, &err);

                if (r != rows[i].r)
                        fail_msg("row %zu: %d (%s), expected %d", i, r, strna(err), rows[i].r);
                if (rows[i].error && (!err || !strstr(err, rows[i].error)))
                        fail_msg("row %zu: '%s' lacks '%s'", i, strna(err), rows[i].error);
        }
}

static void test_lookup(void **state) {
        static const char doc[] = "instance-id: iid-1\nappliance:\n  domain: a.example.org\n  list: [1]\n";
        _cleanup_free_ char *v = NULL, *l = NULL, *none = NULL;
        unsigned line = 0, column = 0;
        (void) state;

        assert_int_equal(yaml_lookup(doc, strlen(doc), (const char *const[]) { "appliance", "domain", NULL }, &v, &line,
                                     &column), 1);
        assert_string_equal(v, "a.example.org");
        assert_int_equal(line, 3);
        assert_int_equal(column, 3);
        /* a sequence is found but has no scalar value */
        assert_int_equal(yaml_lookup(doc, strlen(doc), (const char *const[]) { "appliance", "list", NULL }, &l, NULL,
                                     NULL), 1);
        assert_null(l);
        assert_int_equal(yaml_lookup(doc, strlen(doc), (const char *const[]) { "appliance", "nope", NULL }, &none, NULL,
                                     NULL), 0);
        assert_int_equal(yaml_lookup("a: [", 4, (const char *const[]) { "a", NULL }, &none, NULL, NULL), 0);
}

static void test_nodes(void **state) {
        static const char doc[] = "a: 'x'\nlist:\n  - 1\n  - {k: v}\n";
        _cleanup_(yaml_doc_freep) YamlDoc *d = NULL;
        const YamlNode *root, *k, *v, *item;
        YamlError e = {};
        size_t l = 0;
        (void) state;

        assert_int_equal(yaml_doc_load(doc, strlen(doc), &d, &e), 0);
        root = yaml_doc_root(d);
        assert_non_null(root);
        assert_int_equal(yaml_node_kind(root), YAML_KIND_MAPPING);
        assert_int_equal(yaml_node_n_pairs(root), 2);
        assert_int_equal(yaml_node_n_items(root), 0);
        assert_null(yaml_node_scalar(root, NULL));

        yaml_node_pair(d, root, 0, &k, &v);
        assert_string_equal(yaml_node_scalar(k, NULL), "a");
        assert_true(yaml_node_scalar_plain(k));
        assert_string_equal(yaml_node_scalar(v, &l), "x");
        assert_int_equal(l, 1);
        assert_false(yaml_node_scalar_plain(v));
        assert_int_equal(yaml_node_line(v), 1);
        assert_int_equal(yaml_node_column(v), 4);

        yaml_node_pair(d, root, 1, &k, &v);
        assert_int_equal(yaml_node_kind(v), YAML_KIND_SEQUENCE);
        assert_int_equal(yaml_node_n_items(v), 2);
        item = yaml_node_item(d, v, 1);
        assert_int_equal(yaml_node_kind(item), YAML_KIND_MAPPING);
        assert_int_equal(yaml_node_line(item), 4);
        assert_int_equal(yaml_node_column(item), 5);
        assert_null(yaml_node_item(d, v, 2));
        yaml_node_pair(d, root, 2, &k, &v);
        assert_null(k);
        assert_null(v);

        /* an empty stream has no root */
        yaml_doc_free(TAKE_PTR(d));
        assert_int_equal(yaml_doc_load("", 0, &d, &e), 0);
        assert_null(yaml_doc_root(d));
        yaml_doc_free(TAKE_PTR(d));

        /* a syntax error comes with its marks, 1-based */
        assert_int_equal(yaml_doc_load("a: [1,\n", 7, &d, &e), -EBADMSG);
        assert_null(d);
        assert_false(e.reader);
        assert_non_null(e.problem);
        assert_int_equal(e.line, 2);
        assert_non_null(e.context);
        assert_int_equal(e.context_line, 2);
        assert_int_equal(e.context_column, 1);
        /* bad UTF-8 is a reader error with a byte offset */
        assert_int_equal(yaml_doc_load("a: \xff\n", 6, &d, &e), -EBADMSG);
        assert_true(e.reader);
        assert_int_equal(e.offset, 3);
}

static void test_events(void **state) {
        static const char doc[] = "m: &A [x, \"y\"]\nn: *A\nb: |\n  t\n";
        static const YamlEventKind want[] = {
                YAML_EVENT_OTHER, YAML_EVENT_DOCUMENT_START, YAML_EVENT_MAPPING_START, YAML_EVENT_SCALAR,
                YAML_EVENT_SEQUENCE_START, YAML_EVENT_SCALAR, YAML_EVENT_SCALAR, YAML_EVENT_SEQUENCE_END,
                YAML_EVENT_SCALAR, YAML_EVENT_ALIAS, YAML_EVENT_SCALAR, YAML_EVENT_SCALAR,
                YAML_EVENT_MAPPING_END, YAML_EVENT_OTHER, YAML_EVENT_STREAM_END,
        };
        _cleanup_(yaml_events_freep) YamlEvents *p = NULL;
        YamlEvent ev;
        YamlError e = {};
        (void) state;

        assert_int_equal(yaml_events_new(doc, strlen(doc), &p), 0);
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                assert_int_equal(yaml_events_next(p, &ev, &e), 0);
                if (ev.kind != want[i])
                        fail_msg("event %zu: kind %d, expected %d", i, ev.kind, want[i]);
                switch (i) {
                case 4:
                        assert_string_equal(ev.anchor, "A");
                        assert_int_equal(ev.line, 1);
                        assert_int_equal(ev.column, 4);
                        break;
                case 5:
                        assert_string_equal(ev.value, "x");
                        assert_int_equal(ev.style, YAML_STYLE_PLAIN);
                        break;
                case 6:
                        assert_int_equal(ev.length, 1);
                        assert_int_equal(ev.style, YAML_STYLE_QUOTED);
                        break;
                case 9:
                        assert_string_equal(ev.anchor, "A");
                        assert_int_equal(ev.line, 2);
                        break;
                case 11:
                        assert_string_equal(ev.value, "t\n");
                        assert_int_equal(ev.style, YAML_STYLE_BLOCK);
                        break;
                }
        }
        yaml_events_free(TAKE_PTR(p));

        assert_int_equal(yaml_events_new("a: [\n", 5, &p), 0);
        int r;
        do
                r = yaml_events_next(p, &ev, &e);
        while (r == 0 && ev.kind != YAML_EVENT_STREAM_END);
        assert_int_equal(r, -EBADMSG);
        assert_non_null(e.problem);
        assert_int_equal(e.line, 2);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_check),
                cmocka_unit_test(test_lookup),
                cmocka_unit_test(test_nodes),
                cmocka_unit_test(test_events),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
