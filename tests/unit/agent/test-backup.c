/**
 * Unit tests of backup: the settings read from an env (defaults, refusals naming the field), the
 * duply conf and exclude file, the timer drop-in, the key fingerprint from gpg's colon listing,
 * the cache-wipe decision on a changed target, the backup check of a target listing, the
 * recovery's refusal over existing data; and backup_prepare() writing the profile below a root
 * with the fingerprint of a real key (gpg).
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
#include "backup.h"
#include "cleanup.h"
#include "env.h"
#include "prepare-appliance.h"
#include "rm-rf.h"
#include "spawn.h"

static Env *load(const char *text) {
        Env *e = NULL;
        assert_int_equal(env_load_buffer("test.yml", text, strlen(text), &e, NULL), 0);
        return e;
}

static void test_settings(void **state) {
        _cleanup_(env_freep) Env *e = load("#cloud-config\nappliance:\n  domain: a.example\n");
        _cleanup_(env_freep) Env *e2 = NULL, *bad = NULL, *bad2 = NULL, *bad3 = NULL;
        _cleanup_free_ char *err = NULL, *err2 = NULL, *err3 = NULL;
        BackupSettings s;
        (void) state;

        assert_int_equal(backup_settings_from_env(e, &s, NULL), 0);
        assert_string_equal(s.url, "file:///volatile/ecs-backup-test/");
        assert_string_equal(s.oncalendar, "*-*-* 22:30:00");
        assert_string_equal(s.database, "ecs");
        assert_null(s.key);
        assert_null(s.mount_target);

        e2 = load("#cloud-config\nappliance:\n  domain: a.example\n  backup:\n    url: \"file:///mnt/backup/\"\n"
                  "    options: \"--asynchronous-upload\"\n    oncalendar: \"*-*-* 03:00:00\"\n"
                  "    mount: {type: ext4, source: LABEL=ecs-backup, target: /mnt/backup}\n"
                  "ecs:\n  database: ecsdb\n");
        assert_int_equal(backup_settings_from_env(e2, &s, NULL), 0);
        assert_string_equal(s.url, "file:///mnt/backup/");
        assert_string_equal(s.options, "--asynchronous-upload");
        assert_string_equal(s.oncalendar, "*-*-* 03:00:00");
        assert_string_equal(s.mount_source, "LABEL=ecs-backup");
        assert_string_equal(s.database, "ecsdb");

        bad = load("#cloud-config\nappliance:\n  backup:\n    options: \"--x $(reboot)\"\n");
        assert_int_equal(backup_settings_from_env(bad, &s, &err), -EINVAL);
        assert_non_null(strstr(err, "appliance:backup:options"));
        bad2 = load("#cloud-config\nappliance:\n  backup:\n    mount: {type: cifs, target: /mnt/b}\n");
        assert_int_equal(backup_settings_from_env(bad2, &s, &err2), -EINVAL);
        assert_non_null(strstr(err2, "appliance:backup:mount"));
        bad3 = load("#cloud-config\nappliance:\n  backup:\n    url: \"file:///a\\nTARGET=x\"\n");
        assert_int_equal(backup_settings_from_env(bad3, &s, &err3), -EINVAL);
        assert_non_null(strstr(err3, "appliance:backup:url"));
}

static void test_conf(void **state) {
        BackupSettings s = { .url = "sftp://u@host/it's", .oncalendar = "daily", .database = "ecs" };
        const char fpr[] = "D80953C0158198CA251DEC85B5EAC24DEB485CAC";
        _cleanup_free_ char *conf = NULL, *conf2 = NULL, *dropin = NULL;
        (void) state;

        assert_int_equal(backup_conf_render(&s, fpr, &conf), 0);
        assert_non_null(strstr(conf, "\nGPG_KEY='D80953C0158198CA251DEC85B5EAC24DEB485CAC'\n"));
        assert_non_null(strstr(conf, "\nTARGET='sftp://u@host/it'\"'\"'s'\n"));
        assert_non_null(strstr(conf, "\nSOURCE='/data'\n"));
        assert_non_null(strstr(conf, "\nVOLSIZE=25\n"));
        assert_non_null(strstr(conf, "\nMAX_FULLBKP_AGE=2M\n"));
        assert_non_null(strstr(conf, "--full-if-older-than $MAX_FULLBKP_AGE"));
        assert_non_null(strstr(conf, "\nMAX_FULL_BACKUPS=1\n"));
        assert_non_null(strstr(conf, "\nARCH_DIR='/volatile/duplicity'\n"));
        assert_null(strstr(conf, "asynchronous"));
        s.options = "--asynchronous-upload";
        assert_int_equal(backup_conf_render(&s, fpr, &conf2), 0);
        assert_non_null(strstr(conf2, "DUPL_PARAMS=\"$DUPL_PARAMS --asynchronous-upload \"\n"));
        assert_int_equal(backup_conf_render(&s, "D80953C0", &dropin), -EINVAL);
        assert_string_equal(backup_exclude, "+ /data/ecs-storage-vault\n+ /data/ecs-pgdump\n- **\n");

        s.oncalendar = "Mon *-*-* 01:00:00";
        assert_int_equal(backup_timer_dropin_render(&s, &dropin), 0);
        assert_non_null(strstr(dropin, "[Timer]\nOnCalendar=\nOnCalendar=Mon *-*-* 01:00:00\n"));
}

static void test_fpr(void **state) {
        _cleanup_free_ char *f1 = NULL, *f2 = NULL, *f3 = NULL;
        (void) state;

        assert_int_equal(backup_key_fpr_parse("sec:-:2048:1:B5EAC24DEB485CAC:1:::::::scESC:::+:::23::0:\n"
                                              "fpr:::::::::D80953C0158198CA251DEC85B5EAC24DEB485CAC:\n"
                                              "uid:-::::1::X::ecs_backup <ecs_backup>::::::::::0:\n"
                                              "ssb:-:2048:1:1111111111111111:1::::::e:::+:::23:\n"
                                              "fpr:::::::::AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA:\n", &f1), 0);
        assert_string_equal(f1, "D80953C0158198CA251DEC85B5EAC24DEB485CAC");
        /* The primary key's fingerprint, not a subkey's, also after a public-only listing. */
        assert_int_equal(backup_key_fpr_parse("pub:-:2048:1:X:1:::::::scESC:\nfpr:::::::::BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB:\n"
                                              "sub:-:2048:1:Y:1::::::e:\nfpr:::::::::CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC:\n",
                                              &f2), 0);
        assert_string_equal(f2, "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB");
        assert_int_equal(backup_key_fpr_parse("uid:-::::1::X::y:\nfpr:::::::::short:\n", &f3), -ENOENT);
}

static void test_decisions(void **state) {
        _cleanup_free_ char *p = backup_file_url_path("file:///mnt/backup/"), *err = NULL;
        (void) state;

        assert_true(backup_target_changed(NULL, "file:///a/"));
        assert_false(backup_target_changed("file:///a/\n", "file:///a/"));
        assert_true(backup_target_changed("file:///a/\n", "file:///b/"));
        assert_true(backup_target_changed("file:///a/\n", "file:///a/x"));
        assert_string_equal(p, "/mnt/backup/");
        assert_null(backup_file_url_path("sftp://h/x"));
        assert_true(backup_listing_has_backup(".\n..\nduplicity-full.20261202T010048Z.manifest.gpg\n"));
        assert_false(backup_listing_has_backup(".\n..\nlost+found\n"));
        assert_false(backup_listing_has_backup("duplicity-full-signatures.20261202T010048Z.sigtar.gpg\nx.manifest\n"));
        assert_int_equal(backup_recover_check(true, true, false, false, &err), 0);
        assert_int_equal(backup_recover_check(false, true, false, false, &err), -EEXIST);
        assert_non_null(strstr(err, "/data/ecs-storage-vault"));
        free(err);
        err = NULL;
        assert_int_equal(backup_recover_check(true, true, true, false, &err), -EEXIST);
        assert_non_null(strstr(err, "database"));
        assert_int_equal(backup_recover_check(false, false, true, true, NULL), 0);
}

/* backup_prepare() below a root with a key made by gpg: conf, exclude and timer drop-in. */
static void test_prepare(void **state) {
        Fixture *f = fixture_new("test-backup");
        _cleanup_(rm_rf_and_freep) char *home = NULL;
        _cleanup_free_ char *key = NULL, *env_text = NULL, *conf = NULL, *excl = NULL, *dropin = NULL,
                           *reason = NULL, *params = NULL;
        _cleanup_(env_freep) Env *e = NULL, *e2 = NULL;
        char *gen[] = { (char *) "gpg", (char *) "--batch", (char *) "--quiet", (char *) "--gen-key", NULL };
        char *exp[] = { (char *) "gpg", (char *) "--batch", (char *) "--armor", (char *) "--export-secret-keys",
                        (char *) "ecs_backup", NULL };
        char *k = NULL;
        (void) state;

        assert_non_null(f);
        if (find_executable("gpg", &k) < 0) {
                fixture_free(f);
                skip();
        }
        free(k);
        assert_int_equal(mkdtemp_tmpdir("test-backup-gpg", 64, &home), 0);
        assert_int_equal(setenv("GNUPGHOME", home, 1), 0);
        params = strdup("%no-protection\nKey-Type: RSA\nKey-Length: 2048\nKey-Usage: encrypt,sign\n"
                        "Name-Real: ecs_backup\nExpire-Date: 0\n");
        assert_int_equal(spawn_capture(gen, params, strlen(params), SPAWN_NULL_STDERR, NULL, NULL), 0);
        assert_int_equal(spawn_capture(exp, NULL, 0, SPAWN_NULL_STDERR, &key, NULL), 0);
        assert_int_equal(unsetenv("GNUPGHOME"), 0);
        assert_non_null(strstr(key, "BEGIN PGP PRIVATE KEY BLOCK"));

        /* No key: no profile. */
        e = load("#cloud-config\nappliance:\n  domain: a.example\n");
        assert_int_equal(backup_prepare(&f->agent, e, &reason), 0);
        assert_false(exists_at(f->dir, "/root/.duply/appliance-backup/conf"));

        assert_non_null(env_text = malloc(strlen(key) * 2 + 256));
        {
                char *o = stpcpy(env_text, "#cloud-config\nappliance:\n  domain: a.example\n  backup:\n"
                                           "    url: \"file:///mnt/b/\"\n    encrypt: |\n");
                for (const char *l = key; *l;) {
                        size_t n = strcspn(l, "\n");
                        o = stpcpy(o, "      ");
                        memcpy(o, l, n);
                        o += n;
                        *o++ = '\n';
                        l += n;
                        if (*l)
                                l++;
                }
                *o = 0;
        }
        e2 = load(env_text);
        assert_int_equal(backup_prepare(&f->agent, e2, &reason), 1);
        conf = read_at(f->dir, "/root/.duply/appliance-backup/conf");
        excl = read_at(f->dir, "/root/.duply/appliance-backup/exclude");
        dropin = read_at(f->dir, "/etc/systemd/system/appliance-backup.timer.d/oncalendar.conf");
        assert_non_null(conf);
        assert_non_null(strstr(conf, "\nTARGET=file:///mnt/b/\n"));
        assert_non_null(strstr(conf, "\nGPG_KEY='"));
        assert_int_equal(strlen(strstr(conf, "\nGPG_KEY='") + 10), strlen(strstr(conf, "\nGPG_KEY='") + 10));
        assert_int_equal(strcspn(strstr(conf, "\nGPG_KEY='") + 10, "'"), 40);
        assert_string_equal(excl, backup_exclude);
        /* The default schedule is the timer unit's own: no drop-in (no daemon-reload). */
        assert_null(dropin);
        {
                struct stat st;
                assert_int_equal(stat(strjoina(f->dir, "/root/.duply/appliance-backup/conf"), &st), 0);
                assert_int_equal(st.st_mode & 07777, 0600);
        }
        /* Again: unchanged. */
        assert_int_equal(backup_prepare(&f->agent, e2, &reason), 0);

        /* Another schedule: a drop-in; back to the default: removed, a change. */
        {
                static const char url[] = "    url: \"file:///mnt/b/\"\n";
                const char *at = strstr(env_text, url);
                _cleanup_free_ char *text3 = NULL;
                _cleanup_(env_freep) Env *e3 = NULL;

                assert_non_null(at);
                assert_true(asprintf(&text3, "%.*s%s    oncalendar: \"*-*-* 03:00:00\"\n%s", (int) (at - env_text),
                                     env_text, url, at + strlen(url)) > 0);
                e3 = load(text3);
                assert_int_equal(backup_prepare(&f->agent, e3, &reason), 1);
                dropin = read_at(f->dir, "/etc/systemd/system/appliance-backup.timer.d/oncalendar.conf");
                assert_non_null(dropin);
                assert_non_null(strstr(dropin, "\nOnCalendar=*-*-* 03:00:00\n"));
                assert_int_equal(backup_prepare(&f->agent, e3, &reason), 0);
                assert_int_equal(backup_prepare(&f->agent, e2, &reason), 1);
                assert_false(exists_at(f->dir, "/etc/systemd/system/appliance-backup.timer.d/oncalendar.conf"));
                assert_int_equal(backup_prepare(&f->agent, e2, &reason), 0);
        }
        fixture_free(f);
}

/* Without a drop-in the timers run on their units' own schedules: those are the agent's defaults. */
static void test_timer_defaults(void **state) {
        const char *src = getenv("SRCDIR");
        _cleanup_free_ char *backup = NULL, *update = NULL;
        (void) state;

        if (!src)
                skip();
        backup = read_at(src, "/src/agent/rootfs/usr/lib/systemd/system/appliance-backup.timer");
        update = read_at(src, "/src/agent/rootfs/usr/lib/systemd/system/appliance-update.timer");
        assert_non_null(backup);
        assert_non_null(update);
        assert_non_null(strstr(backup, "\nOnCalendar=" BACKUP_DEFAULT_ONCALENDAR "\n"));
        assert_non_null(strstr(update, "\nOnCalendar=" UPDATE_ONCALENDAR_DEFAULT "\n"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_settings), cmocka_unit_test(test_conf),     cmocka_unit_test(test_fpr),
                cmocka_unit_test(test_decisions), cmocka_unit_test(test_prepare),
                cmocka_unit_test(test_timer_defaults),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
