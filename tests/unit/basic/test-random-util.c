/**
 * Unit tests of random-util: random bytes and hex.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "random-util.h"

static void test_hexmem(void **state) {
        static const uint8_t data[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
        _cleanup_free_ char *h = hexmem(data, sizeof data), *empty = hexmem(data, 0);
        (void) state;

        assert_string_equal(h, "00017f80abff");
        assert_non_null(empty);
        assert_string_equal(empty, "");
}

static void test_random_bytes(void **state) {
        uint8_t a[32], b[32], zero[32] = {};
        (void) state;

        memset(a, 0, sizeof a);
        memset(b, 0, sizeof b);
        assert_int_equal(random_bytes(a, sizeof a), 0);
        assert_int_equal(random_bytes(b, sizeof b), 0);
        /* 256 random bits are all zero, or twice the same, with probability 2^-256 */
        assert_memory_not_equal(a, zero, sizeof a);
        assert_memory_not_equal(a, b, sizeof a);
        assert_int_equal(random_bytes(a, 0), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hexmem),
                cmocka_unit_test(test_random_bytes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
