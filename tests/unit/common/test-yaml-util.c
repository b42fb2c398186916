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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_check),
                cmocka_unit_test(test_lookup),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
