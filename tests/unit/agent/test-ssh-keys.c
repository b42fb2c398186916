/**
 * Unit tests of ssh-keys: key identities (options and comments dropped), authorized_keys merged
 * by type and blob (other lines kept, deprecated keys removed, no duplicates, owner and modes),
 * a user the image lacks skipped, a planted symlink refused with its reason, host keys made by
 * the image's ssh-keygen when one is there.
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
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "agent-test-root.h"
#include "cleanup.h"
#include "ssh-keys.h"
#include "strv.h"

#define KEY1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGp3mBq0mIu1I6SuUBN7xQJ0ZpjU8Qbhk2Xh4m1QpIzb one@example"
#define KEY2 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKx9T1jxX2u3bX9tqQWb1h5pVnC3Jb0tA0Nq2RrX0c9a two@example"
#define KEY3 "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY= three"

static void test_identity(void **state) {
        static const struct {
                const char *line, *id;
        } v[] = {
                { KEY1, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGp3mBq0mIu1I6SuUBN7xQJ0ZpjU8Qbhk2Xh4m1QpIzb" },
                { "no-pty,from=\"10.0.0.1\" " KEY3, "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY=" },
                { "  ssh-rsa AAAAB3  ", "ssh-rsa AAAAB3" },
                { "sk-ssh-ed25519@openssh.com AAAA x", "sk-ssh-ed25519@openssh.com AAAA" },
                { "ssh-rsa", NULL },
                { "# a comment", NULL },
                { "", NULL },
        };
        (void) state;

        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
                _cleanup_free_ char *id = ssh_key_identity(v[i].line);
                if (v[i].id)
                        assert_string_equal(id, v[i].id);
                else
                        assert_null(id);
        }
}

static Fixture *with_users(const char *prefix) {
        Fixture *f = fixture_new(prefix);

        assert_non_null(f);
        assert_int_equal(write_at(f->dir, "/etc/passwd",
                                  "root:x:0:0:root:/root:/bin/sh\n"
                                  "app:x:1000:1000::/app:/bin/sh\n"), 0);
        assert_int_equal(write_at(f->dir, "/etc/group", "root:x:0:\napp:x:1000:\n"), 0);
        return f;
}

static void test_merge(void **state) {
        Fixture *f = with_users("test-ssh-keys");
        _cleanup_free_ char *reason = NULL, *text = NULL;
        char *add[] = { (char *) KEY1, (char *) ("command=\"x\" " KEY1), (char *) KEY3, NULL };
        char *del[] = { (char *) "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKx9T1jxX2u3bX9tqQWb1h5pVnC3Jb0tA0Nq2RrX0c9a", NULL };
        struct stat st;
        (void) state;

        assert_int_equal(write_at(f->dir, "/app/.ssh/authorized_keys", "# mine\n" KEY2 "\nrestrict " KEY3 "\n"), 0);
        assert_int_equal(authorized_keys_merge(&f->agent, "app", add, del, &reason), 1);
        text = read_at(f->dir, "/app/.ssh/authorized_keys");
        /* the comment kept, KEY2 removed, KEY3 kept once (with its options), KEY1 added once */
        assert_string_equal(text, "# mine\nrestrict " KEY3 "\n" KEY1 "\n");
        assert_int_equal(stat(strjoina(f->dir, "/app/.ssh/authorized_keys"), &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(stat(strjoina(f->dir, "/app/.ssh"), &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        if (geteuid() == 0)
                assert_int_equal(st.st_uid, 1000);

        /* Again: nothing to do. A user the image lacks: skipped. */
        assert_int_equal(authorized_keys_merge(&f->agent, "app", add, del, &reason), 0);
        assert_int_equal(authorized_keys_update(&f->agent, "nobody-here", add, NULL), 0);
        assert_false(exists_at(f->dir, "/home/nobody-here"));

        /* No keys and no file: no file made. */
        assert_int_equal(authorized_keys_merge(&f->agent, "root", NULL, NULL, &reason), 0);
        assert_false(exists_at(f->dir, "/root/.ssh/authorized_keys"));
        fixture_free(f);
}

static void test_symlink_refused(void **state) {
        Fixture *f = with_users("test-ssh-keys-link");
        _cleanup_free_ char *reason = NULL, *outside = NULL;
        char *add[] = { (char *) KEY1, NULL };
        (void) state;

        assert_true(asprintf(&outside, "%s-outside", f->dir) > 0);
        assert_int_equal(mkdir(outside, 0700), 0);
        assert_int_equal(mkdir(strjoina(f->dir, "/root"), 0700), 0);
        assert_int_equal(symlink(outside, strjoina(f->dir, "/root/.ssh")), 0);
        assert_true(authorized_keys_merge(&f->agent, "root", add, NULL, &reason) < 0);
        assert_non_null(reason);
        assert_non_null(strstr(reason, "/root/.ssh"));
        assert_false(exists_at(outside, "/authorized_keys"));
        assert_int_equal(rmdir(outside), 0);
        fixture_free(f);
}

static void test_host_keys(void **state) {
        _cleanup_free_ char *keygen = NULL;
        Fixture *f = fixture_new("test-ssh-hostkeys");
        struct stat st;
        (void) state;

        assert_non_null(f);
        /* No /etc/ssh: nothing needed. */
        assert_int_equal(ssh_host_keys_ensure(&f->agent), 0);
        if (find_executable("ssh-keygen", &keygen) < 0) {
                fixture_free(f);
                skip();
        }
        assert_int_equal(mkdir(strjoina(f->dir, "/etc"), 0755), 0);
        assert_int_equal(mkdir(strjoina(f->dir, "/etc/ssh"), 0755), 0);
        assert_int_equal(write_at(f->dir, "/etc/ssh/ssh_host_rsa_key", "kept"), 0);
        assert_int_equal(write_at(f->dir, "/etc/ssh/ssh_host_rsa_key.pub", "kept.pub"), 0);
        assert_int_equal(ssh_host_keys_ensure(&f->agent), 1);
        for (const char *const *t = (const char *const[]) { "ecdsa", "ed25519", NULL }; *t; t++) {
                _cleanup_free_ char *key = NULL, *pub = NULL, *text = NULL;
                assert_true(asprintf(&key, "/etc/ssh/ssh_host_%s_key", *t) > 0);
                assert_true(asprintf(&pub, "%s.pub", key) > 0);
                assert_int_equal(stat(strjoina(f->dir, key), &st), 0);
                assert_int_equal(st.st_mode & 07777, 0600);
                assert_int_equal(stat(strjoina(f->dir, pub), &st), 0);
                assert_int_equal(st.st_mode & 07777, 0644);
                text = read_at(f->dir, pub);
                assert_non_null(text);
                assert_non_null(strstr(text, " root@appliance"));
        }
        {
                _cleanup_free_ char *rsa = read_at(f->dir, "/etc/ssh/ssh_host_rsa_key");
                assert_string_equal(rsa, "kept");   /* a present pair is not replaced */
        }
        assert_int_equal(ssh_host_keys_ensure(&f->agent), 0);
        fixture_free(f);
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_identity),
                cmocka_unit_test(test_merge),
                cmocka_unit_test(test_symlink_refused),
                cmocka_unit_test(test_host_keys),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("ssh-keys", tests, NULL, NULL);
}
