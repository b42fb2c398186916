/**
 * Unit tests of the profile templates: every placeholder form and error against a real env.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "env.h"
#include "macro.h"
#include "template.h"

static Env *load_env(const char *text) {
        Env *e = NULL;
        _cleanup_free_ char *err = NULL;
        int r = env_load_buffer("env.yml", text, strlen(text), &e, &err);
        if (r < 0)
                fail_msg("env_load_buffer: %d %s", r, err ?: "");
        return e;
}

static void test_template(void **state) {
        _cleanup_(env_freep) Env *e = load_env("#cloud-config\nappliance:\n  domain: a.example.org\n  flag: true\n"
                                               "  empty:\n  list: [1, 2]\n  yes: yes\n  hex: 0x10\n  octal: 0777\n"
                                               "  float: 1.50\n  quoted: \"0777\"\n  block: |\n    line\n");
        static const struct {
                const char *in, *out, *error;
        } rows[] = {
                { "server_name {{ appliance:domain }};", "server_name a.example.org;", NULL },
                { "{{appliance:domain}}{{ appliance:flag }}", "a.example.orgtrue", NULL },
                { "{{ appliance:yes }} {{ appliance:hex }} {{ appliance:octal }} {{ appliance:float }}", "true 16 511 1.5", NULL },
                { "{{ appliance:quoted }}|{{ appliance:block }}|", "0777|line|", NULL },
                { "x={{ appliance:missing | fallback value }}.", "x=fallback value.", NULL },
                { "x={{ appliance:empty }}.", "x=.", NULL },
                { "\\{{ literal }}", "{{ literal }}", NULL },
                { "no placeholders\n", "no placeholders\n", NULL },
                { "a\n{{ appliance:nope }}", NULL, "t.conf:2: no such env key 'appliance:nope'" },
                { "{{ appliance:list }}", NULL, "t.conf:1: cannot insert a list or mapping 'appliance:list'" },
                { "{{ appliance:domain ", NULL, "t.conf:1: unterminated '{{'" },
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ char *out = NULL, *err = NULL;
                int r = template_render(e, "t.conf", rows[i].in, &out, &err);
                if (rows[i].out) {
                        assert_int_equal(r, 0);
                        assert_string_equal(out, rows[i].out);
                } else {
                        assert_int_equal(r, -EBADMSG);
                        assert_string_equal(err, rows[i].error);
                }
        }
}

static void test_lists_and_secrets(void **state) {
        _cleanup_(env_freep) Env *e = load_env("#cloud-config\nssh_authorized_keys:\n  - ssh-ed25519 AAAA one\n"
                                               "appliance:\n  domain: b.example.org\n  ssl:\n    key: |\n"
                                               "      -----BEGIN PRIVATE KEY-----\n      abc\n      -----END PRIVATE KEY-----\n");
        _cleanup_free_ char *out = NULL, *err = NULL;
        (void) state;

        /* list items by index; a block scalar keeps its lines (its final newline stripped) */
        assert_int_equal(template_render(e, "k.conf", "{{ ssh_authorized_keys:0 }}\n{{ appliance:ssl:key }}\n", &out, &err),
                         0);
        assert_string_equal(out, "ssh-ed25519 AAAA one\n-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n");
        free(out);
        out = NULL;
        assert_int_equal(template_render(e, "k.conf", "{{ ssh_authorized_keys:1 }}", &out, &err), -EBADMSG);
        assert_null(out);
        assert_string_equal(err, "k.conf:1: no such env key 'ssh_authorized_keys:1'");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_template),
                cmocka_unit_test(test_lists_and_secrets),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
