/**
 * Unit tests of the cloud-config subset and the meta-data formats: what is applied, and a note for
 * everything that is not (unknown keys, hostile names, bad keys), with its path.
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
#include "cloud-config.h"
#include "macro.h"
#include "strv.h"

#define KEY1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGp3mBq0mIu1I6SuUBN7xQJ0ZpjU8Qbhk2Xh4m1QpIzb one@example"
#define KEY2 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKx9T1jxX2u3bX9tqQWb1h5pVnC3Jb0tA0Nq2RrX0c9a two@example"

static void test_cloud_config_subset(void **state) {
        (void) state;
        _cleanup_(cloud_config_done) CloudConfig c = {};
        _cleanup_free_ char *notes = NULL, *err = NULL;
        static const char ud[] =
                "#cloud-config\n"
                "users:\n"
                "  - default\n"
                "  - name: vagrant\n"
                "    groups: sudo, adm\n"
                "    sudo: ALL=(ALL) NOPASSWD:ALL\n"
                "    shell: /bin/bash\n"
                "    lock_passwd: true\n"
                "    ssh_authorized_keys: [\"" KEY1 "\"]\n"
                "    passwd: $6$abc\n"
                "  - name: ../x\n"
                "  - name: root\n"
                "    uid: 1000\n"
                "  - name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
                "  - name: ops\n"
                "    sudo: [\"ALL=(ALL) ALL\"]\n"
                "    ssh_authorized_keys: [\"not a key\"]\n"
                "ssh_authorized_keys:\n"
                "  - " KEY2 "\n"
                "hostname: box\n"
                "fqdn: box.example.org\n"
                "growpart: {mode: auto, devices: [\"/\"]}\n"
                "resize_rootfs: true\n"
                "disable_root: false\n"
                "packages: [nginx]\n"
                "runcmd: [\"rm -rf /\"]\n";

        assert_int_equal(cloud_config_parse(&c, "cidata user-data", ud, strlen(ud), &err), 0);
        notes = strv_join(c.notes, "\n");
        assert_int_equal(c.n_users, 3);   /* vagrant, root (uid checked when applied), ops */
        assert_string_equal(c.users[0].name, "vagrant");
        assert_string_equal(c.users[0].sudo, "ALL=(ALL) NOPASSWD:ALL");
        assert_string_equal(c.users[0].shell, "/bin/bash");
        assert_int_equal(strv_length(c.users[0].groups), 2);
        assert_string_equal(c.users[0].ssh_keys[0], KEY1);
        assert_string_equal(c.users[1].name, "root");
        assert_int_equal(c.users[1].uid, 1000);
        assert_string_equal(c.users[2].sudo, "ALL=(ALL) ALL");
        assert_null(c.users[2].ssh_keys);
        assert_string_equal(c.ssh_keys[0], KEY2);
        assert_string_equal(c.hostname, "box.example.org");
        static const char *const expect[] = {
                "users:0: 'default' skipped",
                "users:1:passwd: not supported",
                "users:2: refused: '../x' is not a valid user name",
                "users:4: refused: user name 'aaaa",
                "longer than 32 characters",
                "users:5:ssh_authorized_keys:0: refused: not an ssh public key",
                "cidata user-data: packages: not supported (outside the cloud-config subset)",
                "cidata user-data: runcmd: not supported",
        };
        for (size_t i = 0; i < ELEMENTSOF(expect); i++)
                if (!strstr(notes, expect[i]))
                        fail_msg("notes lack '%s':\n%s", expect[i], notes);
        assert_null(strstr(notes, "growpart"));
        assert_null(strstr(notes, "disable_root"));

        /* Not a cloud-config: an error with the position, nothing added. */
        assert_int_equal(cloud_config_parse(&c, "x", "#cloud-config\n[", 15, &err), -EBADMSG);
        assert_non_null(err);
}

static void test_meta_data(void **state) {
        (void) state;
        _cleanup_(cloud_config_done) CloudConfig c = {};
        static const char nocloud[] = "instance-id: iid-1\nlocal-hostname: host-a\npublic-keys:\n  - " KEY1 "\n";
        static const char nocloud_map[] = "public-keys:\n  main: \"" KEY2 "\"\n  bad: [hello]\n";
        static const char config2[] = "{\"uuid\": \"x\", \"hostname\": \"host-b.novalocal\", \"public_keys\": "
                                      "{\"mykey\": \"" KEY2 "\\n\"}}";

        assert_int_equal(cloud_meta_data_parse(&c, "cidata meta-data", META_DATA_NOCLOUD, nocloud, strlen(nocloud), NULL), 0);
        assert_string_equal(c.ssh_keys[0], KEY1);
        assert_string_equal(c.hostname, "host-a");
        assert_int_equal(cloud_meta_data_parse(&c, "m", META_DATA_NOCLOUD, nocloud_map, strlen(nocloud_map), NULL), 0);
        assert_string_equal(c.ssh_keys[1], KEY2);
        assert_non_null(strstr(c.notes[0], "m: public-keys:bad:0: refused: not an ssh public key"));
        cloud_config_done(&c);

        assert_int_equal(cloud_meta_data_parse(&c, "config-2", META_DATA_CONFIG2, config2, strlen(config2), NULL), 0);
        assert_int_equal(strv_length(c.ssh_keys), 0);   /* the trailing newline makes it two lines */
        assert_non_null(strstr(c.notes[0], "public_keys:mykey: refused"));
        assert_string_equal(c.hostname, "host-b.novalocal");
        cloud_config_done(&c);

        assert_int_equal(cloud_meta_data_add_ec2(&c, "public-keys/0/openssh-key", KEY1 "\n"), 0);
        assert_int_equal(cloud_meta_data_add_ec2(&c, "local-hostname", "ip-10-0-0-1.ec2.internal\n"), 0);
        assert_int_equal(cloud_meta_data_add_ec2(&c, "public-keys/1/openssh-key", "garbage"), 0);
        assert_string_equal(c.ssh_keys[0], KEY1);
        assert_int_equal(strv_length(c.ssh_keys), 1);
        assert_string_equal(c.hostname, "ip-10-0-0-1.ec2.internal");
        assert_non_null(strstr(c.notes[0], "ec2 meta-data: public-keys/1/openssh-key: refused"));
}

static void test_hostile_values(void **state) {
        _cleanup_(cloud_config_done) CloudConfig c = {};
        _cleanup_free_ char *notes = NULL, *err = NULL;
        static const char ud[] = "#cloud-config\n"
                                 "hostname: \"bad host;rm -rf /\"\n"
                                 "users: not-a-list\n"
                                 "ssh_authorized_keys: \"" KEY1 "\"\n";
        (void) state;

        assert_int_equal(cloud_config_parse(&c, "ud", ud, strlen(ud), &err), 0);
        assert_null(c.hostname);
        assert_int_equal(c.n_users, 0);
        notes = strv_join(c.notes, "\n");
        if (!strstr(notes, "hostname") || !strstr(notes, "users"))
                fail_msg("notes: %s", notes);
        /* a document that is no mapping is an error naming the position */
        assert_int_equal(cloud_config_parse(&c, "ud2", "#cloud-config\n- a\n", 16, &err), -EBADMSG);
        assert_non_null(strstr(err, "ud2:"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cloud_config_subset),
                cmocka_unit_test(test_meta_data),
                cmocka_unit_test(test_hostile_values),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
