/**
 * Unit tests of the env model: loader errors with positions, the header rule, duplicate keys,
 * typed accessors, YAML 1.1 scalar resolution, and the flattening rules (table-driven).
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

static void test_quote(void **state) {
        _cleanup_free_ char *a = env_quote("", 0, ENV_FLATTEN_SH), *b = env_quote("x'y", 3, ENV_FLATTEN_SH),
                            *c = env_quote("a`b\\c\n", 6, ENV_FLATTEN_SYSTEMD), *d = env_quote("plain", 5, ENV_FLATTEN_SYSTEMD);
        assert_string_equal(a, "''");
        assert_string_equal(b, "'x'\"'\"'y'");
        assert_string_equal(c, "\"a\\`b\\\\c\n\"");
        assert_string_equal(d, "plain");
}

int main(int argc, char *argv[]) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_load_errors),
                cmocka_unit_test(test_duplicates_and_warnings),
                cmocka_unit_test(test_accessors),
                cmocka_unit_test(test_anchors_merge),
                cmocka_unit_test(test_scalar_resolution),
                cmocka_unit_test(test_flatten_rules),
                cmocka_unit_test(test_flatten_roots_formats),
                cmocka_unit_test(test_flatten_alias_bomb),
                cmocka_unit_test(test_load_bounds),
                cmocka_unit_test(test_quote),
        };
        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("env", tests, NULL, NULL);
}
