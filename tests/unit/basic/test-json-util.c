/**
 * Unit tests of json-util: JSON string literals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "macro.h"
#include "json-util.h"

static void test_json_string(void **state) {
        static const struct {
                const char *in, *out;
        } rows[] = {
                { "plain", "\"plain\"" },
                { "say \"hi\"", "\"say \\\"hi\\\"\"" },
                { "a\\b", "\"a\\\\b\"" },
                { "l1\nl2\r\t", "\"l1\\nl2\\r\\t\"" },
                { "\x01\x1b\x7f", "\"\\u0001\\u001b\\u007f\"" },
                { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },
                /* not UTF-8: a stray continuation byte, a truncated sequence, an overlong '/', a surrogate */
                { "\x80", "\"\\ufffd\"" },
                { "a\xc3", "\"a\\ufffd\"" },
                { "\xc0\xaf", "\"\\ufffd\\ufffd\"" },
                { "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },
                { "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
        };
        char *t;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                t = json_quote(rows[i].in);
                assert_non_null(t);
                assert_string_equal(t, rows[i].out);
                free(t);
        }
        t = json_quote(NULL);
        assert_string_equal(t, "null");
        free(t);
}

static void test_json_write_stream(void **state) {
        _cleanup_free_ char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        (void) state;

        assert_non_null(f);
        fputc('[', f);
        json_write_string(f, "a\"b");
        fputc(',', f);
        json_write_string(f, NULL);
        fputc(',', f);
        /* a sequence cut short by the end of the string: both bytes become U+FFFD */
        json_write_string(f, "\xe2\x82");
        fputc(']', f);
        assert_int_equal(fclose(f), 0);
        assert_string_equal(out, "[\"a\\\"b\",null,\"\\ufffd\\ufffd\"]");
        assert_int_equal(len, strlen(out));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_json_string),
                cmocka_unit_test(test_json_write_stream),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
