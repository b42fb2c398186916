/**
 * Unit tests of the quoting per output format (escape.h) and of the JSON string writer: each
 * escaper table-driven, each injection example of its format checked to stay one value.
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

#include "escape.h"
#include "macro.h"

typedef int (*Escaper)(const char *s, char **ret);

typedef struct Row {
        const char *in;
        int ret;
        const char *out;
} Row;

static void check_rows(const char *name, Escaper f, const Row *rows, size_t n) {
        for (size_t i = 0; i < n; i++) {
                char *out = NULL;
                int r = f(rows[i].in, &out);

                if (r != rows[i].ret)
                        fail_msg("%s(\"%s\") returned %d, expected %d", name, rows[i].in, r, rows[i].ret);
                if (r == 0 && !streq(out, rows[i].out))
                        fail_msg("%s(\"%s\") = \"%s\", expected \"%s\"", name, rows[i].in, out, rows[i].out);
                if (r < 0 && out)
                        fail_msg("%s(\"%s\") set the output on failure", name, rows[i].in);
                free(out);
        }
}

static void test_grub_quote(void **state) {
        static const Row rows[] = {
                { "/vmlinuz", 0, "'/vmlinuz'" },
                { "", 0, "''" },
                { "it's", 0, "'it'\\''s'" },
                { "$root; reboot", 0, "'$root; reboot'" },
                { "a'}menuentry 'x' {", 0, "'a'\\''}menuentry '\\''x'\\'' {'" },
                { "a\nb", -EINVAL, NULL },
                { "a\rb", -EINVAL, NULL },
                { "\x1b[2J", -EINVAL, NULL },
                { "a\x7f", -EINVAL, NULL },
        };
        (void) state;
        check_rows("grub_quote", grub_quote, rows, ELEMENTSOF(rows));
}

static void test_kernel_cmdline(void **state) {
        static const Row rows[] = {
                { "console=ttyS0,115200 net.ifnames=0", 0, "'console=ttyS0,115200' 'net.ifnames=0'" },
                { "  quiet  splash ", 0, "'quiet' 'splash'" },
                { "", 0, "" },
                { "systemd.unit=rescue.target init=/bin/sh", 0, "'systemd.unit=rescue.target' 'init=/bin/sh'" },
                { "quiet\n}\nmenuentry 'x' {", -EINVAL, NULL },
                { "quiet; reboot", -EINVAL, NULL },
                { "init=$prefix", -EINVAL, NULL },
                { "a=\"b c\"", -EINVAL, NULL },
                { "x=`id`", -EINVAL, NULL },
                { "a\\b", -EINVAL, NULL },
                { "a\tb", -EINVAL, NULL },
                { "caf\xc3\xa9", -EINVAL, NULL },
        };
        size_t off = 99;

        (void) state;
        check_rows("grub_quote_cmdline", grub_quote_cmdline, rows, ELEMENTSOF(rows));
        assert_int_equal(kernel_cmdline_check("quiet x=$y", &off), -EINVAL);
        assert_int_equal(off, 8);
        assert_int_equal(kernel_cmdline_check("quiet ro", &off), 0);
}

static void test_unit_escape_value(void **state) {
        static const Row rows[] = {
                { "/usr/bin/true", 0, "/usr/bin/true" },
                { "100%", 0, "100%%" },
                { "%n %i", 0, "%%n %%i" },
                { "a\\nb", 0, "a\\\\nb" },
                { "x\nExecStartPre=/bin/sh -c 'id'", -EINVAL, NULL },
                { "x\rExecStartPre=/bin/sh", -EINVAL, NULL },
                { "tab\there", -EINVAL, NULL },
        };
        (void) state;
        check_rows("unit_escape_value", unit_escape_value, rows, ELEMENTSOF(rows));
}

static void test_unit_name(void **state) {
        static const struct {
                const char *name;
                bool valid;
        } rows[] = {
                { "postgresql.service", true },
                { "postgresql@15-main.service", true },
                { "getty@.service", true },
                { "dev-disk-by\\x2dlabel-ecs\\x2ddata.device", true },
                { "a.socket", true },
                { ".service", false },
                { "x.conf", false },
                { "x", false },
                { "a@b@c.service", false },
                { "@x.service", false },
                { "a/b.service", false },
                { "a b.service", false },
                { "x\nExecStartPre=/bin/sh.service", false },
                { "x%i.service", false },
                { "", false },
        };
        char long_name[300];

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                if (unit_name_is_valid(rows[i].name) != rows[i].valid)
                        fail_msg("unit_name_is_valid(\"%s\") != %d", rows[i].name, rows[i].valid);
        memset(long_name, 'a', sizeof long_name);
        strcpy(long_name + 300 - 1 - strlen(".service"), ".service");
        assert_false(unit_name_is_valid(long_name));
        strcpy(long_name + 255 - strlen(".service"), ".service");
        assert_true(unit_name_is_valid(long_name));
}

static void test_qemu_escape(void **state) {
        static const Row rows[] = {
                { "out/disk.qcow2", 0, "out/disk.qcow2" },
                { "d,file=x.raw", 0, "d,,file=x.raw" },
                { "seed.iso,readonly=off", 0, "seed.iso,,readonly=off" },
                { ",,", 0, ",,,," },
                { "a\nb", -EINVAL, NULL },
        };
        (void) state;
        check_rows("qemu_escape_opt", qemu_escape_opt, rows, ELEMENTSOF(rows));
}

static void test_fstab_escape(void **state) {
        static const struct {
                const char *in, *out;
        } rows[] = {
                { "/data", "/data" },
                { "/my data", "/my\\040data" },
                { "/a\tb", "/a\\011b" },
                { "/a\n/b  /c ext4 defaults 0 0", "/a\\012/b\\040\\040/c\\040ext4\\040defaults\\0400\\0400" },
                { "/a\\b", "/a\\134b" },
        };
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                char *t = fstab_escape(rows[i].in);
                assert_non_null(t);
                assert_string_equal(t, rows[i].out);
                free(t);
        }
}

static void test_shell_quote(void **state) {
        static const struct {
                const char *in, *out;
        } rows[] = {
                { "plain-word_1.2:3,4=5/6@7%8+", "plain-word_1.2:3,4=5/6@7%8+" },
                { "", "''" },
                { "a b", "'a b'" },
                { "it's", "'it'\"'\"'s'" },
                { "$(id) `id` $HOME \\ \"", "'$(id) `id` $HOME \\ \"'" },
                { "line\nbreak", "'line\nbreak'" },
        };
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                char *t = shell_quote(rows[i].in, strlen(rows[i].in));
                assert_non_null(t);
                assert_string_equal(t, rows[i].out);
                free(t);
        }
        /* the length bounds the input: "abc" of "abcdef" */
        char *t = shell_quote("abcdef", 3);
        assert_string_equal(t, "abc");
        free(t);
}

static void test_html_escape(void **state) {
        char *t;

        (void) state;
        t = html_escape("<script>alert('x')</script> & \"q\"");
        assert_string_equal(t, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
        free(t);
        t = html_escape("");
        assert_string_equal(t, "");
        free(t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_grub_quote),       cmocka_unit_test(test_kernel_cmdline),
                cmocka_unit_test(test_unit_escape_value), cmocka_unit_test(test_unit_name),
                cmocka_unit_test(test_qemu_escape),      cmocka_unit_test(test_fstab_escape),
                cmocka_unit_test(test_shell_quote),      cmocka_unit_test(test_html_escape),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
