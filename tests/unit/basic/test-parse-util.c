/**
 * Unit tests of parse-util: numbers, sizes, booleans.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>

#include "parse-util.h"

static void test_parse_size(void **state) {
        static const struct {
                const char *in;
                int ret;
                uint64_t value;
        } rows[] = {
                { "0", 0, 0 },
                { "512", 0, 512 },
                { "512B", 0, 512 },
                { "1K", 0, 1024 },
                { "10k", 0, 10240 },
                { "1.5G", 0, 1610612736ULL },
                { "20GiB", 0, 20ULL << 30 },
                { "300MB", 0, 300ULL << 20 },
                { "2T", 0, 2ULL << 40 },
                { "1 G", 0, 1ULL << 30 },
                { "", -EINVAL, 0 },
                { "G", -EINVAL, 0 },
                { "-1G", -EINVAL, 0 },
                { "1X", -EINVAL, 0 },
                { "1GX", -EINVAL, 0 },
                { "1.5", -EINVAL, 0 },
                { "99999999999999999999999P", -ERANGE, 0 },
        };

        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                uint64_t v = 4242;
                int r = parse_size(rows[i].in, &v);
                if (r != rows[i].ret)
                        fail_msg("parse_size(\"%s\") returned %d, expected %d", rows[i].in, r, rows[i].ret);
                if (r == 0 && v != rows[i].value)
                        fail_msg("parse_size(\"%s\") = %llu, expected %llu", rows[i].in,
                                 (unsigned long long) v, (unsigned long long) rows[i].value);
                if (r < 0 && v != 4242)
                        fail_msg("parse_size(\"%s\") touched the output on failure", rows[i].in);
        }
}

static void test_format_bytes(void **state) {
        char buf[FORMAT_BYTES_MAX];

        assert_string_equal(format_bytes(buf, sizeof buf, 512), "512B");
        assert_string_equal(format_bytes(buf, sizeof buf, 1536), "1.5K");
        assert_string_equal(format_bytes(buf, sizeof buf, 20ULL << 30), "20G");
}

static void test_safe_ato(void **state) {
        uint64_t u;
        int i;

        assert_int_equal(safe_atou64("18446744073709551615", &u), 0);
        assert_true(u == UINT64_MAX);
        assert_int_equal(safe_atou64("18446744073709551616", &u), -ERANGE);
        assert_int_equal(safe_atou64("-1", &u), -EINVAL);
        assert_int_equal(safe_atou64("12a", &u), -EINVAL);
        assert_int_equal(safe_atoi("-42", &i), 0);
        assert_int_equal(i, -42);
        assert_int_equal(parse_boolean("yes"), 1);
        assert_int_equal(parse_boolean("Off"), 0);
        assert_int_equal(parse_boolean("maybe"), -EINVAL);
}

static void test_safe_atou_atod(void **state) {
        unsigned u = 7;
        double d = 0;
        (void) state;

        assert_int_equal(safe_atou("4294967295", &u), 0);
        assert_true(u == UINT_MAX);
        assert_int_equal(safe_atou("4294967296", &u), -ERANGE);
        assert_true(u == UINT_MAX); /* untouched on failure */
        assert_int_equal(safe_atou("", &u), -EINVAL);
        assert_int_equal(safe_atod("2.5", &d), 0);
        assert_true(d == 2.5);
        assert_true(safe_atod("2.5x", &d) < 0);
        assert_true(safe_atod("", &d) < 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_size),
                cmocka_unit_test(test_format_bytes),
                cmocka_unit_test(test_safe_ato),
                cmocka_unit_test(test_safe_atou_atod),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
