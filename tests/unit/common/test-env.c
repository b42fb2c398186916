/**
 * Unit tests of the env model: loader errors with positions, the header rule, duplicate keys,
 * typed accessors, YAML 1.1 scalar resolution, load bounds (the flattening is test-env-flatten.c).
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
#include "env-internal.h"
#include "env.h"

static Env *load_ok(const char *text) {
        Env *e = NULL;
        _cleanup_free_ char *err = NULL;
        int r = env_load_buffer("t.yml", text, strlen(text), &e, &err);
        if (r < 0)
                fail_msg("load failed (%d): %s\n--- input:\n%s", r, err ? err : "?", text);
        return e;
}

static void test_load_errors(void **state) {
        static const struct {
                const char *in;
                int ret;
                const char *error;   /* expected prefix of the message */
        } rows[] = {
                { "", -ENODATA, "t.yml: the file is empty" },
                { "appliance:\n  domain: x\n", -EBADMSG, "t.yml:1:1: the first line must be '#cloud-config'" },
                { "#cloud-config-x\na: 1\n", -EBADMSG, "t.yml:1:1: the first line" },
                { " #cloud-config\na: 1\n", -EBADMSG, "t.yml:1:1: the first line" },
                { "#cloud-config\n", -ENODATA, "t.yml:1:1: no settings" },
                { "#cloud-config\n# only a comment\n", -ENODATA, "t.yml:1:1: no settings" },
                { "#cloud-config\n- a\n- b\n", -EBADMSG, "t.yml:2:1: the document must be a mapping" },
                { "#cloud-config\njust text\n", -EBADMSG, "t.yml:2:1: the document must be a mapping" },
                { "#cloud-config\na: 1\n b: 2\n", -EBADMSG, "t.yml:3:3: mapping values are not allowed" },
                { "#cloud-config\na:\n\tb: 1\n", -EBADMSG, "t.yml:3:1: found character that cannot start any token" },
                { "#cloud-config\na: \"open\n", -EBADMSG, "t.yml:3:1: found unexpected end of stream" },
                { "#cloud-config\na: [1, 2\n", -EBADMSG, "t.yml:3:1: did not find expected ',' or ']'" },
                { "#cloud-config\na: *nope\n", -EBADMSG, "t.yml:2:4: undefined alias 'nope'" },
                { "#cloud-config\na: &x [*x]\n", -EBADMSG, "t.yml:2:8: undefined alias 'x'" },
                { "#cloud-config\na: 1\n---\nb: 2\n", -EBADMSG, "t.yml:3:1: expected a single document" },
                { "#cloud-config\n? [a]\n: 1\n", -EBADMSG, "t.yml:2:3: mapping keys must be scalars" },
                { "#cloud-config\na: !custom 1\n", -EBADMSG, "t.yml:2:4: unsupported tag '!custom'" },
                { "#cloud-config\na: !!int abc\n", -EBADMSG, "t.yml:2:4: value does not match its tag" },
                { "#cloud-config\na:\n  <<: 1\n", -EBADMSG, "t.yml:3:3: merge key '<<' needs a mapping" },
                { "#cloud-config\na: \"x\\0y\"\n", -EILSEQ, "t.yml:2:4: NUL character in scalar" },
        };

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                Env *e = NULL;
                _cleanup_free_ char *err = NULL;
                int r = env_load_buffer("t.yml", rows[i].in, strlen(rows[i].in), &e, &err);
                if (r != rows[i].ret || !err || strncmp(err, rows[i].error, strlen(rows[i].error)) != 0)
                        fail_msg("row %zu: got %d '%s', expected %d '%s'", i, r, err ? err : "(null)", rows[i].ret,
                                 rows[i].error);
                assert_null(e);
        }

        /* a NUL byte in the file, and invalid UTF-8 with its position */
        {
                static const char nul[] = "#cloud-config\na: 1\nb\0: 2\n";
                Env *e = NULL;
                _cleanup_free_ char *err = NULL;
                assert_int_equal(env_load_buffer("t.yml", nul, sizeof(nul) - 1, &e, &err), -EILSEQ);
                assert_string_equal(err, "t.yml:3: NUL byte in the file");
        }
        {
                static const char bad[] = "#cloud-config\na: 1\nb: x\xff\n";
                Env *e = NULL;
                _cleanup_free_ char *err = NULL;
                assert_int_equal(env_load_buffer("t.yml", bad, sizeof(bad) - 1, &e, &err), -EBADMSG);
                assert_non_null(strstr(err, "t.yml:3:5: "));
        }
        /* files */
        {
                Env *e = NULL;
                _cleanup_free_ char *err = NULL;
                assert_int_equal(env_load_file("/nonexistent/env.yml", &e, &err), -ENOENT);
                assert_string_equal(err, "/nonexistent/env.yml: No such file or directory");
        }
        /* the header may carry trailing blanks and a CR; a fragment may go without it */
        {
                _cleanup_(env_freep) Env *e = load_ok("#cloud-config \r\na: 1\r\n");
                _cleanup_(env_freep) Env *f = NULL;
                assert_int_equal(env_load_buffer_flags("x.yml", "a: 1\n", 5, ENV_LOAD_NO_HEADER, &f, NULL), 0);
                assert_string_equal(env_get_string(f, "a", NULL), "1");
        }
}

static void test_duplicates_and_warnings(void **state) {
        /* as /run/active-env.yml after two reads: USERDATA_TYPE twice, the last one wins */
        _cleanup_(env_freep) Env *e = load_ok("#cloud-config\n"
                                              "appliance:\n  domain: a.example\n"
                                              "USERDATA_TYPE: local\n"
                                              "appliance:\n  domain: b.example\n"
                                              "USERDATA_TYPE: cidata\n"
                                              "text: Grüße\n");
        assert_string_equal(env_get_string(e, "USERDATA_TYPE", NULL), "cidata");
        assert_string_equal(env_get_string(e, "appliance:domain", NULL), "b.example");
        /* the key keeps its first position */
        assert_string_equal(env_node_key(env_root(e), 0), "appliance");
        assert_int_equal(env_node_size(env_root(e)), 3);
        assert_int_equal(env_node_line(env_lookup(e, "appliance:domain")), 6);

        char *const *w = env_warnings(e);
        assert_non_null(w[0]);
        assert_non_null(w[1]);
        assert_non_null(w[2]);
        assert_null(w[3]);
        bool dup_app = false, dup_type = false, ascii = false;
        for (; *w; w++) {
                dup_app = dup_app || strstr(*w, "t.yml:5:1: duplicate key 'appliance' (first at line 2)");
                dup_type = dup_type || strstr(*w, "t.yml:7:1: duplicate key 'USERDATA_TYPE' (first at line 4)");
                ascii = ascii || strstr(*w, "t.yml:8:9: non-ASCII");
        }
        assert_true(dup_app);
        assert_true(dup_type);
        assert_true(ascii);
}

static void test_accessors(void **state) {
        _cleanup_(env_freep) Env *e = load_ok("#cloud-config\n"
                                              "appliance:\n"
                                              "  domain: ecs.example.org\n"
                                              "  standby: yes\n"
                                              "  quoted: \"true\"\n"
                                              "  quotedyes: 'yes'\n"
                                              "  quotedfalse: 'FALSE'\n"
                                              "  off: off\n"
                                              "  empty:\n"
                                              "  n: 0x10\n"
                                              "  big: 99999999999999999999\n"
                                              "  octal: 0600\n"
                                              "  f: 1.5\n"
                                              "  list: [a, b, c]\n"
                                              "ssh_authorized_keys:\n  - ssh-ed25519 AAAA x@y\n");

        assert_string_equal(env_get_string(e, "appliance:domain", NULL), "ecs.example.org");
        assert_string_equal(env_get_string(e, "appliance:missing", "dflt"), "dflt");
        assert_string_equal(env_get_string(e, "appliance:empty", "dflt"), "dflt");
        assert_string_equal(env_get_string(e, "appliance:list", "dflt"), "dflt");
        assert_string_equal(env_get_string(e, "appliance:n", NULL), "0x10");
        assert_string_equal(env_get_string(e, "ssh_authorized_keys:0", NULL), "ssh-ed25519 AAAA x@y");
        assert_null(env_get_string(e, "ssh_authorized_keys:1", NULL));
        assert_null(env_get_string(e, "ssh_authorized_keys:x", NULL));
        assert_string_equal(env_get_string(e, "appliance:list:2", NULL), "c");

        assert_int_equal(env_get_bool(e, "appliance:standby", 0), 1);
        assert_int_equal(env_get_bool(e, "appliance:off", 1), 0);
        assert_int_equal(env_get_bool(e, "appliance:missing", 1), 1);
        assert_int_equal(env_get_bool(e, "appliance:empty", 0), 0);
        assert_int_equal(env_get_bool(e, "appliance:quoted", 0), 1);
        assert_int_equal(env_get_bool(e, "appliance:quotedyes", 0), -EINVAL);
        assert_int_equal(env_get_bool(e, "appliance:quotedfalse", 1), 0);
        assert_int_equal(env_get_bool(e, "appliance:domain", 0), -EINVAL);

        int64_t v = 0;
        assert_int_equal(env_get_int(e, "appliance:n", 0, &v), 0);
        assert_int_equal(v, 16);
        assert_int_equal(env_get_int(e, "appliance:octal", 0, &v), 0);
        assert_int_equal(v, 384);
        assert_int_equal(env_get_int(e, "appliance:missing", 7, &v), 0);
        assert_int_equal(v, 7);
        assert_int_equal(env_get_int(e, "appliance:big", 0, &v), -ERANGE);
        assert_int_equal(env_get_int(e, "appliance:f", 0, &v), -EINVAL);
        assert_int_equal(env_get_int(e, "appliance:domain", 0, &v), -EINVAL);

        assert_int_equal(env_list_length(e, "appliance:list"), 3);
        assert_int_equal(env_list_length(e, "appliance:domain"), 0);
        assert_int_equal(env_list_length(e, "nothing"), 0);

        const EnvNode *d = env_lookup(e, "appliance:domain");
        assert_int_equal(env_node_line(d), 3);
        assert_int_equal(env_node_column(d), 11);
        assert_int_equal(env_node_type(d), ENV_NODE_SCALAR);
        assert_int_equal(env_node_style(d), ENV_SCALAR_PLAIN);
        assert_int_equal(env_node_style(env_lookup(e, "appliance:quoted")), ENV_SCALAR_QUOTED);
        assert_int_equal(env_node_kind(env_lookup(e, "appliance:f")), ENV_SCALAR_FLOAT);
        assert_int_equal(env_node_type(env_lookup(e, "appliance:empty")), ENV_NODE_NULL);
        assert_int_equal(env_node_type(env_lookup(e, "appliance")), ENV_NODE_MAPPING);
        assert_int_equal(env_node_key_line(env_root(e), 1), 15);
        assert_ptr_equal(env_lookup(e, ""), env_root(e));

        size_t len = 0;
        assert_non_null(env_text(e, &len));
        assert_true(len > 100);
        assert_string_equal(env_name(e), "t.yml");
}

static void test_anchors_merge(void **state) {
        _cleanup_(env_freep) Env *e = load_ok("#cloud-config\n"
                                              "base: &b\n  x: 1\n  y: 2\n"
                                              "other: &o\n  y: 20\n  z: 30\n"
                                              "m:\n  <<: [*b, *o]\n  x: 10\n"
                                              "q:\n  \"<<\": literal\n"
                                              "s: &s hello\n"
                                              "t: *s\n");
        int64_t v;
        assert_int_equal(env_get_int(e, "m:x", 0, &v), 0);
        assert_int_equal(v, 10);
        assert_int_equal(env_get_int(e, "m:y", 0, &v), 0);
        assert_int_equal(v, 2);   /* the earlier mapping of the list wins */
        assert_int_equal(env_get_int(e, "m:z", 0, &v), 0);
        assert_int_equal(v, 30);
        assert_string_equal(env_get_string(e, "q:<<", NULL), "literal");
        assert_string_equal(env_get_string(e, "t", NULL), "hello");
        /* the mapping's own keys override merged ones without a duplicate warning */
        assert_null(env_warnings(e)[0]);
}

static void test_scalar_resolution(void **state) {
        static const struct {
                const char *in;
                int kind;     /* -1: null */
        } rows[] = {
                { "", -1 }, { "~", -1 }, { "null", -1 }, { "Null", -1 }, { "NULL", -1 }, { "nULL", ENV_SCALAR_STRING },
                { "yes", ENV_SCALAR_BOOL }, { "No", ENV_SCALAR_BOOL }, { "ON", ENV_SCALAR_BOOL },
                { "oFF", ENV_SCALAR_STRING }, { "y", ENV_SCALAR_STRING }, { "TRUE", ENV_SCALAR_BOOL },
                { "0", ENV_SCALAR_INT }, { "-0", ENV_SCALAR_INT }, { "0x1F", ENV_SCALAR_INT }, { "0b101", ENV_SCALAR_INT },
                { "017", ENV_SCALAR_INT }, { "09", ENV_SCALAR_STRING }, { "1_000", ENV_SCALAR_INT },
                { "1:30", ENV_SCALAR_INT }, { "1:60", ENV_SCALAR_STRING }, { "0o17", ENV_SCALAR_STRING },
                { "1.5", ENV_SCALAR_FLOAT }, { "1.", ENV_SCALAR_FLOAT }, { ".5", ENV_SCALAR_FLOAT },
                { "-.5", ENV_SCALAR_STRING }, { "1e3", ENV_SCALAR_STRING }, { "1.0e+3", ENV_SCALAR_FLOAT },
                { "1.0e3", ENV_SCALAR_STRING }, { ".inf", ENV_SCALAR_FLOAT }, { "-.Inf", ENV_SCALAR_FLOAT },
                { ".NaN", ENV_SCALAR_FLOAT }, { "1:30.5", ENV_SCALAR_FLOAT }, { "2001-12-14", ENV_SCALAR_STRING },
                { "example.org", ENV_SCALAR_STRING },
        };
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                const char *s = rows[i].in;
                int got = env_scalar_is_null(s, strlen(s)) ? -1 : (int) env_scalar_resolve(s, strlen(s));
                if (got != rows[i].kind)
                        fail_msg("'%s': resolved to %d, expected %d", s, got, rows[i].kind);
        }
}

/* One env.yml line under "ecs:" and the exact flattened output expected (format sh). */
static char *merge_doc(unsigned keys, unsigned copies) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        fputs("#cloud-config\nbig: &big\n", f);
        for (unsigned i = 0; i < keys; i++)
                fprintf(f, "  k%u: v\n", i);
        fputs("copies:\n", f);
        for (unsigned i = 0; i < copies; i++)
                fputs("  - <<: *big\n", f);
        fclose(f);
        return buf;
}

static char *number_doc(const char *prefix, size_t digits, const char *suffix) {
        char *s = malloc(strlen(prefix) + digits + strlen(suffix) + 1);
        strcpy(s, prefix);
        memset(s + strlen(prefix), '7', digits);
        strcpy(s + strlen(prefix) + digits, suffix);
        return s;
}

static void test_load_bounds(void **state) {
        _cleanup_free_ char *err = NULL;
        Env *e = NULL;

        (void) state;
        /* a merge bomb: 20,000 mappings each merging one of 20,000 keys (400 million pairs) stops
         * at 100,000 pairs copied in the whole document, naming the merge that crossed the bound */
        _cleanup_free_ char *bomb = merge_doc(20000, 20000);
        assert_int_equal(env_load_buffer("t.yml", bomb, strlen(bomb), &e, &err), -E2BIG);
        assert_null(e);
        assert_string_equal(err, "t.yml:20009:5: merge keys expand to more than 100000 keys in the document");
        free(err), err = NULL;
        /* up to the bound it is an ordinary document: 50 copies of 2,000 keys */
        _cleanup_free_ char *fine = merge_doc(2000, 50);
        e = load_ok(fine);
        assert_string_equal(env_get_string(e, "copies:49:k1999", NULL), "v");
        e = env_free(e);

        /* numbers: 4300 characters at most (a million digits took minutes to flatten) */
        _cleanup_free_ char *ok = number_doc("#cloud-config\nn: ", 4300, "\n"),
                            *big = number_doc("#cloud-config\nn: ", 1000000, "\n"),
                            *flt = number_doc("#cloud-config\nn: 0.", 4400, "\n"),
                            *tagged = number_doc("#cloud-config\nn: !!int ", 4301, "\n"),
                            *quoted = number_doc("#cloud-config\nn: '", 1000000, "'\n");
        e = load_ok(ok);
        _cleanup_free_ char *text = NULL;
        assert_int_equal(env_flatten(e, (char *[]) { (char *) "n", NULL }, ENV_FLATTEN_SH, &text), 0);
        assert_non_null(strstr(text, ok + strlen("#cloud-config\nn: "))); /* the 4300 digits and the newline */
        e = env_free(e);
        assert_int_equal(env_load_buffer("t.yml", big, strlen(big), &e, &err), -E2BIG);
        assert_string_equal(err, "t.yml:2:4: a number of 1000000 characters (at most 4300; quote it to make it a string)");
        free(err), err = NULL;
        assert_int_equal(env_load_buffer("t.yml", flt, strlen(flt), &e, &err), -E2BIG);
        free(err), err = NULL;
        assert_int_equal(env_load_buffer("t.yml", tagged, strlen(tagged), &e, &err), -E2BIG);
        free(err), err = NULL;
        e = load_ok(quoted);     /* a string of digits is only a string */
        assert_int_equal(strlen(env_get_string(e, "n", "")), 1000000);
        e = env_free(e);
}

int main(int argc, char *argv[]) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_load_errors),
                cmocka_unit_test(test_duplicates_and_warnings),
                cmocka_unit_test(test_accessors),
                cmocka_unit_test(test_anchors_merge),
                cmocka_unit_test(test_scalar_resolution),
                cmocka_unit_test(test_load_bounds),
        };
        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("env", tests, NULL, NULL);
}
