/**
 * Unit tests of strv: string vectors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "strv.h"

static void test_strv(void **state) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *j = NULL;

        assert_int_equal(strv_split("ecs,,appliance,", ",", &l), 0);
        assert_int_equal(strv_length(l), 2);
        assert_true(strv_contains(l, "appliance"));
        assert_int_equal(strv_extend(&l, "b"), 0);
        strv_sort(l);
        j = strv_join(l, "+");
        assert_string_equal(j, "appliance+b+ecs");
}

static void test_strv_extendf_consume(void **state) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *j = NULL;
        (void) state;

        assert_int_equal(strv_length(NULL), 0);
        assert_false(strv_contains(NULL, "x"));
        assert_int_equal(strv_extendf(&l, "%s=%d", "a", 1), 0);
        assert_int_equal(strv_consume(&l, strdup("b")), 0);
        assert_int_equal(strv_extendf(&l, "%05u", 42U), 0);
        assert_int_equal(strv_length(l), 3);
        assert_string_equal(l[0], "a=1");
        assert_string_equal(l[2], "00042");
        assert_null(l[3]);
        j = strv_join(l, ", ");
        assert_string_equal(j, "a=1, b, 00042");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_strv),
                cmocka_unit_test(test_strv_extendf_consume),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
