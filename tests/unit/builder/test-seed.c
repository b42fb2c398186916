/**
 * Unit tests of the seed pieces that need no image: option parsing, user-data header detection,
 * YAML checks with positions, meta-data and preset generation, SSH key files, the preset merge.
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
#include <zlib.h>

#include "cleanup.h"
#include "macro.h"
#include "cli/seed-args.h"
#include "seed/config.h"
#include "seed/iso.h"
#include "seed/userdata.h"
#include "strv.h"
#include "yaml-util.h"

static int parse(SeedArgs *a, ...) {
        char *argv[32];
        int argc = 0;
        va_list ap;

        va_start(ap, a);
        for (char *s; (s = va_arg(ap, char *));)
                argv[argc++] = s;
        va_end(ap);
        argv[argc] = NULL;
        return seed_parse_argv(argc, argv, a);
}

static void test_parse_argv(void **state) {
        SeedArgs a = {};

        assert_int_equal(parse(&a, "seed", "-o", "s.iso", NULL), 1);
        assert_string_equal(a.output, "s.iso");
        assert_int_equal(a.preset, SEED_PRESET_NONE);
        assert_false(a.inspect);
        seed_args_done(&a);

        assert_int_equal(parse(&a, "seed", "--preset=vagrant", "--grow-root", "--hostname", "box.example.org",
                               "--instance-id", "iid-1", "--output=x.iso", "--label", "CIDATA", NULL),
                         1);
        assert_int_equal(a.preset, SEED_PRESET_VAGRANT);
        assert_true(a.grow_root);
        assert_string_equal(a.hostname, "box.example.org");
        assert_string_equal(a.instance_id, "iid-1");
        assert_string_equal(a.label, "CIDATA");
        seed_args_done(&a);

        assert_int_equal(parse(&a, "seed", "--preset", "root", "--ssh-key", "a.pub", "--ssh-key", "b.pub", "-o",
                               "s.iso", NULL),
                         1);
        assert_int_equal(strv_length(a.ssh_keys), 2);
        assert_string_equal(a.ssh_keys[1], "b.pub");
        seed_args_done(&a);

        assert_int_equal(parse(&a, "seed", "inspect", "s.iso", "--json", NULL), 1);
        assert_true(a.inspect);
        assert_true(a.json);
        assert_string_equal(a.inspect_path, "s.iso");
        seed_args_done(&a);

        assert_int_equal(parse(&a, "seed", "--help", NULL), 0);
        assert_int_equal(parse(&a, "seed", "inspect", "--help", NULL), 0);

        /* usage errors, each for one reason */
        static const char *const bad[][8] = {
                { "seed", NULL },                                               /* no -o */
                { "seed", "-o", NULL },                                         /* missing argument */
                { "seed", "-o", "x", "extra", NULL },                           /* stray argument */
                { "seed", "-o", "x", "--bogus", NULL },                         /* unknown option */
                { "seed", "-o", "x", "--preset", "ubuntu", NULL },              /* unknown preset */
                { "seed", "-o", "x", "--preset", "root", NULL },                /* root without keys */
                { "seed", "-o", "x", "--ssh-key", "k.pub", NULL },              /* key without preset */
                { "seed", "-o", "x", "--user-data", "u", "--env", "e", NULL },  /* two user-data */
                { "seed", "-o", "x", "--meta-data", "m", "--hostname", "h", NULL },
                { "seed", "-o", "x", "--hostname", "-bad-", NULL },
                { "seed", "-o", "x", "--instance-id", "a/b", NULL },
                { "seed", "-o", "x", "--json", NULL },
                { "seed", "inspect", NULL },
                { "seed", "inspect", "a.iso", "b.iso", NULL },
                { "seed", "inspect", "a.iso", "-o", "x", NULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *argv[9];
                int argc = 0;

                for (; bad[i][argc]; argc++)
                        argv[argc] = (char *) bad[i][argc];
                argv[argc] = NULL;
                a = (SeedArgs) {};
                int r = seed_parse_argv(argc, argv, &a);
                if (r != -EINVAL)
                        fail_msg("row %zu: seed_parse_argv returned %d, expected -EINVAL", i, r);
        }
}

static void test_detect(void **state) {
        static const struct {
                const char *in;
                UserDataType type;
        } rows[] = {
                { "", USER_DATA_EMPTY },
                { " \n\n", USER_DATA_EMPTY },
                { "#cloud-config\n", USER_DATA_CLOUD_CONFIG },
                { "#cloud-config-archive\n- type: x\n", USER_DATA_CLOUD_CONFIG_ARCHIVE },
                { "#cloud-config-jsonp\n", USER_DATA_CLOUD_CONFIG_JSONP },
                { "#!/bin/sh\necho hi\n", USER_DATA_SCRIPT },
                { "#cloud-boothook\n", USER_DATA_BOOTHOOK },
                { "#include\nhttp://x/\n", USER_DATA_INCLUDE },
                { "#include-once\nhttp://x/\n", USER_DATA_INCLUDE_ONCE },
                { "#part-handler\n", USER_DATA_PART_HANDLER },
                { "## template: jinja\n#cloud-config\n", USER_DATA_JINJA },
                { "Content-Type: multipart/mixed; boundary=\"x\"\nMIME-Version: 1.0\n\n", USER_DATA_MIME_MULTIPART },
                { "MIME-Version: 1.0\n", USER_DATA_MIME_MULTIPART },
                /* without MIME-Version cloud-init does not parse it as a message */
                { "Content-Type: multipart/mixed\n", USER_DATA_UNKNOWN },
                { "#cloud-cfg\n", USER_DATA_UNKNOWN },
                { " #cloud-config\n", USER_DATA_UNKNOWN },
                { "users: []\n", USER_DATA_UNKNOWN },
                { "\x1f\x8b\x08", USER_DATA_GZIP },
        };

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                UserDataType t = user_data_detect(rows[i].in, strlen(rows[i].in));
                if (t != rows[i].type)
                        fail_msg("row %zu: detected %s, expected %s", i, user_data_type_to_string(t),
                                 user_data_type_to_string(rows[i].type));
        }
        assert_string_equal(user_data_type_to_string(USER_DATA_CLOUD_CONFIG), "cloud-config");
        assert_null(user_data_type_to_string(_USER_DATA_TYPE_MAX));
}

static void test_user_data_validate(void **state) {
        static const struct {
                const char *in;
                int ret;
                const char *msg; /* expected error message (prefix) */
        } rows[] = {
                { "#cloud-config\nusers: []\n", 0, NULL },
                { "#cloud-config\n", 0, NULL },
                { "#!/bin/sh\n: {\n", 0, NULL }, /* scripts are not YAML */
                { "#cloud-config\nusers:\n\t- x\n", -EBADMSG,
                  "ud:3:1: found character that cannot start any token (while scanning for the next token at 3:1)" },
                { "#cloud-config\na: b: c\n", -EBADMSG,
                  "ud:2:5: mapping values are not allowed in this context" },
                { "#cloud-config\n- a\n", -EBADMSG, "ud:2:1: expected a mapping at the top level, found a sequence" },
                { "#cloud-config\na: 1\n---\nb: 2\n", -EBADMSG, "ud:3:1: a second YAML document starts here" },
                { "#cloud-config-archive\n- type: text/cloud-config\n", 0, NULL },
                { "#cloud-config-archive\na: 1\n", -EBADMSG, "ud:2:1: expected a sequence" },
                { "hello\n", -EBADMSG, "ud:1:1: unknown user-data header 'hello'" },
        };

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ char *err = NULL;
                int r = user_data_validate("ud", rows[i].in, strlen(rows[i].in), NULL, NULL, &err);

                if (r != rows[i].ret)
                        fail_msg("row %zu: returned %d, expected %d (%s)", i, r, rows[i].ret, strna(err));
                if (rows[i].msg && (!err || !startswith(err, rows[i].msg)))
                        fail_msg("row %zu: message '%s', expected '%s...'", i, strna(err), rows[i].msg);
        }
}

static void test_user_data_gzip(void **state) {
        const char *plain[] = { "#cloud-config\nhostname: a\n", "#cloud-config\na: [\n", "nothing known\n" };
        const int expect[] = { 0, -EBADMSG, -EBADMSG };

        for (size_t i = 0; i < ELEMENTSOF(plain); i++) {
                unsigned char out[512];
                z_stream z = {};
                _cleanup_free_ char *err = NULL;
                UserDataType t, inner;

                assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
                z.next_in = (Bytef *) plain[i];
                z.avail_in = (uInt) strlen(plain[i]);
                z.next_out = out;
                z.avail_out = sizeof out;
                assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
                size_t n = sizeof out - z.avail_out;
                deflateEnd(&z);

                assert_int_equal(user_data_detect(out, n), USER_DATA_GZIP);
                int r = user_data_validate("ud.gz", out, n, &t, &inner, &err);
                if (r != expect[i])
                        fail_msg("gzip row %zu: %d, expected %d (%s)", i, r, expect[i], strna(err));
                if (r == 0) {
                        assert_int_equal(t, USER_DATA_GZIP);
                        assert_int_equal(inner, USER_DATA_CLOUD_CONFIG);
                }
                /* truncated gzip */
                free(err);
                err = NULL;
                assert_int_equal(user_data_validate("ud.gz", out, n / 2, NULL, NULL, &err), -EBADMSG);
                assert_non_null(err);
        }
}

static void test_yaml_check(void **state) {
        static const struct {
                const char *in;
                YamlCheckFlags flags;
                const char *msg; /* NULL: valid */
        } rows[] = {
                { "", YAML_CHECK_ROOT_MAPPING, NULL },
                { "# only a comment\n", YAML_CHECK_ROOT_MAPPING, NULL },
                { "{\"instance-id\": \"iid-local01\"}", YAML_CHECK_ROOT_MAPPING, NULL }, /* cloud-localds JSON */
                { "a: 1\nb: [1, 2\n", 0, "m:3:1: did not find expected ',' or ']' (while parsing a flow sequence at 2:4)" },
                { "a: 'x\n", 0, "m:2:1: found unexpected end of stream (while scanning a quoted scalar at 1:4)" },
                { "a: *nope\n", 0, "m:1:4: found undefined alias" },
                { "just text\n", YAML_CHECK_ROOT_MAPPING, "m:1:1: expected a mapping at the top level, found a scalar" },
                { "a: 1\na: 2\n", YAML_CHECK_NO_DUPLICATE_KEYS, "m:2:1: duplicate key 'a' (first at 1:1)" },
                { "a: 1\na: 2\n", 0, NULL },
                { "x:\n  k: 1\n  k: 2\n", YAML_CHECK_NO_DUPLICATE_KEYS, "m:3:3: duplicate key 'k' (first at 2:3)" },
                { "a: \"\x01\"\n", 0, "m:" },
        };

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ char *err = NULL;
                int r = yaml_check("m", rows[i].in, strlen(rows[i].in), rows[i].flags, &err);

                if (!rows[i].msg && r != 0)
                        fail_msg("row %zu: returned %d (%s), expected valid", i, r, strna(err));
                if (rows[i].msg && (r != -EBADMSG || !err || !startswith(err, rows[i].msg)))
                        fail_msg("row %zu: returned %d '%s', expected '%s...'", i, r, strna(err), rows[i].msg);
        }
}

static void test_yaml_lookup(void **state) {
        const char *doc = "#cloud-config\nappliance:\n  domain: ecs.example.org\n  list: [1]\nx: 1\nx: 2\n";
        _cleanup_free_ char *v = NULL;
        unsigned line = 0, col = 0;

        assert_int_equal(yaml_lookup(doc, strlen(doc), (const char *const[]) { "appliance", "domain", NULL }, &v,
                                     &line, &col),
                         1);
        assert_string_equal(v, "ecs.example.org");
        assert_int_equal(line, 3);
        assert_int_equal(col, 3);
        free(v);
        v = NULL;
        assert_int_equal(yaml_lookup(doc, strlen(doc), (const char *const[]) { "appliance", "list", NULL }, &v,
                                     NULL, NULL),
                         1);
        assert_null(v);
        assert_int_equal(yaml_lookup(doc, strlen(doc), (const char *const[]) { "x", NULL }, &v, &line, NULL), 1);
        assert_string_equal(v, "2"); /* the last one wins, as in yaml.safe_load() */
        assert_int_equal(line, 6);
        free(v);
        v = NULL;
        assert_int_equal(yaml_lookup(doc, strlen(doc), (const char *const[]) { "nope", NULL }, &v, NULL, NULL), 0);
        assert_int_equal(yaml_lookup("a: [", 4, (const char *const[]) { "a", NULL }, &v, NULL, NULL), 0);
}

static void test_meta_data(void **state) {
        _cleanup_free_ char *m = NULL, *m2 = NULL, *iid = NULL, *v = NULL;

        assert_int_equal(seed_meta_data_make("iid-abc", "host.example.org", &m), 0);
        assert_string_equal(m, "instance-id: \"iid-abc\"\nlocal-hostname: \"host.example.org\"\n");
        assert_int_equal(yaml_check("meta-data", m, strlen(m), YAML_CHECK_ROOT_MAPPING, NULL), 0);
        assert_int_equal(seed_meta_data_make("1234", NULL, &m2), 0);
        assert_string_equal(m2, "instance-id: \"1234\"\n");
        assert_int_equal(seed_meta_data_make("a b", NULL, &v), -EINVAL);
        assert_int_equal(seed_meta_data_make("iid", "bad_host", &v), -EINVAL);

        assert_int_equal(seed_instance_id_random(&iid), 0);
        assert_int_equal(strlen(iid), 20);
        assert_true(startswith(iid, "iid-"));
        assert_int_equal(strspn(iid + 4, "0123456789abcdef"), 16);
        assert_true(seed_instance_id_valid(iid));

        static const struct {
                const char *s;
                bool ok;
        } hosts[] = {
                { "a", true }, { "ecs.example.org", true }, { "a-b.c", true }, { "", false }, { "-a", false },
                { "a-", false }, { "a..b", false }, { "a.", false }, { "a_b", false }, { "ä", false },
                { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true },
                { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false },
        };
        for (size_t i = 0; i < ELEMENTSOF(hosts); i++)
                if (seed_hostname_valid(hosts[i].s) != hosts[i].ok)
                        fail_msg("host row %zu '%s'", i, hosts[i].s);
        assert_false(seed_instance_id_valid(".."));
        assert_false(seed_instance_id_valid("a/b"));
        assert_true(seed_instance_id_valid("i-0123:abc_DEF.x"));
}

static void test_epoch(void **state) {
        time_t t = 0;

        assert_int_equal(seed_parse_epoch("1700000000", &t), 0);
        assert_int_equal((long long) t, 1700000000LL);
        assert_int_equal(seed_parse_epoch("0", &t), 0);
        assert_int_equal(seed_parse_epoch("", &t), -EINVAL);
        assert_int_equal(seed_parse_epoch("-1", &t), -EINVAL);
        assert_int_equal(seed_parse_epoch("12x", &t), -EINVAL);
        assert_int_equal(seed_parse_epoch("99999999999999999999", &t), -ERANGE);
        assert_int_equal(seed_parse_epoch("253402300800", &t), -ERANGE);
}

static void test_ssh_keys(void **state) {
        _cleanup_strv_free_ char **k = NULL;
        _cleanup_free_ char *err = NULL;
        const char *good = "# comment\n\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN1YdxBpNlzxDqfJyw/QKow1F+wvG9hXGoqiysfJOn5Y me\n"
                           "no-pty,from=\"10.0.0.1\" ssh-rsa AAAAB3NzaC1yc2EAAAABIwAAAQEA6NF8iallvQVp22WDkTk x\r\n";

        assert_int_equal(seed_ssh_keys_parse("k.pub", good, &k, &err), 0);
        assert_int_equal(strv_length(k), 2);
        assert_true(startswith(k[0], "ssh-ed25519 AAAA"));
        assert_true(endswith(k[1], " x"));

        static const struct {
                const char *in;
                const char *msg;
        } bad[] = {
                { "", "k.pub: no SSH public key" },
                { "# only\n", "k.pub: no SSH public key" },
                { "ssh-ed25519\n", "k.pub:1: not an SSH public key" },
                { "\nssh-foo AAAAAAAAAAAAAAAAAAAA\n", "k.pub:2: not an SSH public key" },
                { "ssh-rsa AAAA$$$$AAAAAAAAAAAA\n", "k.pub:1: not an SSH public key" },
                { "-----BEGIN OPENSSH PRIVATE KEY-----\n", "k.pub:1: this is a private key" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_strv_free_ char **kk = NULL;
                free(err);
                err = NULL;
                assert_int_equal(seed_ssh_keys_parse("k.pub", bad[i].in, &kk, &err), -EBADMSG);
                if (!err || !startswith(err, bad[i].msg))
                        fail_msg("bad row %zu: '%s', expected '%s...'", i, strna(err), bad[i].msg);
        }
}

static void test_presets(void **state) {
        _cleanup_strv_free_ char **vk = NULL, **top = NULL, **top2 = NULL;
        _cleanup_free_ char *err = NULL, *cfg = NULL, *cfg2 = NULL, *doc = NULL, *v = NULL;
        char *keys[] = { (char *) "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN1YdxBpNlzxDqfJyw/QKow1F+wvG9hXGoqiysfJOn5Y a\"b", NULL };

        /* The Vagrant insecure keys from seed/, exactly. */
        assert_int_equal(seed_vagrant_keys(&vk, &err), 0);
        assert_int_equal(strv_length(vk), 2);
        assert_true(startswith(vk[0], "ssh-rsa AAAAB3NzaC1yc2EAAAABIwAAAQEA6NF8iallvQVp22WDkTkyrtvp9eWW6A8YVr+kz4Tj"));
        assert_true(endswith(vk[0], "jlqm8tehUc9c9WhQ== vagrant insecure public key"));
        assert_string_equal(vk[1], "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN1YdxBpNlzxDqfJyw/QKow1F+wvG9hXGoqiysfJOn5Y "
                                   "vagrant insecure public key");

        assert_int_equal(seed_preset_config(SEED_PRESET_VAGRANT, vk, NULL, true, &cfg, &top), 0);
        assert_true(strv_contains(top, "users") && strv_contains(top, "growpart") &&
                    strv_contains(top, "resize_rootfs"));
        assert_int_equal(asprintf(&doc, "#cloud-config\n%s", cfg), (int) strlen(cfg) + 14);
        assert_int_equal(yaml_check("ud", doc, strlen(doc), YAML_CHECK_ROOT_MAPPING | YAML_CHECK_NO_DUPLICATE_KEYS,
                                    &err),
                         0);
        assert_int_equal(yaml_lookup(doc, strlen(doc), (const char *const[]) { "resize_rootfs", NULL }, &v, NULL,
                                     NULL),
                         1);
        assert_string_equal(v, "true");
        assert_non_null(strstr(cfg, "sudo: \"ALL=(ALL) NOPASSWD:ALL\""));
        assert_non_null(strstr(cfg, "- name: vagrant"));

        /* root: the key with a quote in its comment survives as YAML */
        assert_int_equal(seed_preset_config(SEED_PRESET_ROOT, NULL, keys, false, &cfg2, &top2), 0);
        assert_non_null(strstr(cfg2, "disable_root: false"));
        assert_non_null(strstr(cfg2, "a\\\"b\""));
        assert_false(strv_contains(top2, "growpart"));
}

static void test_merge(void **state) {
        const char *settings = "growpart:\n  mode: auto\nresize_rootfs: true\n";
        char *keys[] = { (char *) "growpart", (char *) "resize_rootfs", NULL };
        _cleanup_free_ char *out = NULL, *err = NULL;
        size_t n = 0;
        const char *user = "#cloud-config\npackages: [vim]\nruncmd:\n  - echo hi"; /* no final newline */

        assert_int_equal(seed_cloud_config_merge("u", user, strlen(user), settings, keys, &out, &n, &err), 0);
        assert_string_equal(out, "#cloud-config\npackages: [vim]\nruncmd:\n  - echo hi\n"
                                 "growpart:\n  mode: auto\nresize_rootfs: true\n");
        assert_int_equal(n, strlen(out));

        const char *clash = "#cloud-config\nhostname: a\nresize_rootfs: false\n";
        free(out);
        out = NULL;
        assert_int_equal(seed_cloud_config_merge("u", clash, strlen(clash), settings, keys, &out, &n, &err),
                         -EBADMSG);
        assert_string_equal(err, "u:3:1: 'resize_rootfs' is also set by the preset options; remove it here or "
                                 "drop the option");

        const char *flow = "#cloud-config\n{hostname: a}\n";
        assert_int_equal(seed_cloud_config_merge("u", flow, strlen(flow), settings, keys, &out, &n, &err), -EBADMSG);
        assert_true(startswith(err, "u: cannot add the preset settings"));
        assert_null(out);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_argv),
                cmocka_unit_test(test_detect),
                cmocka_unit_test(test_user_data_validate),
                cmocka_unit_test(test_user_data_gzip),
                cmocka_unit_test(test_yaml_check),
                cmocka_unit_test(test_yaml_lookup),
                cmocka_unit_test(test_meta_data),
                cmocka_unit_test(test_epoch),
                cmocka_unit_test(test_ssh_keys),
                cmocka_unit_test(test_presets),
                cmocka_unit_test(test_merge),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
