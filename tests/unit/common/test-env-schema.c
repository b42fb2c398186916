/**
 * Unit tests of the env schema both programs apply: the value rules (host names, ssh keys, owners,
 * modes, paths) and the findings for whole envs, with their positions and key paths.
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
#include "env-schema.h"
#include "env.h"
#include "macro.h"

static void test_rules(void **state) {
        char label63[64], label64[65], long_name[300];
        (void) state;

        memset(label63, 'a', 63);
        label63[63] = 0;
        memset(label64, 'a', 64);
        label64[64] = 0;
        assert_true(env_hostname_is_valid("ecs.example.org"));
        assert_true(env_hostname_is_valid("localhost"));
        assert_true(env_hostname_is_valid("0x10.example.org"));
        assert_true(env_hostname_is_valid(label63));
        assert_false(env_hostname_is_valid(label64));
        assert_false(env_hostname_is_valid(""));
        assert_false(env_hostname_is_valid("-a.example"));
        assert_false(env_hostname_is_valid("a-.example.org"));
        assert_false(env_hostname_is_valid("a..b"));
        assert_false(env_hostname_is_valid(".a"));
        assert_false(env_hostname_is_valid("a."));
        assert_false(env_hostname_is_valid("a_b.example"));
        assert_false(env_hostname_is_valid("a.example-"));
        assert_false(env_hostname_is_valid("a b"));
        /* 4 x 63 + 3 dots = 255 > 253 */
        snprintf(long_name, sizeof(long_name), "%s.%s.%s.%s", label63, label63, label63, label63);
        assert_false(env_hostname_is_valid(long_name));
        long_name[253] = 0;   /* 253 characters ending inside the 4th label */
        assert_true(env_hostname_is_valid(long_name));

        assert_true(env_ssh_key_line_is_valid("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample a@b"));
        assert_true(env_ssh_key_line_is_valid("no-pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample"));
        assert_false(env_ssh_key_line_is_valid("hello world"));
        assert_false(env_ssh_key_line_is_valid("ssh-ed25519"));
        assert_false(env_ssh_key_line_is_valid("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample\nssh-rsa x"));

        assert_true(env_owner_is_valid("root"));
        assert_true(env_owner_is_valid("app:adm"));
        assert_true(env_owner_is_valid("1000:1000"));
        assert_true(env_owner_is_valid("4294967294"));
        assert_true(env_owner_is_valid("_svc$"));
        assert_false(env_owner_is_valid("-1"));
        assert_false(env_owner_is_valid("4294967295"));
        assert_false(env_owner_is_valid("root:-1"));
        assert_false(env_owner_is_valid("root:"));
        assert_false(env_owner_is_valid(":root"));
        assert_false(env_owner_is_valid("a b"));
        assert_false(env_owner_is_valid("../x"));
        assert_false(env_owner_is_valid("a:b:c"));

        assert_true(env_file_mode_is_valid("0600"));
        assert_true(env_file_mode_is_valid("4755"));
        assert_true(env_file_mode_is_valid("07777"));
        assert_false(env_file_mode_is_valid("0999"));
        assert_false(env_file_mode_is_valid("rw"));
        assert_false(env_file_mode_is_valid("17777"));
        assert_false(env_file_mode_is_valid("-644"));
        assert_false(env_file_mode_is_valid(""));

        assert_true(env_path_is_valid("/etc/x"));
        assert_true(env_path_is_valid("/etc/..x"));
        assert_false(env_path_is_valid("etc/x"));
        assert_false(env_path_is_valid("/etc/../shadow"));
        assert_false(env_path_is_valid("/.."));
        assert_false(env_path_is_valid("/a/.."));
        assert_false(env_path_is_valid("/a\nb"));
}

/* Checks text; returns the findings joined by newlines (errors prefixed "E ", warnings "W "). */
static char *check(const char *text, unsigned *ret_errors) {
        _cleanup_(env_findings_done) EnvFindings f = {};
        _cleanup_(env_freep) Env *e = NULL;
        _cleanup_free_ char *err = NULL;
        char *out = NULL;
        size_t len = 0;
        FILE *m;

        if (env_load_buffer("env.yml", text, strlen(text), &e, &err) < 0)
                fail_msg("load: %s", strna(err));
        assert_int_equal(env_schema_check(e, &f), 0);
        m = open_memstream(&out, &len);
        assert_non_null(m);
        for (size_t i = 0; i < f.n; i++)
                fprintf(m, "%s %s\n", f.items[i].error ? "E" : "W", f.items[i].text);
        assert_int_equal(fclose(m), 0);
        *ret_errors = f.errors;
        return out;
}

static void test_findings(void **state) {
        static const struct {
                const char *text;
                unsigned errors;
                const char *finding;   /* NULL: valid, no finding at all */
        } rows[] = {
                { "#cloud-config\nappliance:\n  domain: a.example.org\n", 0, NULL },
                { "#cloud-config\nappliance:\n  domain: 0x10\n", 1,
                  "E env.yml:3:11: appliance:domain: expected a string, found an integer (quote the value)" },
                { "#cloud-config\nappliance:\n  domain: yes\n", 1, "appliance:domain: expected a string, found a boolean" },
                { "#cloud-config\nappliance:\n  domain: \"0x10\"\n", 0, NULL },
                { "#cloud-config\nappliance:\n  domain: a-.example.org\n", 1,
                  "E env.yml:3:11: appliance:domain: 'a-.example.org' is not a valid host name" },
                { "#cloud-config\nappliance: {}\n", 1, "E env.yml:2:1: appliance:domain: required key is missing" },
                { "#cloud-config\nappliance:\n  domain:\n", 1, "appliance:domain: required key has no value" },
                { "#cloud-config\nappliance:\n  domain: a.org\n  nope: 1\n", 0,
                  "W env.yml:4:3: appliance:nope: unknown key, ignored by the appliance" },
                { "#cloud-config\nappliance:\n  domain: a.org\n  standby: \"true\"\n", 0, "W env.yml:4:12: appliance:standby: a quoted boolean" },
                { "#cloud-config\nappliance:\n  domain: a.org\n  extra:\n    files:\n      - path: /x\n        permissions: 0600\n", 1,
                  "E env.yml:7:22: appliance:extra:files:0:permissions: expected a string, found an integer" },
                { "#cloud-config\nappliance:\n  domain: a.org\n  extra:\n    files:\n      - path: /x\n        contents: 1.50\n", 1,
                  "appliance:extra:files:0:contents: expected a string, found a number" },
                { "#cloud-config\nappliance:\n  domain: a.org\n  extra:\n    files:\n      - {path: /x, owner: \"-1\"}\n", 1,
                  "appliance:extra:files:0:owner: must be \"user\" or \"user:group\"" },
                { "#cloud-config\nappliance:\n  domain: a.org\n  extra:\n    files:\n      - {path: /etc/../x}\n", 1,
                  "appliance:extra:files:0:path: must be an absolute path" },
                { "#cloud-config\nappliance:\n  domain: a.org\n  extra:\n    files:\n      - {path: /x, content: y}\n", 0,
                  "W env.yml:6:29: appliance:extra:files:0:content: deprecated spelling" },
                { "#cloud-config\nappliance:\n  domain: a.org\n  backup: {url: \"file:///x\"}\n", 1,
                  "appliance:backup:encrypt: required key is missing" },
                { "#cloud-config\nappliance:\n  domain: a.org\necs: {settings: x, vault_encrypt: x}\n", 2,
                  "ecs:vault_encrypt: must be an ASCII-armored OpenPGP secret key" },
                { "#cloud-config\nappliance:\n  domain: a.org\n  ssl: {cert: \"-----BEGIN CERTIFICATE-----\"}\n", 1,
                  "appliance:ssl:cert: ssl:key and ssl:cert must be set together" },
                { "#cloud-config\nappliance:\n  domain: a.org\n  update: {oncalendar: \"a\\nb\"}\n", 1,
                  "appliance:update:oncalendar: must be one non-empty line" },
                { "#cloud-config\nssh_authorized_keys: [hello]\nappliance:\n  domain: a.org\n", 1,
                  "E env.yml:2:23: ssh_authorized_keys:0: not an ssh public key" },
                { "#cloud-config\nappliance:\n  domain: a.org\n  storage: {grow_root: maybe}\n", 1,
                  "appliance:storage:grow_root: expected true or false, found a string" },
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                unsigned errors;
                _cleanup_free_ char *out = check(rows[i].text, &errors);

                if (errors != rows[i].errors || (rows[i].finding ? !strstr(out, rows[i].finding) : !isempty(out)))
                        fail_msg("row %zu: %u error(s), findings:\n%s", i, errors, out);
        }
}

static void test_long_value(void **state) {
        _cleanup_free_ char *text = NULL, *out = NULL;
        unsigned errors;
        (void) state;

        /* A reason quotes at most 64 bytes of a value. */
        assert_true(asprintf(&text, "#cloud-config\nappliance:\n  domain: \"%0100000d\\n\"\n", 0) > 0);
        out = check(text, &errors);
        assert_int_equal(errors, 1);
        assert_true(strlen(out) < 400);
        assert_non_null(strstr(out, "...'"));

        /* Keys are never quoted. */
        free(out);
        out = check("#cloud-config\nappliance:\n  domain: a.org\n  dkim: {key: hunter2}\n  backup: {encrypt: hunter3}\n",
                    &errors);
        assert_int_equal(errors, 2);
        assert_null(strstr(out, "hunter"));
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rules),
                cmocka_unit_test(test_findings),
                cmocka_unit_test(test_long_value),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("env-schema", tests, NULL, NULL);
}
