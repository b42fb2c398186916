/**
 * Unit tests of the env flattening: the rules of the original flatyaml (table-driven), roots and
 * formats, an alias bomb, the quoting, and the output read back by a real sh and by systemd's
 * EnvironmentFile parser rules as sh sees them.
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
#include "env-internal.h"
#include "env.h"

#include "spawn.h"

static Env *load_ok(const char *text) {
        Env *e = NULL;
        _cleanup_free_ char *err = NULL;
        int r = env_load_buffer("t.yml", text, strlen(text), &e, &err);
        if (r < 0)
                fail_msg("load failed (%d): %s\n--- input:\n%s", r, err ? err : "?", text);
        return e;
}

static void test_flatten_rules(void **state) {
        static const struct {
                const char *yaml;
                const char *sh;
        } rows[] = {
                /* names: joined with _, upper-cased, root first */
                { "  a: x", "export ECS_A=x\n" },
                { "  git:\n    branch: master", "export ECS_GIT_BRANCH=master\n" },
                { "  mixedCase: v", "export ECS_MIXEDCASE=v\n" },
                /* lists: _0.. and _LEN; an empty list only _LEN; an empty mapping nothing */
                { "  l: [a, b]", "export ECS_L_0=a\nexport ECS_L_1=b\nexport ECS_L_LEN=2\n" },
                { "  l: []", "export ECS_L_LEN=0\n" },
                { "  m: {}", "" },
                { "  l: [[1], {k: v}]", "export ECS_L_0_0=1\nexport ECS_L_0_LEN=1\nexport ECS_L_1_K=v\nexport ECS_L_LEN=2\n" },
                /* sorted by the original-case key: upper case sorts before lower case */
                { "  b: 1\n  a: 2\n  B: 3", "export ECS_B=3\nexport ECS_A=2\nexport ECS_B=1\n" },
                { "  l: [0,1,2,3,4,5,6,7,8,9,10]",
                  "export ECS_L_0=0\nexport ECS_L_1=1\nexport ECS_L_10=10\nexport ECS_L_2=2\nexport ECS_L_3=3\n"
                  "export ECS_L_4=4\nexport ECS_L_5=5\nexport ECS_L_6=6\nexport ECS_L_7=7\nexport ECS_L_8=8\n"
                  "export ECS_L_9=9\nexport ECS_L_LEN=11\n" },
                /* scalars */
                { "  v: ~", "export ECS_V=\n" },
                { "  v:", "export ECS_V=\n" },
                { "  v: yes", "export ECS_V=true\n" },
                { "  v: Off", "export ECS_V=false\n" },
                { "  v: 'yes'", "export ECS_V=yes\n" },
                { "  v: 0x1F", "export ECS_V=31\n" },
                { "  v: 0600", "export ECS_V=384\n" },
                { "  v: 1:30", "export ECS_V=90\n" },
                { "  v: -1_000", "export ECS_V=-1000\n" },
                { "  v: 123456789012345678901234567890", "export ECS_V=123456789012345678901234567890\n" },
                { "  v: 1.5", "export ECS_V=1.5\n" },
                { "  v: 1.", "export ECS_V=1.0\n" },
                { "  v: 1.0e+20", "export ECS_V=1e+20\n" },
                { "  v: 0.00001", "export ECS_V=1e-05\n" },
                { "  v: .inf", "export ECS_V=inf\n" },
                { "  v: -.inf", "export ECS_V=-inf\n" },
                { "  v: 1e3", "export ECS_V=1e3\n" },
                /* strings: stripped, shell-quoted like shlex.quote */
                { "  v: \"  padded \\t\"", "export ECS_V=padded\n" },
                { "  v: \"\"", "export ECS_V=''\n" },
                { "  v: \"   \"", "export ECS_V=''\n" },
                { "  v: a@b%c+d=e:f,g./h-_", "export ECS_V=a@b%c+d=e:f,g./h-_\n" },
                { "  v: two words", "export ECS_V='two words'\n" },
                { "  v: \"it's\"", "export ECS_V='it'\"'\"'s'\n" },
                { "  v: \"$HOME `id` \\\\\"", "export ECS_V='$HOME `id` \\'\n" },
                { "  v: |\n    line 1\n    line 2\n", "export ECS_V='line 1\nline 2'\n" },
                { "  v: \"\\u00a0nbsp\\u3000\"", "export ECS_V=nbsp\n" },
                { "  v: Grüße", "export ECS_V='Grüße'\n" },
                /* names that are no shell identifiers are not assigned */
                { "  a-b: 1", "# skipped: 'ECS_A-B' is not a valid variable name\n" },
                /* duplicate flattened names: the later one wins */
                { "  a_b: 1\n  a:\n    b: 2", "export ECS_A_B=2\n" },
        };

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                _cleanup_free_ char *doc = NULL, *out = NULL;
                assert_true(asprintf(&doc, "#cloud-config\necs:\n%s\nappliance: {}\n", rows[i].yaml) > 0);
                _cleanup_(env_freep) Env *e = load_ok(doc);
                assert_int_equal(env_flatten(e, NULL, ENV_FLATTEN_SH, &out), 0);
                if (strcmp(out, rows[i].sh) != 0)
                        fail_msg("row %zu:\n%s\n--- got:\n%s--- expected:\n%s", i, rows[i].yaml, out, rows[i].sh);
        }
}

static void test_flatten_roots_formats(void **state) {
        _cleanup_(env_freep) Env *e = load_ok("#cloud-config\n"
                                              "appliance:\n  domain: d.example\n  note: \"a \\\"b\\\" $c\"\n"
                                              "ecs:\n  database: ecs\n"
                                              "scalar: 5\nnothing:\nlist: [x]\n");
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

        assert_int_equal(env_flatten(e, NULL, ENV_FLATTEN_SH, &a), 0);
        assert_string_equal(a, "export ECS_DATABASE=ecs\n"
                               "export APPLIANCE_DOMAIN=d.example\n"
                               "export APPLIANCE_NOTE='a \"b\" $c'\n");

        char *roots[] = { (char *) "appliance", (char *) "missing", (char *) "scalar", (char *) "nothing",
                          (char *) "list", NULL };
        assert_int_equal(env_flatten(e, roots, ENV_FLATTEN_SYSTEMD, &b), 0);
        assert_string_equal(b, "APPLIANCE_DOMAIN=d.example\n"
                               "APPLIANCE_NOTE=\"a \\\"b\\\" \\$c\"\n"
                               "SCALAR_=5\n"
                               "NOTHING_=\n"
                               "LIST_0=x\n"
                               "LIST__LEN=1\n");

        char *all[] = { (char *) ".", NULL };
        assert_int_equal(env_flatten(e, all, ENV_FLATTEN_SH, &c), 0);
        assert_non_null(strstr(c, "export APPLIANCE_DOMAIN=d.example\n"));
        assert_non_null(strstr(c, "export SCALAR=5\n"));

        assert_int_equal(env_flatten(e, NULL, _ENV_FLATTEN_FORMAT_INVALID, &d), -EINVAL);
        assert_int_equal(env_flatten_format_from_string("systemd"), ENV_FLATTEN_SYSTEMD);
        assert_int_equal(env_flatten_format_from_string("csv"), _ENV_FLATTEN_FORMAT_INVALID);
        assert_string_equal(env_flatten_format_to_string(ENV_FLATTEN_SH), "sh");
}

static void test_flatten_alias_bomb(void **state) {
        /* nine levels of nine aliases: 387 million leaves; must stop, not explode */
        _cleanup_free_ char *doc = NULL;
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        fputs("#cloud-config\necs:\n  l0: &l0 [x, x, x, x, x, x, x, x, x]\n", f);
        for (int i = 1; i < 10; i++)
                fprintf(f, "  l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]\n", i, i, i - 1, i - 1,
                        i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
        fclose(f);
        doc = buf;
        _cleanup_(env_freep) Env *e = load_ok(doc);
        _cleanup_free_ char *out = NULL;
        assert_int_equal(env_flatten(e, NULL, ENV_FLATTEN_SH, &out), -E2BIG);
        assert_null(out);
}

static void test_quote(void **state) {
        _cleanup_free_ char *a = env_quote("", 0, ENV_FLATTEN_SH), *b = env_quote("x'y", 3, ENV_FLATTEN_SH),
                            *c = env_quote("a`b\\c\n", 6, ENV_FLATTEN_SYSTEMD), *d = env_quote("plain", 5, ENV_FLATTEN_SYSTEMD);
        assert_string_equal(a, "''");
        assert_string_equal(b, "'x'\"'\"'y'");
        assert_string_equal(c, "\"a\\`b\\\\c\n\"");
        assert_string_equal(d, "plain");
}

/* What a shell gets from the sh format: every value back exactly, hostile text included. */
static void test_sh_round_trip(void **state) {
        _cleanup_(env_freep) Env *e = load_ok("#cloud-config\n"
                                              "appliance:\n  domain: d.example\n"
                                              "  note: \"it's $(rm -rf /) `x` \\\\ \\\"q\\\" ;\\nline 2\"\n"
                                              "  list: [\"a b\", \"*\"]\n");
        _cleanup_free_ char *text = NULL, *script = NULL, *out = NULL;
        (void) state;

        assert_int_equal(env_flatten(e, NULL, ENV_FLATTEN_SH, &text), 0);
        assert_true(asprintf(&script, "%s\nprintf '%%s|%%s|%%s|%%s' \"$APPLIANCE_NOTE\" \"$APPLIANCE_LIST_0\" "
                                      "\"$APPLIANCE_LIST_1\" \"$APPLIANCE_LIST_LEN\"", text) > 0);
        assert_int_equal(spawn_capture((char *[]) { (char *) "sh", (char *) "-c", script, NULL }, NULL, 0, 0, &out, NULL), 0);
        assert_string_equal(out, "it's $(rm -rf /) `x` \\ \"q\" ;\nline 2|a b|*|2");
}

int main(int argc, char *argv[]) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_flatten_rules),
                cmocka_unit_test(test_flatten_roots_formats),
                cmocka_unit_test(test_flatten_alias_bomb),
                cmocka_unit_test(test_quote),
                cmocka_unit_test(test_sh_round_trip),
        };
        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("env-flatten", tests, NULL, NULL);
}
