/**
 * Unit tests of the agent's steps: key and link checks, and each step run against a fresh temporary root (env activation, bad envs and the failed
 * flag, recovery, standby, storage layout and moves, host configuration, services and health).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <alloca.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "agent-path.h"
#include "agent-test-root.h"
#include "appliance.h"
#include "cleanup.h"
#include "env-check.h"
#include "fileio.h"
#include "hostname.h"
#include "prepare-appliance.h"
#include "prepare-env.h"
#include "prepare-storage.h"
#include "spawn.h"
#include "ssh-keys.h"

#define KEY1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGp3mBq0mIu1I6SuUBN7xQJ0ZpjU8Qbhk2Xh4m1QpIzb one@example"
#define KEY2 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKx9T1jxX2u3bX9tqQWb1h5pVnC3Jb0tA0Nq2RrX0c9a two@example"

/* The keys every profile has (the agent reads the builder's profile with the builder's parser). */
#define PROFILE_HEAD "distribution: debian\nsuite: bookworm\npackages: [udev]\n"

/* ---- checks ---- */

static void test_checks(void **state) {
        (void) state;
        _cleanup_free_ char *id = ssh_key_identity("command=\"x\" " KEY1);
        assert_string_equal(id, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGp3mBq0mIu1I6SuUBN7xQJ0ZpjU8Qbhk2Xh4m1QpIzb");

        _cleanup_free_ char *l1 = relative_link_target("/app/etc", "/data/etc"),
                            *l2 = relative_link_target("/var/lib/postgresql", "/data/postgresql");
        assert_string_equal(l1, "../data/etc");
        assert_string_equal(l2, "../../data/postgresql");

        _cleanup_free_ char *q = json_quote("a\"b\\c\nd\x01");
        assert_string_equal(q, "\"a\\\"b\\\\c\\nd\\u0001\"");
}


/* ---- steps against a temporary root ---- */

static int setup_root(void **state) {
        Fixture *f = fixture_new("test-agent");

        assert_non_null(f);
        assert_int_equal(write_at(f->dir, "/etc/passwd",
                                  "root:x:0:0:root:/root:/bin/sh\napp:x:1001:1001::/app:/bin/sh\n"
                                  "postgres:x:115:120::/var/lib/postgresql:/bin/sh\n"), 0);
        assert_int_equal(write_at(f->dir, "/etc/group", "root:x:0:\napp:x:1001:\npostgres:x:120:\nadm:x:4:\n"), 0);
        *state = f;
        return 0;
}

static int teardown_root(void **state) {
        return fixture_free(*state);
}

static const char good_env[] =
        "#cloud-config\n"
        "ssh_authorized_keys:\n"
        "  - " KEY1 "\n"
        "  - " KEY2 "\n"
        "ssh_deprecated_keys:\n"
        "  - " KEY2 "\n"
        "appliance:\n"
        "  domain: ecs.example.org\n"
        "  extra:\n"
        "    files:\n"
        "      - path: /etc/appliance/extra.conf\n"
        "        contents: |\n"
        "          line one\n"
        "        owner: app:adm\n"
        "        permissions: \"0640\"\n"
        "ecs:\n"
        "  settings: |\n"
        "    DEBUG = False\n"
        "  vault_encrypt: |\n"
        "    -----BEGIN PGP PRIVATE KEY BLOCK-----\n"
        "    (the agent checks the armour only)\n"
        "    -----END PGP PRIVATE KEY BLOCK-----\n"
        "  vault_sign: |\n"
        "    -----BEGIN PGP PRIVATE KEY BLOCK-----\n"
        "    -----END PGP PRIVATE KEY BLOCK-----\n"
        "  database: ecs\n";

static void test_env_local_and_idempotent(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *active = NULL, *json = NULL;
        struct stat st;

        assert_int_equal(write_at(f->dir, "/app/env.yml", good_env), 0);
        assert_int_equal(step_prepare_env(&f->agent), 0);
        active = read_at(f->dir, AGENT_ACTIVE_ENV);
        assert_non_null(active);
        assert_string_equal(active, good_env); /* the file as it was read, nothing added */
        _cleanup_free_ char *source = read_at(f->dir, AGENT_ENV_SOURCE), *origin = NULL;
        assert_true(asprintf(&origin, "USERDATA_TYPE=local\nUSERDATA_ORIGIN=%s/app/env.yml\n", f->dir) > 0);
        assert_string_equal(source, origin);
        _cleanup_free_ char *p = NULL;
        assert_true(asprintf(&p, "%s%s", f->dir, AGENT_ACTIVE_ENV) > 0);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);

        /* Activating /run/active-env.yml itself again changes nothing in it. */
        setenv("ENV_YML", p, 1);
        assert_int_equal(step_prepare_env(&f->agent), 0);
        unsetenv("ENV_YML");
        free(active);
        active = read_at(f->dir, AGENT_ACTIVE_ENV);
        assert_string_equal(active, good_env);

        assert_int_equal(agent_status_json(&f->agent, &json), 0);
        assert_non_null(strstr(json, "\"state\": \"starting\""));
        assert_non_null(strstr(json, "\"env_source\": \"local:"));
}

/* The active env is the file as it was read: no key can be smuggled in by a line edit, and every
 * valid shape of YAML activates with its own positions. */
static void test_env_as_written(void **state) {
        Fixture *f = *state;
        static const char *const good[] = {
                /* a block scalar at the end: "standby: true" is its text, not a key */
                "#cloud-config\nappliance:\n  domain: a.org\nUSERDATA_TYPE: |\n  standby: true\n",
                "#cloud-config\nappliance:\n  domain: a.org\n...\n",
                "#cloud-config\n{appliance: {domain: a.org, standby: false}, disable_root: false}\n",
                "#cloud-config\n  appliance:\n    domain: a.org\n  disable_root: false\n",
                "#cloud-config\r\nappliance:\r\n  domain: a.org\r\n  note: \"two\r\n    words\"\r\n",
                "#cloud-config\nappliance:\n  domain: a.org\n# the end\n#",
                "#cloud-config\nappliance:\n  domain: a.org\nUSERDATA_TYPE: local\nUSERDATA_TYPE: cidata",
        };
        static const struct {
                const char *text;
                const char *where; /* the position env check gives */
        } bad[] = {
                { "#cloud-config\r\nappliance:\r\n  x: 1\r\n  domain: \"a b\"\r\n", ":4:11: appliance:domain" },
                { "#cloud-config\n{appliance: {x: 1,\n  domain: \"a b\"}}\n...\n", ":3:11: appliance:domain" },
                { "#cloud-config\n  appliance:\n    domain: \"a b\"\n# end\n", ":3:13: appliance:domain" },
                { "#cloud-config\nappliance:\n  domain: a.org\n...\nx: 1\n", ":5:1:" },
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_(env_freep) Env *want = NULL, *got = NULL;
                _cleanup_free_ char *active = NULL, *err = NULL, *flat_want = NULL, *flat_got = NULL;
                char *all[] = { (char *) ".", NULL };

                assert_int_equal(write_at(f->dir, "/app/env.yml", good[i]), 0);
                if (step_prepare_env(&f->agent) != 0)
                        fail_msg("row %zu: not activated: %s", i, strna(read_at(f->dir, AGENT_FAILED_FLAG)));
                active = read_at(f->dir, AGENT_ACTIVE_ENV);
                assert_string_equal(active, good[i]);
                assert_false(exists_at(f->dir, AGENT_STANDBY_FLAG));
                assert_int_equal(env_load_buffer("env.yml", good[i], strlen(good[i]), &want, &err), 0);
                assert_int_equal(agent_load_active_env(&f->agent, &got), 0);
                assert_int_equal(env_flatten(want, all, ENV_FLATTEN_SH, &flat_want), 0);
                assert_int_equal(env_flatten(got, all, ENV_FLATTEN_SH, &flat_got), 0);
                assert_string_equal(flat_got, flat_want);
                assert_int_equal(env_get_bool(got, "appliance:standby", -1), strstr(good[i], "standby: false") ? 0 : -1);
        }

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *flag = NULL;

                assert_int_equal(write_at(f->dir, "/app/env.yml", bad[i].text), 0);
                assert_int_not_equal(step_prepare_env(&f->agent), 0);
                flag = read_at(f->dir, AGENT_FAILED_FLAG);
                if (!flag || !strstr(flag, bad[i].where))
                        fail_msg("row %zu: flag '%s' lacks '%s'", i, strna(flag), bad[i].where);
                unlink(strjoina(f->dir, AGENT_FAILED_FLAG));
                unlink(strjoina(f->dir, AGENT_FAILED_FLAG_MANUAL));
        }
}

static void test_env_bad(void **state) {
        Fixture *f = *state;
        static const struct {
                const char *text;
                const char *reason;   /* part of the failed flag's text */
        } rows[] = {
                { "appliance:\n  domain: x.org\n", "env.yml" },                               /* no #cloud-config */
                { "", "empty" },
                { "#cloud-config\nappliance: [\n", "Invalid env" },                          /* YAML syntax */
                { "#cloud-config\n- a\n- b\n", "Invalid env" },                              /* not a mapping */
                { "#cloud-config\ndisable_root: false\n", "appliance: required key is missing" },
                { "#cloud-config\nappliance:\n  standby: false\n", "appliance:domain: required key is missing" },
                { "#cloud-config\nappliance:\n  domain: \"bad_name!\"\n", "not a valid host name" },
                { "#cloud-config\nappliance:\n  domain: a.org\n  standby: perhaps\n", "appliance:standby: expected true or false" },
                { "#cloud-config\nssh_authorized_keys: ssh-rsa AAAA\nappliance:\n  domain: a.org\n", "ssh_authorized_keys: expected a list" },
                { "#cloud-config\nssh_authorized_keys: [hello]\nappliance:\n  domain: a.org\n", "not an ssh public key" },
                { "#cloud-config\nappliance:\n  domain: a.org\n  ssl:\n    key: \"-----BEGIN PRIVATE KEY-----\"\n", "ssl:key and ssl:cert must be set together" },
                { "#cloud-config\nappliance:\n  domain: a.org\n  extra:\n    files:\n      - path: relative\n", "must be an absolute path" },
                { "#cloud-config\nappliance:\n  domain: a.org\n  extra:\n    files:\n      - {path: /x, permissions: \"rw\"}\n", "must be an octal mode" },
                { "#cloud-config\nappliance:\n  domain: a.org\n  storage:\n    ignore:\n      data: sometimes\n", "ignore:data: expected true or false" },
                { "#cloud-config\nappliance:\n  domain: 0x10\n", "appliance:domain: expected a string, found an integer" },
                { "#cloud-config\nappliance:\n  domain: a-.example.org\n", "not a valid host name" },
                { "#cloud-config\nappliance:\n  domain: a.org\necs:\n  settings: x\n", "ecs:vault_encrypt: required key is missing" },
        };

        /* A good env first: it must survive every bad one. */
        assert_int_equal(write_at(f->dir, "/app/env.yml", good_env), 0);
        assert_int_equal(step_prepare_env(&f->agent), 0);
        _cleanup_free_ char *good_active = read_at(f->dir, AGENT_ACTIVE_ENV);

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ char *flag = NULL, *flag2 = NULL, *active = NULL;

                assert_int_equal(write_at(f->dir, "/app/env.yml", rows[i].text), 0);
                assert_int_not_equal(step_prepare_env(&f->agent), 0);
                flag = read_at(f->dir, AGENT_FAILED_FLAG);
                flag2 = read_at(f->dir, AGENT_FAILED_FLAG_MANUAL);
                if (!flag || !strstr(flag, rows[i].reason))
                        fail_msg("row %zu: flag '%s' lacks '%s'", i, flag ?: "(none)", rows[i].reason);
                assert_non_null(flag2);
                active = read_at(f->dir, AGENT_ACTIVE_ENV);
                assert_string_equal(active, good_active);
                /* Later steps refuse. */
                assert_int_equal(step_prepare_storage(&f->agent), -EBUSY);
                assert_false(exists_at(f->dir, "/data"));
                unlink(strjoina(f->dir, AGENT_FAILED_FLAG));
                unlink(strjoina(f->dir, AGENT_FAILED_FLAG_MANUAL));
        }

        /* No env at all: not a failure but the unconfigured appliance (test-provision.c). */
        unlink(strjoina(f->dir, "/app/env.yml"));
        assert_int_equal(step_prepare_env(&f->agent), 0);
        assert_false(exists_at(f->dir, AGENT_FAILED_FLAG));
        _cleanup_free_ char *flag = read_at(f->dir, AGENT_UNCONFIGURED_FLAG);
        assert_non_null(flag);
        assert_non_null(strstr(flag, "No env found"));
        _cleanup_free_ char *page = read_at(f->dir, AGENT_WWW_DIR "/503.html");
        assert_non_null(strstr(page, "Appliance Unconfigured"));
}

static void test_public_line(void **state) {
        _cleanup_free_ char *big = malloc(10 * 1024 * 1024 + 1), *wide = NULL, *a = NULL, *b = NULL, *c = NULL,
                            *d = NULL, *e = NULL;
        (void) state;

        assert_non_null(big);
        memset(big, 'x', 10 * 1024 * 1024);
        big[10 * 1024 * 1024] = 0;
        a = agent_public_line(big);
        assert_int_equal(strlen(a), AGENT_PUBLIC_MAX);
        assert_true(endswith(a, "xxx..."));
        b = agent_public_line(a); /* the public form of a public line is itself */
        assert_string_equal(a, b);

        /* Two-byte characters are never split; line ends, controls and invalid bytes go. */
        wide = malloc(2 * 300 + 1);
        assert_non_null(wide);
        for (size_t i = 0; i < 300; i++)
                memcpy(wide + 2 * i, "\xc3\xa9", 2);
        wide[600] = 0;
        c = agent_public_line(wide);
        assert_true(strlen(c) <= AGENT_PUBLIC_MAX);
        assert_true(endswith(c, "\xc3\xa9..."));
        d = agent_public_line("one\ntwo\r\tthree \x1b[31m \xff\xc3(");
        assert_string_equal(d, "one two  three  [31m ?" "?(");
        e = agent_public_line(NULL);
        assert_string_equal(e, "");
}

static void test_public_reason_secrets(void **state) {
        static const char text[] =
                "#cloud-config\n"
                "appliance:\n"
                "  domain: a.org\n"
                "  backup:\n"
                "    encrypt: |\n"
                "      -----BEGIN PGP PRIVATE KEY BLOCK-----\n"
                "      lQOYBGsPP+cBCADWN6Rfbem4\n"
                "      -----END PGP PRIVATE KEY BLOCK-----\n"
                "ecs:\n"
                "  settings: \"SECRET_KEY = 'django-sekrit'\"\n"
                "  userswitcher:\n"
                "    enabled: true\n";
        _cleanup_(env_freep) Env *env = NULL;
        _cleanup_free_ char *err = NULL, *pub = NULL, *same = NULL, *big = NULL, *cut = NULL;
        (void) state;

        assert_int_equal(env_load_buffer("env.yml", text, strlen(text), &env, &err), 0);
        pub = agent_public_reason(NULL, "bad 'lQOYBGsPP+cBCADWN6Rfbem4' and SECRET_KEY = 'django-sekrit' for a.org, true",
                                  env);
        assert_string_equal(pub, "bad '[secret]' and [secret] for a.org, true");
        same = agent_public_reason(NULL, pub, env);
        assert_string_equal(same, pub);

        /* A reason longer than the scan that quotes a secret is withheld as a whole. */
        big = malloc(AGENT_REASON_SCAN + 100);
        assert_non_null(big);
        memset(big, 'y', AGENT_REASON_SCAN + 99);
        memcpy(big, "lQOYBGsPP+cBCADWN6Rfbem4", 24);
        big[AGENT_REASON_SCAN + 99] = 0;
        cut = agent_public_reason(NULL, big, env);
        assert_null(strstr(cut, "yyy"));
        assert_null(strstr(cut, "lQOY"));
}

/* A failure's reason on the public pages: bounded, escaped, no secret; the flags are root's. */
static void test_public_pages(void **state) {
        Fixture *f = *state;
        const size_t n = 10 * 1024 * 1024;
        _cleanup_free_ char *env = malloc(n + 200), *flag = NULL, *page = NULL, *json = NULL, *rec = NULL;
        struct stat st;

        assert_non_null(env);
        strcpy(env, "#cloud-config\nappliance:\n  domain: \"<b>");
        memset(env + strlen(env), 'd', n);
        strcpy(env + strlen("#cloud-config\nappliance:\n  domain: \"<b>") + n, "\"\n");
        assert_int_equal(write_at(f->dir, "/app/env.yml", env), 0);
        assert_int_not_equal(step_prepare_env(&f->agent), 0);

        flag = read_at(f->dir, AGENT_FAILED_FLAG);
        assert_non_null(flag);
        assert_true(strlen(flag) <= AGENT_PUBLIC_MAX + 1);
        assert_non_null(strstr(flag, "Invalid env: "));
        assert_non_null(strstr(flag, ":3:11: appliance:domain: '<b>ddd"));
        assert_int_equal(stat(strjoina(f->dir, AGENT_FAILED_FLAG), &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(stat(strjoina(f->dir, AGENT_FAILED_FLAG_MANUAL), &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);

        page = read_at(f->dir, AGENT_WWW_DIR "/503.html");
        assert_true(strlen(page) < 2048);
        assert_non_null(strstr(page, "&lt;b&gt;ddd"));
        assert_null(strstr(page, "<b>"));
        json = read_at(f->dir, AGENT_WWW_DIR "/status.json");
        assert_true(strlen(json) < 4096);
        assert_non_null(strstr(json, "\"failed_reason\": \"Invalid env: "));
        rec = read_at(f->dir, AGENT_STATE_DIR "/prepare-env");
        assert_true(strlen(rec) < 512);

        /* The manual's recovery still works. */
        assert_int_equal(unlink(strjoina(f->dir, AGENT_FAILED_FLAG_MANUAL)), 0);
        assert_int_equal(agent_failed_check(&f->agent, NULL), 0);
        assert_false(exists_at(f->dir, AGENT_FAILED_FLAG));

        /* A later step's reason quoting a value of a secret key of the active env. */
        assert_int_equal(write_at(f->dir, "/app/env.yml",
                                  "#cloud-config\nappliance:\n  domain: a.org\necs:\n  settings: x\n"
                                  "  vault_encrypt: \"-----BEGIN PGP PRIVATE KEY BLOCK-----\"\n  vault_sign: |\n"
                                  "    -----BEGIN PGP PRIVATE KEY BLOCK-----\n    topsecretvalue\n"
                                  "    -----END PGP PRIVATE KEY BLOCK-----\n"), 0);
        assert_int_equal(step_prepare_env(&f->agent), 0);
        assert_int_equal(agent_step_fail(&f->agent, "prepare-appliance", now_usec(), "cannot use 'topsecretvalue'"), -EIO);
        free(flag);
        flag = read_at(f->dir, AGENT_FAILED_FLAG);
        assert_string_equal(flag, "cannot use '[secret]'\n");
        free(json);
        json = read_at(f->dir, AGENT_WWW_DIR "/status.json");
        assert_null(strstr(json, "topsecretvalue"));
        free(rec);
        rec = read_at(f->dir, AGENT_STATE_DIR "/prepare-appliance");
        assert_null(strstr(rec, "topsecretvalue"));
}

static void test_failed_flag_recovery(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *reason = NULL, *json = NULL;

        assert_int_equal(write_at(f->dir, "/app/env.yml", good_env), 0);
        assert_int_equal(step_prepare_env(&f->agent), 0);
        assert_int_equal(agent_set_failed(&f->agent, "database missing"), 0);
        assert_int_equal(agent_failed_check(&f->agent, &reason), -EBUSY);
        assert_string_equal(reason, "database missing");
        assert_int_equal(agent_status_json(&f->agent, &json), 0);
        assert_non_null(strstr(json, "\"failed_reason\": \"database missing\""));

        assert_int_equal(step_prepare_storage(&f->agent), -EBUSY);
        /* prepare-appliance only sets up what the maintenance page needs. */
        assert_int_equal(step_prepare_appliance(&f->agent), 0);
        assert_true(exists_at(f->dir, "/app/etc/server.cert.pem"));
        assert_int_equal(agent_failed_check(&f->agent, NULL), -EBUSY);
        assert_int_equal(step_appliance(&f->agent), -EBUSY);
        assert_false(exists_at(f->dir, AGENT_READY_FLAG));
        /* prepare-env still runs while failed. */
        assert_int_equal(step_prepare_env(&f->agent), 0);

        /* The manual's recovery: rm /run/appliance_failed; systemctl restart appliance. */
        assert_int_equal(unlink(strjoina(f->dir, AGENT_FAILED_FLAG_MANUAL)), 0);
        assert_int_equal(step_prepare_storage(&f->agent), 0);
        assert_false(exists_at(f->dir, AGENT_FAILED_FLAG));
        assert_int_equal(step_prepare_appliance(&f->agent), 0);
        assert_int_equal(step_appliance(&f->agent), 0);
        assert_true(exists_at(f->dir, AGENT_READY_FLAG));

        /* The reference's spelling works the same way. */
        assert_int_equal(agent_set_failed(&f->agent, "again"), 0);
        assert_false(exists_at(f->dir, AGENT_READY_FLAG));
        assert_int_equal(unlink(strjoina(f->dir, AGENT_FAILED_FLAG)), 0);
        assert_int_equal(step_appliance(&f->agent), 0);
        assert_false(exists_at(f->dir, AGENT_FAILED_FLAG_MANUAL));
}

static void test_standby(void **state) {
        Fixture *f = *state;

        assert_int_equal(write_at(f->dir, "/app/env.yml", "#cloud-config\nappliance:\n  domain: a.org\n  standby: yes\n"), 0);
        assert_int_equal(step_prepare_env(&f->agent), 0);
        assert_true(exists_at(f->dir, AGENT_STANDBY_FLAG));
        assert_false(exists_at(f->dir, AGENT_FAILED_FLAG));
        _cleanup_free_ char *page = read_at(f->dir, AGENT_WWW_DIR "/503.html");
        assert_non_null(strstr(page, "Appliance Standby"));
        assert_int_equal(step_prepare_storage(&f->agent), 0);
        assert_false(exists_at(f->dir, "/data"));
        assert_int_equal(step_appliance(&f->agent), 0);
        assert_false(exists_at(f->dir, AGENT_READY_FLAG));

        assert_int_equal(write_at(f->dir, "/app/env.yml", "#cloud-config\nappliance:\n  domain: a.org\n"), 0);
        assert_int_equal(step_prepare_env(&f->agent), 0);
        assert_false(exists_at(f->dir, AGENT_STANDBY_FLAG));
}

static void test_storage_layout(void **state) {
        Fixture *f = *state;
        struct stat st;

        assert_int_equal(write_at(f->dir, "/app/env.yml", good_env), 0);
        assert_int_equal(write_at(f->dir, "/app/etc/keep.txt", "old config\n"), 0);
        assert_int_equal(write_at(f->dir, "/var/lib/postgresql/15/main/PG_VERSION", "15\n"), 0);
        assert_int_equal(write_at(f->dir, "/data/ecs-ca/ca.cert.pem", "existing\n"), 0);
        assert_int_equal(write_at(f->dir, "/app/ecs-ca/old.pem", "from the image\n"), 0);
        assert_int_equal(step_prepare_env(&f->agent), 0);
        assert_int_equal(step_prepare_storage(&f->agent), 0);

        /* Moved once and linked (relative links, valid in the image and under the root). */
        _cleanup_free_ char *keep = read_at(f->dir, "/data/etc/keep.txt"), *pg = read_at(f->dir, "/data/postgresql/15/main/PG_VERSION"),
                            *via = read_at(f->dir, "/app/etc/keep.txt");
        assert_string_equal(keep, "old config\n");
        assert_string_equal(pg, "15\n");
        assert_string_equal(via, "old config\n");
        char link[256];
        ssize_t n = readlink(strjoina(f->dir, "/var/lib/postgresql"), link, sizeof link - 1);
        assert_true(n > 0);
        link[n] = 0;
        assert_string_equal(link, "../../data/postgresql");

        /* A target that already holds data wins; the image's copy is kept aside. */
        _cleanup_free_ char *ca = read_at(f->dir, "/app/ecs-ca/ca.cert.pem"), *old = read_at(f->dir, "/app/ecs-ca.appliance-old/old.pem");
        assert_string_equal(ca, "existing\n");
        assert_string_equal(old, "from the image\n");

        /* Owners and modes of the reference. */
        assert_int_equal(stat(strjoina(f->dir, "/data/ecs-gpg"), &st), 0);
        assert_int_equal(st.st_uid, 1000);
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(stat(strjoina(f->dir, "/data/postgresql"), &st), 0);
        assert_int_equal(st.st_uid, 115);
        assert_int_equal(stat(strjoina(f->dir, "/data/etc"), &st), 0);
        assert_int_equal(st.st_uid, 1001);
        assert_int_equal(stat(strjoina(f->dir, "/volatile/grafana"), &st), 0);
        assert_int_equal(st.st_uid, 472);

        /* Second run: nothing to do. */
        assert_int_equal(step_prepare_storage(&f->agent), 0);
        _cleanup_free_ char *rec = read_at(f->dir, AGENT_STATE_DIR "/prepare-storage");
        assert_non_null(strstr(rec, "RESULT=ok\n"));
}

static void test_appliance_config(void **state) {
        Fixture *f = *state;
        struct stat st;

        assert_int_equal(write_at(f->dir, "/app/env.yml", good_env), 0);
        assert_int_equal(write_at(f->dir, "/root/.ssh/authorized_keys", "# mine\n" KEY2 "\n"), 0);
        assert_int_equal(write_at(f->dir, "/usr/share/appliance/templates/site.conf",
                                  "server_name {{ appliance:domain }};\ndb {{ ecs:database }}\n"), 0);
        assert_int_equal(write_at(f->dir, AGENT_PROFILE,
                                  PROFILE_HEAD "templates:\n  - src: /usr/share/appliance/templates/site.conf\n"
                                  "    dest: /etc/nginx/sites-enabled/appliance.conf\n    mode: \"0640\"\n"), 0);
        assert_true(mkdir_p(strjoina(f->dir, "/etc/ssh"), 0755) >= 0);
        assert_int_equal(step_prepare_env(&f->agent), 0);
        /* Host keys of this instance, made once. */
        _cleanup_free_ char *hk = read_at(f->dir, "/etc/ssh/ssh_host_ed25519_key.pub");
        assert_non_null(hk);
        assert_true(startswith(hk, "ssh-ed25519 "));
        assert_false(exists_at(f->dir, "/etc/ssh/ssh_host_rsa_key"));   /* made after the boot */
        assert_true(exists_at(f->dir, "/etc/ssh/ssh_host_ecdsa_key.pub"));
        assert_int_equal(step_prepare_env(&f->agent), 0);
        _cleanup_free_ char *hk2 = read_at(f->dir, "/etc/ssh/ssh_host_ed25519_key.pub");
        assert_string_equal(hk, hk2);
        assert_int_equal(step_prepare_storage(&f->agent), 0);
        assert_int_equal(step_prepare_appliance(&f->agent), 0);

        _cleanup_free_ char *hn = read_at(f->dir, "/etc/hostname"), *hosts = read_at(f->dir, "/etc/hosts"),
                            *rk = read_at(f->dir, "/root/.ssh/authorized_keys"), *ak = read_at(f->dir, "/app/.ssh/authorized_keys"),
                            *extra = read_at(f->dir, "/etc/appliance/extra.conf"),
                            *site = read_at(f->dir, "/etc/nginx/sites-enabled/appliance.conf"),
                            *cert = read_at(f->dir, "/data/etc/server.cert.pem");
        assert_string_equal(hn, "ecs.example.org\n");
        assert_non_null(strstr(hosts, "127.0.1.1\tecs.example.org ecs\n"));
        assert_string_equal(rk, "# mine\n" KEY1 "\n");   /* deprecated KEY2 removed, KEY1 added */
        assert_string_equal(ak, KEY1 "\n");
        assert_string_equal(extra, "line one\n");
        assert_string_equal(site, "server_name ecs.example.org;\ndb ecs\n");
        assert_non_null(strstr(cert, "BEGIN CERTIFICATE"));
        assert_int_equal(stat(strjoina(f->dir, "/etc/appliance/extra.conf"), &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        assert_int_equal(st.st_uid, 1001);
        assert_int_equal(st.st_gid, 4);
        assert_int_equal(stat(strjoina(f->dir, "/app/etc/server.key.pem"), &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);

        /* Second run: unchanged, the certificate is kept. */
        assert_int_equal(step_prepare_appliance(&f->agent), 0);
        _cleanup_free_ char *cert2 = read_at(f->dir, "/data/etc/server.cert.pem"),
                            *rec = read_at(f->dir, AGENT_STATE_DIR "/prepare-appliance");
        assert_string_equal(cert, cert2);
        assert_non_null(strstr(rec, "RESULT=ok\n"));

        /* A template that names a missing key fails the step with the file and line. */
        assert_int_equal(write_at(f->dir, "/usr/share/appliance/templates/site.conf", "ok\n{{ appliance:nope }}\n"), 0);
        assert_int_not_equal(step_prepare_appliance(&f->agent), 0);
        _cleanup_free_ char *flag = read_at(f->dir, AGENT_FAILED_FLAG);
        assert_non_null(strstr(flag, "site.conf:2: no such env key 'appliance:nope'"));
}

static void test_appliance_services(void **state) {
        Fixture *f = *state;
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof sa;
        _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        _cleanup_free_ char *profile = NULL;
        unsigned port;

        /* A real listener for the tcp: check, and a port nobody listens on for the failing one. */
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        assert_int_equal(listen(fd, 8), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        port = ntohs(sa.sin_port);

        assert_true(asprintf(&profile,
                             PROFILE_HEAD
                             "services:\n"
                             "  - unit: db.service\n    health: \"tcp:127.0.0.1:%u\"\n    timeout: 5\n"
                             "  - unit: check.service\n    health: \"exec:/bin/true\"\n",
                             port) > 0);
        assert_int_equal(write_at(f->dir, AGENT_PROFILE, profile), 0);
        assert_int_equal(write_at(f->dir, "/app/env.yml", good_env), 0);
        assert_int_equal(step_prepare_env(&f->agent), 0);
        assert_int_equal(step_appliance(&f->agent), 0);
        assert_true(exists_at(f->dir, AGENT_READY_FLAG));
        _cleanup_free_ char *svc = read_at(f->dir, "/run/appliance/services");
        assert_non_null(strstr(svc, "db.service\thealthy\t"));
        assert_non_null(strstr(svc, "check.service\thealthy\texec:/bin/true"));

        /* A health check that never passes: failed flag with the reason, no ready flag. */
        assert_int_equal(write_at(f->dir, AGENT_PROFILE,
                                  PROFILE_HEAD "services:\n  - unit: broken.service\n    health: \"exec:/bin/false\"\n    timeout: 1\n"), 0);
        assert_int_not_equal(step_appliance(&f->agent), 0);
        assert_false(exists_at(f->dir, AGENT_READY_FLAG));
        _cleanup_free_ char *flag = read_at(f->dir, AGENT_FAILED_FLAG);
        assert_non_null(strstr(flag, "Service 'broken.service' did not become healthy within 1 s"));
        _cleanup_free_ char *text = NULL;
        assert_int_equal(agent_status_text(&f->agent, &text), 0);
        assert_non_null(strstr(text, "State: failed"));
        assert_non_null(strstr(text, "broken.service"));
}

int main(int argc, char *argv[]) {
        const struct CMUnitTest tests[] = {
                
                cmocka_unit_test(test_checks),
                cmocka_unit_test_setup_teardown(test_env_local_and_idempotent, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_env_as_written, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_env_bad, setup_root, teardown_root),
                cmocka_unit_test(test_public_line),
                cmocka_unit_test(test_public_reason_secrets),
                cmocka_unit_test_setup_teardown(test_public_pages, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_failed_flag_recovery, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_standby, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_storage_layout, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_appliance_config, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_appliance_services, setup_root, teardown_root),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("agent", tests, NULL, NULL);
}
