/**
 * Unit tests of provisioning: the Vagrant insecure keys, the report of env keys the image does not act on, and the unconfigured appliance (no env:
 * every step runs, nothing fails, the page and status say "unconfigured" until an env appears).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <alloca.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "agent-test-root.h"
#include "appliance.h"
#include "cleanup.h"
#include "cloud-config.h"
#include "fileio.h"
#include "prepare-appliance.h"
#include "prepare-env.h"
#include "prepare-storage.h"
#include "provision.h"
#include "spawn.h"
#include "strv.h"
#include "users.h"

#define KEY1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGp3mBq0mIu1I6SuUBN7xQJ0ZpjU8Qbhk2Xh4m1QpIzb one@example"
#define KEY2 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKx9T1jxX2u3bX9tqQWb1h5pVnC3Jb0tA0Nq2RrX0c9a two@example"

static int setup_root(void **state) {
        Fixture *f = fixture_new("test-provision");

        assert_non_null(f);
        assert_int_equal(write_at(f->dir, "/etc/passwd",
                                  "root:x:0:0:root:/root:/bin/sh\npostgres:x:115:120::/var/lib/postgresql:/bin/sh\n"), 0);
        assert_int_equal(write_at(f->dir, "/etc/group", "root:x:0:\npostgres:x:120:\nsudo:x:27:\nadm:x:4:syslog\n"), 0);
        assert_int_equal(write_at(f->dir, "/etc/shadow", "root:!:19000:0:99999:7:::\n"), 0);
        assert_int_equal(write_at(f->dir, "/etc/hostname", "box1\n"), 0);
        assert_int_equal(write_at(f->dir, "/usr/share/appliance/profile.yml",
                                  "distribution: debian\nsuite: bookworm\npackages: [udev]\n"
                                  "users:\n  - {name: app, uid: 1000, gid: 1000, home: /app, shell: /bin/bash}\n"
                                  "env_keys: [\"ecs:database\"]\n"), 0);
        *state = f;
        return 0;
}

static int teardown_root(void **state) {
        return fixture_free(*state);
}

static void test_insecure_keys(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *rsa = NULL, *ed = NULL, *keys = NULL, *text = NULL;
        UserSpec v = { .name = "vagrant", .uid = USER_ID_UNSET, .gid = USER_ID_UNSET };
        const char *data = getenv("TESTDATA");

        assert_int_equal(user_ensure(&f->agent, &v, NULL), 1);
        assert_int_equal(read_full_file(strjoina(data, "/../../seed/vagrant.pub"), &rsa, NULL, 0), 0);
        assert_int_equal(read_full_file(strjoina(data, "/../../seed/vagrant.pub.ed25519"), &ed, NULL, 0), 0);
        assert_true(ssh_key_is_vagrant_insecure(rsa));
        assert_true(ssh_key_is_vagrant_insecure(ed));
        assert_false(ssh_key_is_vagrant_insecure(KEY1));

        /* Only the insecure keys: kept (Vagrant still needs them). */
        assert_true(asprintf(&keys, "%s%s", rsa, ed) > 0);
        assert_int_equal(write_at(f->dir, "/home/vagrant/.ssh/authorized_keys", keys), 0);
        assert_int_equal(insecure_keys_cleanup(&f->agent), 0);
        /* Vagrant 2.3.4 replaced the RSA key with its own: the ed25519 one must go too. */
        free(keys);
        assert_true(asprintf(&keys, "%s%s\n", ed, KEY1) > 0);
        assert_int_equal(write_at(f->dir, "/home/vagrant/.ssh/authorized_keys", keys), 0);
        assert_int_equal(insecure_keys_cleanup(&f->agent), 1);
        text = read_at(f->dir, "/home/vagrant/.ssh/authorized_keys");
        assert_string_equal(text, KEY1 "\n");
        assert_int_equal(insecure_keys_cleanup(&f->agent), 0);
}

static const char original_env[] =
        "#cloud-config\n"
        "ssh_authorized_keys:\n"
        "disable_root: false\n"
        "appliance:\n"
        "  domain: ecs.example.org\n"
        "  allowed_hosts: ecs.example.org\n"
        "  ssl:\n"
        "    letsencrypt:\n"
        "      enabled: true\n"
        "    client_certs_mandatory: false\n"
        "  storage:\n"
        "    ignore: {volatile: true, data: true}\n"
        "  metric: {exporter: false, server: false}\n"
        "  backup:\n"
        "    url: file:///volatile/ecs-backup-test/\n"
        "    encrypt: |\n"
        "      -----BEGIN PGP PRIVATE KEY BLOCK-----\n"
        "      -----END PGP PRIVATE KEY BLOCK-----\n"
        "  extra:\n"
        "    files:\n"
        "      - path: /app/etc/extra.conf\n"
        "        contents: hello\n"
        "        owner: app:app\n"
        "        permissions: \"0600\"\n"
        "    packages: [htop]\n"
        "ecs:\n"
        "  database: ecs\n"
        "  userswitcher: {enabled: false}\n"
        "  settings: |\n"
        "    DEBUG = False\n"
        "  vault_encrypt: |\n"
        "    -----BEGIN PGP PRIVATE KEY BLOCK-----\n"
        "    -----END PGP PRIVATE KEY BLOCK-----\n"
        "  vault_sign: |\n"
        "    -----BEGIN PGP PRIVATE KEY BLOCK-----\n"
        "    -----END PGP PRIVATE KEY BLOCK-----\n";

static void test_original_env(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *notes = NULL, *json = NULL, *text = NULL;
        struct stat st;

        assert_int_equal(write_at(f->dir, "/app/env.yml", original_env), 0);
        assert_int_equal(step_prepare_env(&f->agent), 0);
        notes = read_at(f->dir, AGENT_NOTES_FILE);
        assert_non_null(notes);
        static const char *const expect[] = {
                "env: appliance:allowed_hosts: not supported by this profile\n",
                "env: appliance:extra:packages: not supported by this profile\n",
                "env: ecs:settings: not supported by this profile\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(expect); i++)
                if (!strstr(notes, expect[i]))
                        fail_msg("notes lack '%s':\n%s", expect[i], notes);
        /* Off, empty, acted on (by the agent or the profile's env_keys): not reported. */
        static const char *const quiet[] = { "metric", "userswitcher", "client_certs_mandatory", "ssh_authorized_keys",
                                             "disable_root", "ecs:database", "extra:files", "storage",
                                             "appliance:backup", "letsencrypt" };
        for (size_t i = 0; i < ELEMENTSOF(quiet); i++)
                if (strstr(notes, quiet[i]))
                        fail_msg("notes report '%s':\n%s", quiet[i], notes);
        assert_int_equal(agent_status_json(&f->agent, &json), 0);
        assert_non_null(strstr(json, "\"notes\": [\n    \"env: appliance:allowed_hosts"));
        assert_int_equal(agent_status_text(&f->agent, &text), 0);
        assert_non_null(strstr(text, "Notes (not supported by this image, or refused):\n  env: "));

        /* The app user exists (prepare-env made it), so the original's extra file owned by app works. */
        assert_int_equal(step_prepare_storage(&f->agent), 0);
        assert_int_equal(step_prepare_appliance(&f->agent), 0);
        assert_int_equal(stat(strjoina(f->dir, "/app/etc/extra.conf"), &st), 0);
        assert_int_equal(st.st_uid, 1000);
        assert_int_equal(st.st_gid, 1000);
        assert_int_equal(stat(strjoina(f->dir, "/data/etc"), &st), 0);
        assert_int_equal(st.st_uid, 1000);
        assert_false(exists_at(f->dir, AGENT_FAILED_FLAG));
}

static void test_unconfigured(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *json = NULL, *page = NULL, *text = NULL, *hosts = NULL;

        assert_int_equal(step_prepare_env(&f->agent), 0);
        assert_false(exists_at(f->dir, AGENT_FAILED_FLAG));
        assert_false(exists_at(f->dir, AGENT_ACTIVE_ENV));
        assert_true(exists_at(f->dir, "/app"));   /* the profile's user, env or not */
        assert_int_equal(agent_status_json(&f->agent, &json), 0);
        assert_non_null(strstr(json, "\"state\": \"unconfigured\""));
        assert_non_null(strstr(json, "\"unconfigured_reason\": \"No env found (tried "));
        assert_non_null(strstr(json, "env-create.sh DOMAIN DIR"));
        assert_non_null(strstr(json, "\"result\": \"unconfigured\""));

        /* Storage and host configuration still run, with the host name as the domain; the page
         * keeps saying unconfigured through every step. */
        assert_int_equal(step_prepare_storage(&f->agent), 0);
        assert_true(exists_at(f->dir, "/data/etc"));
        assert_int_equal(step_prepare_appliance(&f->agent), 0);
        assert_true(exists_at(f->dir, "/app/etc/server.cert.pem"));
        hosts = read_at(f->dir, "/etc/hosts");
        assert_non_null(strstr(hosts, "127.0.1.1\tbox1\n"));
        assert_int_equal(step_appliance(&f->agent), 0);
        page = read_at(f->dir, AGENT_WWW_DIR "/503.html");
        assert_non_null(strstr(page, "<h1>Appliance Unconfigured</h1>"));
        assert_false(exists_at(f->dir, AGENT_READY_FLAG));
        assert_int_equal(agent_status_text(&f->agent, &text), 0);
        assert_non_null(strstr(text, "State: unconfigured\nUnconfigured: No env found"));

        /* The manual: an env at /app/env.yml, then the next boot (prepare-env) configures. */
        assert_int_equal(write_at(f->dir, "/app/env.yml", original_env), 0);
        assert_int_equal(step_prepare_env(&f->agent), 0);
        assert_false(exists_at(f->dir, AGENT_UNCONFIGURED_FLAG));
        assert_true(exists_at(f->dir, AGENT_ACTIVE_ENV));
        free(json);
        assert_int_equal(agent_status_json(&f->agent, &json), 0);
        assert_non_null(strstr(json, "\"state\": \"starting\""));
        assert_int_equal(step_prepare_appliance(&f->agent), 0);
        free(hosts);
        hosts = read_at(f->dir, "/etc/hosts");
        assert_non_null(strstr(hosts, "127.0.1.1\tecs.example.org ecs\n"));
}

static void test_profile_user_conflict(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *notes = NULL;

        /* An image whose uid 1000 is taken: reported, the boot goes on. */
        assert_int_equal(write_at(f->dir, "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\ndebian:x:1000:1000::/home/debian:/bin/sh\n"), 0);
        assert_int_equal(step_prepare_env(&f->agent), 0);
        notes = read_at(f->dir, AGENT_NOTES_FILE);
        assert_non_null(strstr(notes, "profile: users:0: refused: user 'app': uid 1000 belongs to another user\n"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_insecure_keys, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_original_env, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_unconfigured, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_profile_user_conflict, setup_root, teardown_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
