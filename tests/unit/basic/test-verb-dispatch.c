/**
 * Unit tests of verb-dispatch: lookup by exact name, the verb gets its own argv with getopt reset,
 * its exit status is returned, an unknown or missing verb is 2.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <getopt.h>
#include <string.h>

#include "macro.h"
#include "verb-dispatch.h"

static int seen_argc;
static const char *seen_arg0, *seen_arg1;

static int verb_a(int argc, char *argv[]) {
        seen_argc = argc;
        seen_arg0 = argv[0];
        seen_arg1 = argc > 1 ? argv[1] : NULL;
        return optind == 0 ? 7 : 99;
}

static int verb_b(int argc, char *argv[]) {
        (void) argc, (void) argv;
        return 1;
}

static const Verb verbs[] = {
        { "alpha", verb_a, "the first" },
        { "beta", verb_b, "the second" },
};

static void test_dispatch(void **state) {
        char *args[] = { (char *) "alpha", (char *) "--x", NULL };
        char *unknown[] = { (char *) "alp", NULL };
        char *b[] = { (char *) "beta", NULL };
        (void) state;

        assert_ptr_equal(verbs_find(verbs, ELEMENTSOF(verbs), "beta"), &verbs[1]);
        assert_null(verbs_find(verbs, ELEMENTSOF(verbs), "Beta"));
        assert_null(verbs_find(verbs, ELEMENTSOF(verbs), "alph"));
        assert_null(verbs_find(verbs, ELEMENTSOF(verbs), NULL));

        optind = 5;
        assert_int_equal(verbs_dispatch(verbs, ELEMENTSOF(verbs), 2, args, "command", "prog"), 7);
        assert_int_equal(seen_argc, 2);
        assert_string_equal(seen_arg0, "alpha");
        assert_string_equal(seen_arg1, "--x");
        assert_int_equal(verbs_dispatch(verbs, ELEMENTSOF(verbs), 1, b, "command", "prog"), 1);
        assert_int_equal(verbs_dispatch(verbs, ELEMENTSOF(verbs), 1, unknown, "command", "prog"), 2);
        assert_int_equal(verbs_dispatch(verbs, ELEMENTSOF(verbs), 0, unknown, "command", "prog"), 2);
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dispatch),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("verb-dispatch", tests, NULL, NULL);
}
