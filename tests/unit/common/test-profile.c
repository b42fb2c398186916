/**
 * Unit tests of the one profile parser (both programs use it): the shipped profiles load, broken
 * profiles are refused with file:line:column, the agent's keys (services, features, templates) are
 * read and checked, a missing file is an empty profile only when asked for.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "macro.h"
#include "profile.h"
#include "strv.h"

static const char *srcdir(void) {
        const char *s = getenv("SRCDIR");
        return s ?: ".";
}

static Profile *load_shipped(const char *name) {
        _cleanup_free_ char *dir = NULL, *err = NULL;
        Profile *p = NULL;
        int r;

        assert_true(asprintf(&dir, "%s/profiles", srcdir()) > 0);
        assert_int_equal(setenv("APPLIANCE_PROFILES_DIR", dir, 1), 0);
        r = profile_load(name, &p, &err);
        if (r < 0)
                fail_msg("profile %s: %s", name, strna(err));
        assert_non_null(p);
        return p;
}

static void test_minimal(void **state) {
        _cleanup_(profile_freep) Profile *p = load_shipped("minimal");
        static const char *const needed[] = {
                "linux-image-cloud-amd64", "systemd-sysv", "udev", "e2fsprogs", "openssh-server", "ca-certificates",
        };

        assert_string_equal(p->name, "minimal");
        assert_string_equal(p->distribution, "debian");
        assert_string_equal(p->suite, "bookworm");
        assert_string_equal(p->architecture, "amd64");
        for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
                assert_true(strv_contains(p->packages, needed[i]));
        assert_non_null(strstr(p->kernel_cmdline, "console=ttyS0"));
        assert_string_equal(p->sizing_class, "test");
        assert_int_equal(p->root_size, 0);
        /* The original's app user, in every shipped profile (test_ubuntu too). */
        assert_int_equal(p->n_users, 1);
        assert_string_equal(p->users[0].name, "app");
        assert_int_equal(p->users[0].uid, 1000);
        assert_int_equal(p->users[0].gid, 1000);
        assert_string_equal(p->users[0].home, "/app");
        assert_string_equal(p->users[0].shell, "/bin/bash");
        assert_true(strv_contains(p->env_keys, "ecs:database"));
        assert_string_equal(p->hook_create_internal_user, "/usr/local/sbin/appliance-internal-user");

        const ProfileVolume *d = profile_volume(p, "ecs-data"), *v = profile_volume(p, "ecs-volatile");
        assert_non_null(d);
        assert_non_null(v);
        assert_string_equal(d->mountpoint, "/data");
        assert_string_equal(v->mountpoint, "/volatile");
        assert_int_equal(d->place, PART_PLACE_DISK);
        assert_null(profile_volume(p, "ecs-root"));

        bool net = false;
        for (size_t i = 0; i < p->n_files; i++)
                if (strcmp(p->files[i].path, "/etc/network/interfaces.d/eth0") == 0) {
                        net = true;
                        assert_non_null(strstr(p->files[i].content, "iface eth0 inet dhcp"));
                        assert_int_equal(p->files[i].mode, 0644);
                }
        assert_true(net);
        assert_false(p->ec2_metadata);

        /* The raw text is kept verbatim, comments included, for /usr/share/appliance/profile.yml. */
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t len;
        assert_true(asprintf(&path, "%s/profiles/minimal.yml", srcdir()) > 0);
        assert_int_equal(read_full_file(path, &text, &len, 0), 0);
        assert_int_equal(p->text_len, len);
        assert_memory_equal(p->text, text, len);
}

static void test_ubuntu(void **state) {
        static const char *const names[] = { "ecs-xenial", "ecs-noble" };
        static const char *const suites[] = { "xenial", "noble" };

        for (size_t i = 0; i < 2; i++) {
                _cleanup_(profile_freep) Profile *p = load_shipped(names[i]);
                assert_string_equal(p->name, names[i]);
                assert_int_equal(p->n_users, 1);
                assert_string_equal(p->users[0].name, "app");
                assert_int_equal(p->users[0].uid, 1000);
                assert_string_equal(p->distribution, "ubuntu");
                assert_string_equal(p->suite, suites[i]);
                assert_true(strv_contains(p->packages, "openssh-server"));
                assert_true(strv_contains(p->packages, "docker.io"));
                assert_int_equal(profile_volume(p, "ecs-data")->place, PART_PLACE_PARTITION);
        }
}

static void test_by_path_and_missing(void **state) {
        _cleanup_free_ char *path = NULL, *err = NULL;
        _cleanup_(profile_freep) Profile *p = NULL;

        assert_true(asprintf(&path, "%s/profiles/ecs-noble.yml", srcdir()) > 0);
        assert_int_equal(profile_load(path, &p, &err), 0);
        assert_string_equal(p->path, path);
        assert_string_equal(p->name, "ecs-noble");

        assert_int_equal(setenv("APPLIANCE_PROFILES_DIR", "/nonexistent-profiles", 1), 0);
        assert_int_equal(profile_load("nosuchprofile", &p, &err), -ENOENT);
        assert_non_null(strstr(err, "/nonexistent-profiles/nosuchprofile.yml"));
        assert_non_null(strstr(err, "no such profile"));
}

/* Each broken profile must fail with exactly this "file:line:column: ..." prefix and a message
 * containing the given word. */
static void test_broken(void **state) {
        static const struct {
                const char *yaml, *where, *word;
        } rows[] = {
                { "distribution: debian\nsuite: bookworm\npackages: [a1]\nfrobnicate: 1\n", "t.yml:4:1:",
                  "unknown key 'frobnicate'" },
                { "distribution: debian\nsuite: bookworm\npackages:\n  - udev\nvolumes:\n  - label: ecs-data\n"
                  "    place: disk\n    sise: 1G\n", "t.yml:8:5:", "unknown key 'sise'" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nservices:\n  - unit: pg.service\n"
                  "    helth: tcp:127.0.0.1:5432\n", "t.yml:6:5:", "unknown key 'helth'" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nfeatures:\n  ec2: true\n",
                  "t.yml:5:3:", "unknown key 'ec2'" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\ntemplates:\n  - src: /a\n    dest: /b\n"
                  "    owner: root\n", "t.yml:7:5:", "unknown key 'owner'" },
                { "distribution: gentoo\nsuite: x\npackages: [udev]\n", "t.yml:1:15:", "debian or ubuntu" },
                { "distribution: debian\nsuite: bookworm\npackages: udev\n", "t.yml:3:11:", "must be a list" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev, Bad_Name]\n", "t.yml:3:18:",
                  "not a valid package name" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev, udev]\n", "t.yml:3:18:", "twice" },
                { "distribution: debian\nsuite: bookworm\n", "t.yml:1:1:", "required key 'packages'" },
                { "distribution: debian\nsuite: bookworm\npackages: []\n", "t.yml:1:1:", "at least one" },
                { "distribution: debian\ndistribution: ubuntu\nsuite: bookworm\npackages: [udev]\n", "t.yml:2:1:",
                  "duplicate key" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nroot_size: lots\n", "t.yml:4:12:",
                  "not a size" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nvolumes:\n  - label: ecs-root\n"
                  "    place: disk\n", "t.yml:5:12:", "ecs-data or ecs-volatile" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nvolumes:\n  - label: ecs-data\n"
                  "    place: floppy\n", "t.yml:6:12:", "partition, disk or none" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nvolumes:\n  - label: ecs-data\n",
                  "t.yml:5:5:", "required key 'place'" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nvolumes:\n  - {label: ecs-data, place: disk}\n"
                  "  - {label: ecs-data, place: disk}\n", "t.yml:6:5:", "listed twice" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nfiles:\n  - path: etc/x\n    content: y\n",
                  "t.yml:5:11:", "absolute" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nfiles:\n  - path: /etc/x\n    mode: \"0999\"\n"
                  "    content: y\n", "t.yml:6:11:", "octal" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nservices:\n  - unit: postgresql\n",
                  "t.yml:5:11:", ".service" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nservices:\n  - unit: a.service\n"
                  "    health: ping:x\n", "t.yml:6:13:", "tcp:HOST:PORT" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nservices:\n  - unit: a.service\n"
                  "    health: tcp:127.0.0.1:99999\n", "t.yml:6:13:", "tcp:HOST:PORT" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nservices:\n  - unit: a.service\n"
                  "    timeout: soon\n", "t.yml:6:14:", "integer" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nfeatures:\n  ec2_metadata: maybe\n",
                  "t.yml:5:17:", "true or false" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nsizing_class: huge\n", "t.yml:4:15:",
                  "sizing_class" },
                { "distribution: debian\nsuite: [bookworm]\npackages: [udev]\n", "t.yml:2:8:", "must be a scalar" },
                { "distribution: debian\nsuite:\npackages: [udev]\n", "t.yml:2:7:", "must not be empty" },
                { "- just\n- a list\n", "t.yml:1:1:", "must be a mapping" },
                { "distribution: debian\n\tsuite: bookworm\n", "t.yml:2:1:", "tab character" },
                { "distribution: 'debian\n", "t.yml:2:1:", "unexpected end of stream" },
                { "", "t.yml:", "empty profile" },
#define P "distribution: debian\nsuite: bookworm\npackages: [udev]\n"
                /* the agent's keys: the verdicts it used to give differently */
                { P "templates:\n  - src: a\n    dest: /b\n", "t.yml:5:10:", "absolute" },
                { P "templates:\n  - src: /a/../etc/shadow\n    dest: /b\n", "t.yml:5:10:", "'..'" },
                { P "templates:\n  - src: /a\n    dest: /etc/../b\n", "t.yml:6:11:", "'..'" },
                { P "templates:\n  - {src: /a, dest: /b, mode: \"0999\"}\n", "t.yml:5:31:", "octal" },
                { P "templates:\n  - {src: /a}\n", "t.yml:5:5:", "required key 'dest'" },
                { P "services:\n  - unit: a.service\n    timeout: 100000\n", "t.yml:6:14:", "between 1 and 86400" },
                { P "services:\n  - unit: a.service\n    timeout: 0\n", "t.yml:6:14:", "between 1 and 86400" },
                { P "services:\n  - unit: a.service\n    health: \"tcp:localhost\"\n", "t.yml:6:13:", "tcp:HOST:PORT" },
                { P "services:\n  - unit: a.service\n    health: \"http://\"\n", "t.yml:6:13:", "name a host" },
                { P "services:\n  - unit: a.service\n    health: \"http://h:0/\"\n", "t.yml:6:13:", "port" },
                { P "services:\n  - unit: a.service\n    health: \"exec:true\"\n", "t.yml:6:13:", "absolute" },
                { P "services:\n  - unit: \"a b.service\"\n", "t.yml:5:11:", ".service" },
                { P "services:\n  - unit: a/b.service\n", "t.yml:5:11:", ".service" },
                { P "services:\n  - health: \"tcp:127.0.0.1:1\"\n", "t.yml:5:5:", "required key 'unit'" },
                { P "services: nginx\n", "t.yml:4:11:", "must be a list" },
                { P "services: []\nservices: []\n", "t.yml:5:1:", "duplicate key 'services'" },
                { P "templates: []\ntemplates:\n  - {src: /a, dest: /b}\n", "t.yml:5:1:", "duplicate key" },
                { P "services:\n  - unit: a.service\n    unit: b.service\n", "t.yml:6:5:", "duplicate key 'unit'" },
                { P "features: {ec2_metadata: maybe}\n", "t.yml:4:26:", "true or false" },
                { P "features: {ec2_metadata: \"true\"}\n", "t.yml:4:26:", "true or false" },
                { P "features: [ec2_metadata]\n", "t.yml:4:11:", "must be a mapping" },
                { "services: []\n", "t.yml:1:1:", "required key 'distribution'" },
                { P "users:\n  - name: ../x\n", "t.yml:5:11:", "not a valid user name" },
                { P "users:\n  - {name: app, uid: 70000}\n", "t.yml:5:22:", "from 0 to 65533" },
                { P "users:\n  - {name: app, home: /a/../etc}\n", "t.yml:5:23:", "absolute path" },
                { P "users:\n  - {uid: 1000}\n", "t.yml:5:5:", "required key 'name'" },
                { P "env_keys: [\"Bad Key\"]\n", "t.yml:4:12:", "not an env key path" },
                { P "hooks: {create-internal-user: relative/x}\n", "t.yml:4:31:", "absolute path of a program" },
                { P "hooks: {delete-everything: /bin/x}\n", "t.yml:4:", "delete-everything" },
#undef P
        };

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                _cleanup_(profile_freep) Profile *p = NULL;
                _cleanup_free_ char *err = NULL;
                int r = profile_load_from_string("t.yml", rows[i].yaml, strlen(rows[i].yaml), &p, &err);

                if (r != -EINVAL || !err || strncmp(err, rows[i].where, strlen(rows[i].where)) != 0 ||
                    !strstr(err, rows[i].word))
                        fail_msg("row %zu: r=%d err=\"%s\", expected %s ... %s", i, r, strna(err), rows[i].where,
                                 rows[i].word);
                assert_null(p);
        }
}

static void test_defaults(void **state) {
        static const char y[] = "distribution: debian\nsuite: bookworm\npackages: [udev]\n"
                                "volumes:\n  - {label: ecs-volatile, place: partition, size: 2G}\n"
                                "files:\n  - {path: /etc/motd, content: hi}\n";
        _cleanup_(profile_freep) Profile *p = NULL;
        _cleanup_free_ char *err = NULL;

        assert_int_equal(profile_load_from_string("/x/custom.yaml", y, strlen(y), &p, &err), 0);
        assert_string_equal(p->name, "custom");
        assert_string_equal(p->architecture, "amd64");
        assert_non_null(strstr(p->kernel_cmdline, "console=ttyS0"));
        assert_null(p->sizing_class);
        assert_int_equal(p->n_volumes, 1);
        assert_string_equal(p->volumes[0].mountpoint, "/volatile");
        assert_int_equal(p->volumes[0].size, 2ULL << 30);
        assert_int_equal(p->volumes[0].place, PART_PLACE_PARTITION);
        assert_int_equal(p->files[0].mode, 0644);
        assert_string_equal(p->files[0].content, "hi");
        assert_string_equal(part_place_to_string(PART_PLACE_DISK), "disk");
}

static void test_agent_keys(void **state) {
        static const char good[] =
                "distribution: debian\nsuite: bookworm\npackages: [udev]\n"
                "services:\n"
                "  - unit: postgresql.service\n"
                "    health: \"tcp:127.0.0.1:5432\"\n"
                "    timeout: 60\n"
                "  - unit: nginx.service\n"
                "    health: \"http://127.0.0.1:80/\"\n"
                "  - unit: getty@tty1.service\n"
                "    health: \"exec:/bin/true --quiet\"\n"
                "    timeout: 86400\n"
                "  - unit: web.service\n"
                "    health: \"http://[::1]:8080/status\"\n"
                "features:\n"
                "  ec2_metadata: true\n"
                "templates:\n"
                "  - src: /usr/share/appliance/templates/site.conf\n"
                "    dest: /etc/nginx/sites-enabled/appliance.conf\n"
                "    mode: \"0640\"\n"
                "  - {src: /a, dest: /b}\n";
        _cleanup_(profile_freep) Profile *p = NULL;
        _cleanup_free_ char *err = NULL;

        if (profile_load_from_string("profile.yml", good, strlen(good), &p, &err) < 0)
                fail_msg("%s", strna(err));
        assert_int_equal(p->n_services, 4);
        assert_string_equal(p->services[0].unit, "postgresql.service");
        assert_string_equal(p->services[0].health, "tcp:127.0.0.1:5432");
        assert_int_equal(p->services[0].timeout, 60);
        assert_int_equal(p->services[1].timeout, PROFILE_SERVICE_TIMEOUT_DEFAULT);
        assert_string_equal(p->services[2].unit, "getty@tty1.service");
        assert_int_equal(p->services[2].timeout, 86400);
        assert_true(p->ec2_metadata);
        assert_int_equal(p->n_templates, 2);
        assert_string_equal(p->templates[0].src, "/usr/share/appliance/templates/site.conf");
        assert_string_equal(p->templates[0].dest, "/etc/nginx/sites-enabled/appliance.conf");
        assert_int_equal(p->templates[0].mode, 0640);
        assert_int_equal(p->templates[1].mode, 0644);

        assert_true(profile_unit_name_is_valid("a.service"));
        assert_false(profile_unit_name_is_valid(".service"));
        assert_false(profile_unit_name_is_valid("a.socket"));
        assert_false(profile_unit_name_is_valid("a\n.service"));
        assert_null(profile_health_check_error("tcp:[::1]:22"));
        assert_non_null(profile_health_check_error("tcp:127.0.0.1:"));
        assert_non_null(profile_health_check_error("tcp::22"));
        assert_non_null(profile_health_check_error("http://h:65536/"));
        assert_non_null(profile_health_check_error("http://[]/"));
        assert_non_null(profile_health_check_error("exec:/bin/true\n"));
        assert_non_null(profile_health_check_error("ping:1"));
}

static void test_load_file(void **state) {
        char dir[] = "/tmp/test-profile.XXXXXX";
        _cleanup_free_ char *path = NULL, *err = NULL;
        _cleanup_(profile_freep) Profile *p = NULL;

        assert_non_null(mkdtemp(dir));
        assert_true(asprintf(&path, "%s/profile.yml", dir) > 0);

        /* missing: an error for the builder, an empty profile for the agent */
        assert_int_equal(profile_load_file(path, 0, &p, &err), -ENOENT);
        assert_non_null(strstr(err, "profile.yml: cannot read profile"));
        assert_int_equal(profile_load_file(path, PROFILE_LOAD_MISSING_EMPTY, &p, NULL), 0);
        assert_int_equal(p->n_services, 0);
        assert_int_equal(p->n_templates, 0);
        assert_false(p->ec2_metadata);
        p = profile_free(p);

        /* the duplicated list key that overflowed the agent's former reader */
        static const char dup[] = "distribution: debian\nsuite: bookworm\npackages: [udev]\n"
                                  "services:\n  - unit: a.service\nservices:\n  - unit: a.service\n"
                                  "  - unit: b.service\n  - unit: c.service\n";
        assert_int_equal(write_file_atomic(path, dup, strlen(dup), 0644), 0);
        free(err);
        err = NULL;
        assert_int_equal(profile_load_file(path, PROFILE_LOAD_MISSING_EMPTY, &p, &err), -EINVAL);
        assert_non_null(strstr(err, "profile.yml:6:1: duplicate key 'services'"));
        assert_null(p);

        assert_int_equal(unlink(path), 0);
        assert_int_equal(rmdir(dir), 0);
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_minimal),     cmocka_unit_test(test_ubuntu),
                cmocka_unit_test(test_by_path_and_missing), cmocka_unit_test(test_broken),
                cmocka_unit_test(test_defaults),    cmocka_unit_test(test_agent_keys),
                cmocka_unit_test(test_load_file),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("profile", tests, NULL, NULL);
}
