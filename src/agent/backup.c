/**
 * Backup and disaster recovery with duply/duplicity and pg_dump (see backup.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "agent-path.h"
#include "backup.h"
#include "cleanup.h"
#include "escape.h"
#include "fileio.h"
#include "log.h"
#include "reterr.h"
#include "rm-rf.h"
#include "sentry.h"
#include "spawn.h"
#include "strv.h"

#define BACKUP_FIELD "appliance:backup"

const char backup_exclude[] =
        "+ /data/ecs-storage-vault\n"
        "+ /data/ecs-pgdump\n"
        "- **\n";

static bool one_line(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

static bool database_name_is_valid(const char *s) {
        return !isempty(s) && strlen(s) <= 63 && !(s[0] >= '0' && s[0] <= '9') &&
               strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(s);
}

int backup_settings_from_env(const Env *e, BackupSettings *ret, char **reterr) {
        BackupSettings s = {
                .url = env_get_string(e, BACKUP_FIELD ":url", NULL),
                .options = env_get_string(e, BACKUP_FIELD ":options", NULL),
                .mount_type = env_get_string(e, BACKUP_FIELD ":mount:type", NULL),
                .mount_source = env_get_string(e, BACKUP_FIELD ":mount:source", NULL),
                .mount_target = env_get_string(e, BACKUP_FIELD ":mount:target", NULL),
                .mount_options = env_get_string(e, BACKUP_FIELD ":mount:options", NULL),
                .oncalendar = env_get_string(e, BACKUP_FIELD ":oncalendar", NULL),
                .key = env_get_string(e, BACKUP_FIELD ":encrypt", NULL),
                .database = env_get_string(e, "ecs:database", NULL),
        };
        struct {
                const char *name, *value;
        } lines[] = {
                { "url", s.url }, { "options", s.options }, { "mount:type", s.mount_type },
                { "mount:source", s.mount_source }, { "mount:target", s.mount_target },
                { "mount:options", s.mount_options }, { "oncalendar", s.oncalendar },
        };

        if (isempty(s.url))
                s.url = BACKUP_DEFAULT_URL;
        if (isempty(s.oncalendar))
                s.oncalendar = BACKUP_DEFAULT_ONCALENDAR;
        if (isempty(s.database))
                s.database = "ecs";
        for (size_t i = 0; i < ELEMENTSOF(lines); i++)
                if (lines[i].value && !one_line(lines[i].value))
                        return reterr_printf(reterr, -EINVAL, "%s:%s: a control character, one line expected",
                                             BACKUP_FIELD, lines[i].name);
        if (!database_name_is_valid(s.database))
                return reterr_printf(reterr, -EINVAL, "ecs:database: '%s' is not a valid database name", s.database);
        if (s.options) {
                /* Pasted into duply's DUPL_PARAMS: plain words only. */
                _cleanup_strv_free_ char **w = NULL;
                if (strv_split(s.options, " ", &w) < 0)
                        return -ENOMEM;
                STRV_FOREACH(p, w)
                        if (!shell_word_is_safe(*p, strlen(*p)))
                                return reterr_printf(reterr, -EINVAL,
                                                     "%s:options: '%s' is not a plain duplicity option word",
                                                     BACKUP_FIELD, *p);
        }
        if ((s.mount_type || s.mount_source || s.mount_target) &&
            (isempty(s.mount_type) || isempty(s.mount_source) || isempty(s.mount_target)))
                return reterr_printf(reterr, -EINVAL, "%s:mount: type, source and target are needed together",
                                     BACKUP_FIELD);
        if (s.mount_target && (s.mount_target[0] != '/' || strstr(s.mount_target, "..")))
                return reterr_printf(reterr, -EINVAL, "%s:mount:target: '%s' is not an absolute path", BACKUP_FIELD,
                                     s.mount_target);
        *ret = s;
        return 0;
}

int backup_conf_render(const BackupSettings *s, const char *key_fpr, char **ret) {
        _cleanup_free_ char *target = shell_quote(s->url, strlen(s->url)), *text = NULL;

        if (!target)
                return -ENOMEM;
        if (strlen(key_fpr) != 40 || strspn(key_fpr, "0123456789ABCDEFabcdef") != 40)
                return -EINVAL;
        if (asprintf(&text,
                     "# duply profile of the appliance backup, written by appliance-agent from the env\n"
                     "# (appliance:backup) at every boot: changes here are overwritten.\n"
                     "GPG_KEY='%s'\n"
                     "GPG_PW=''\n"
                     "GPG_OPTS='--pinentry-mode loopback --trust-model always'\n"
                     "TARGET=%s\n"
                     "SOURCE='/data'\n"
                     "ARCH_DIR='" BACKUP_ARCH_DIR "'\n"
                     "VOLSIZE=25\n"
                     "DUPL_PARAMS=\"$DUPL_PARAMS --volsize $VOLSIZE \"\n"
                     "DUPL_PARAMS=\"$DUPL_PARAMS --exclude-other-filesystems \"\n"
                     "MAX_AGE=4M\n"
                     "MAX_FULLBKP_AGE=2M\n"
                     "DUPL_PARAMS=\"$DUPL_PARAMS --full-if-older-than $MAX_FULLBKP_AGE \"\n"
                     "MAX_FULL_BACKUPS=1\n"
                     "%s%s%s",
                     key_fpr, target, s->options ? "DUPL_PARAMS=\"$DUPL_PARAMS " : "", s->options ?: "",
                     s->options ? " \"\n" : "") < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(text);
        return 0;
}

int backup_timer_dropin_render(const BackupSettings *s, char **ret) {
        _cleanup_free_ char *v = NULL;
        int r;

        r = unit_escape_value(s->oncalendar, &v);
        if (r < 0)
                return r;
        return asprintf(ret, "# From appliance:backup:oncalendar (default " BACKUP_DEFAULT_ONCALENDAR ").\n"
                             "[Timer]\nOnCalendar=\nOnCalendar=%s\n", v) < 0 ? -ENOMEM : 0;
}

int backup_key_fpr_parse(const char *colons, char **ret) {
        bool in_sec = false, in_pub = false;
        const char *pub_fpr = NULL;
        size_t pub_len = 0;

        for (const char *l = colons; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                if (startswith(l, "sec:")) {
                        in_sec = true;
                        in_pub = false;
                } else if (startswith(l, "pub:")) {
                        in_pub = true;
                        in_sec = false;
                } else if (startswith(l, "ssb:") || startswith(l, "sub:"))
                        in_sec = in_pub = false;
                else if (startswith(l, "fpr:") && (in_sec || in_pub)) {
                        /* fpr:::::::::FINGERPRINT: */
                        const char *f = l;
                        size_t n;
                        for (int i = 0; i < 9 && f; i++)
                                f = strchr(f, ':') ? strchr(f, ':') + 1 : NULL;
                        if (!f)
                                continue;
                        n = strcspn(f, ":\n");
                        if (n != 40 || strspn(f, "0123456789ABCDEF") < 40)
                                continue;
                        if (in_sec) {
                                *ret = strndup(f, n);
                                return *ret ? 0 : -ENOMEM;
                        }
                        if (!pub_fpr) {
                                pub_fpr = f;
                                pub_len = n;
                        }
                        in_pub = false;
                }
        }
        if (!pub_fpr)
                return -ENOENT;
        *ret = strndup(pub_fpr, pub_len);
        return *ret ? 0 : -ENOMEM;
}

bool backup_target_changed(const char *old_target, const char *url) {
        size_t n;

        if (!old_target)
                return true;
        n = strcspn(old_target, "\n");
        return strlen(url) != n || strncmp(old_target, url, n) != 0;
}

char *backup_file_url_path(const char *url) {
        if (!startswith(url, "file://"))
                return NULL;
        return strdup(url + strlen("file://"));
}

bool backup_listing_has_backup(const char *listing) {
        for (const char *l = listing; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (startswith(l, "duplicity-full.") && strstr(l, ".manifest") &&
                    strstr(l, ".manifest") < l + strcspn(l, "\n"))
                        return true;
        return false;
}

int backup_recover_check(bool vault_empty, bool pgdump_empty, bool db_has_tables, bool overwrite,
                         char **reterr) {
        if (overwrite)
                return 0;
        if (!vault_empty)
                return reterr_printf(reterr, -EEXIST, "%s is not empty", BACKUP_VAULT);
        if (!pgdump_empty)
                return reterr_printf(reterr, -EEXIST, "%s is not empty", BACKUP_PGDUMP_DIR);
        if (db_has_tables)
                return reterr_printf(reterr, -EEXIST, "the database holds tables");
        return 0;
}

/* ---- on the appliance itself ---------------------------------------------------------------- */

static int run_argv(const char *const *argv) {
        return spawn_capture((char *const *) argv, NULL, 0, 0, NULL, NULL);
}

/* psql as postgres, one value; -errno or the exit status when it does not run. */
static int psql_value(const char *database, const char *sql, char **ret) {
        _cleanup_free_ char *out = NULL;
        const char *argv[] = { "runuser", "-u", "postgres", "--", "psql", "-XtA", "-d", database ?: "postgres",
                               "-c", sql, NULL };
        int r;

        r = spawn_capture((char *const *) argv, NULL, 0, SPAWN_NULL_STDERR, &out, NULL);
        if (r != 0)
                return r < 0 ? r : -EIO;
        out[strcspn(out, "\n")] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

static int database_exists(const char *db) {
        _cleanup_free_ char *sql = NULL, *v = NULL;
        int r;

        if (asprintf(&sql, "SELECT 1 FROM pg_database WHERE datname = '%s'", db) < 0)
                return -ENOMEM;
        r = psql_value(NULL, sql, &v);
        if (r < 0)
                return r;
        return streq(v, "1");
}

/* 1 if the database holds a table of its own, 0 if it is empty or absent. */
static int database_has_tables(const char *db) {
        _cleanup_free_ char *v = NULL;
        int r;

        r = database_exists(db);
        if (r <= 0)
                return r;
        r = psql_value(db,
                       "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                       "AND n.nspname NOT LIKE 'pg_toast%'",
                       &v);
        if (r < 0)
                return r;
        return !streq(v, "0");
}

/* 1 if the directory has no entries (or does not exist), 0 if it has, <0 on error. */
static int dir_is_empty(const Agent *a, const char *path) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = agent_open(a, path, O_RDONLY | O_DIRECTORY, &fd);
        if (r == -ENOENT)
                return 1;
        if (r < 0)
                return r;
        return dir_fd_is_empty(fd);
}

/* The names in a directory, one per line (for backup_listing_has_backup). */
static int dir_listing(const char *path, char **ret) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        struct dirent *de;
        FILE *f;
        DIR *d = opendir(path);

        if (!d)
                return -errno;
        f = open_memstream(&text, &len);
        if (!f) {
                closedir(d);
                return -ENOMEM;
        }
        while ((de = readdir(d)))
                fprintf(f, "%s\n", de->d_name);
        closedir(d);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(text);
        return 0;
}

/* Mounts the backup target if the env names one and it is not mounted yet. 1: mounted by us. */
static int backup_mount(const Agent *a, const BackupSettings *s, char **reterr) {
        const char *check[] = { "mountpoint", "-q", s->mount_target, NULL };
        int r;

        if (!s->mount_target)
                return 0;
        if (run_argv(check) == 0)
                return 0;
        r = agent_mkdir(a, s->mount_target, 0700, 0, 0, NULL);
        if (r < 0)
                return reterr_printf(reterr, r, "%s:mount:target: cannot create '%s': %s", BACKUP_FIELD,
                                     s->mount_target, strerror(-r));
        {
                const char *argv[] = { "mount", "-t", s->mount_type, s->mount_source, s->mount_target,
                                       s->mount_options ? "-o" : NULL, s->mount_options, NULL };
                r = run_argv(argv);
        }
        if (r != 0 || run_argv(check) != 0)
                return reterr_printf(reterr, -EIO, "%s:mount: cannot mount '%s' (%s) on '%s'", BACKUP_FIELD,
                                     s->mount_source, s->mount_type, s->mount_target);
        log_info("Mounted the backup target '%s' on '%s'.", s->mount_source, s->mount_target);
        return 1;
}

static void backup_umount(const BackupSettings *s, int mounted) {
        const char *argv[] = { "umount", "-l", s->mount_target, NULL };

        if (mounted > 0 && run_argv(argv) != 0)
                log_warning("Cannot unmount the backup target '%s'.", s->mount_target);
}

static int key_fingerprint(const char *key, char **ret, char **reterr) {
        _cleanup_free_ char *out = NULL, *err = NULL;
        const char *argv[] = { "gpg", "--batch", "--with-colons", "--import-options", "show-only", "--import", NULL };
        _cleanup_(rm_rf_and_freep) char *home = NULL;
        int r;

        /* show-only needs a home to exist; a throw-away one keeps /root/.gnupg untouched. */
        r = mkdtemp_tmpdir("appliance-gpg", 64, &home);
        if (r < 0)
                return reterr_printf(reterr, r, "cannot make a temporary GnuPG home: %s", strerror(-r));
        if (setenv("GNUPGHOME", home, 1) < 0)
                return -errno;
        r = spawn_capture((char *const *) argv, key, strlen(key), 0, &out, &err);
        (void) unsetenv("GNUPGHOME");
        if (r != 0)
                return reterr_printf(reterr, r < 0 ? r : -EINVAL, "%s:encrypt: gpg cannot read the key%s%s",
                                     BACKUP_FIELD, err ? ": " : "", err ? strtok(err, "\n") : "");
        r = backup_key_fpr_parse(out, ret);
        if (r < 0)
                return reterr_printf(reterr, r, "%s:encrypt: no key in the armour", BACKUP_FIELD);
        return 0;
}

static int import_key(const Agent *a, const char *key, char **reterr) {
        _cleanup_free_ char *home = agent_path(a, BACKUP_GNUPG_DIR), *err = NULL;
        const char *argv[] = { "gpg", "--batch", "--homedir", home, "--import", NULL };
        int r;

        if (!home)
                return -ENOMEM;
        r = agent_mkdir(a, BACKUP_GNUPG_DIR, 0700, 0, 0, NULL);
        if (r < 0)
                return reterr_printf(reterr, r, "cannot create '%s': %s", BACKUP_GNUPG_DIR, strerror(-r));
        r = spawn_capture((char *const *) argv, key, strlen(key), SPAWN_NULL_STDOUT, NULL, &err);
        if (r != 0)
                return reterr_printf(reterr, r < 0 ? r : -EIO, "%s:encrypt: gpg --import failed: %s", BACKUP_FIELD,
                                     err ? strtok(err, "\n") : "");
        return 0;
}

int backup_prepare(const Agent *a, const Env *env, char **reterr) {
        _cleanup_free_ char *fpr = NULL, *conf = NULL, *dropin = NULL;
        BackupSettings s;
        int r, changed = 0;

        r = backup_settings_from_env(env, &s, reterr);
        if (r < 0)
                return r;
        if (!s.key) {
                /* No backup key, no backup: the service's condition skips it. */
                r = agent_unlink(a, BACKUP_PROFILE_DIR "/conf");
                if (r < 0 && r != -ENOENT)
                        return reterr_printf(reterr, r, "cannot remove '%s/conf': %s", BACKUP_PROFILE_DIR, strerror(-r));
                log_notice("No appliance:backup:encrypt in the env: the backup is off.");
                return 0;
        }
        r = key_fingerprint(s.key, &fpr, reterr);
        if (r < 0)
                return r;
        r = backup_conf_render(&s, fpr, &conf);
        if (r >= 0)
                r = backup_timer_dropin_render(&s, &dropin);
        if (r < 0)
                return reterr_printf(reterr, r, "%s: cannot render the duply profile", BACKUP_FIELD);
        r = agent_mkdir(a, "/root/.duply", 0700, 0, 0, NULL);
        if (r >= 0)
                r = agent_mkdir(a, BACKUP_PROFILE_DIR, 0700, 0, 0, NULL);
        if (r < 0)
                return reterr_printf(reterr, r, "cannot create '%s': %s", BACKUP_PROFILE_DIR, strerror(-r));
        r = agent_write_text(a, BACKUP_PROFILE_DIR "/conf", conf, 0600, 0, 0, reterr);
        if (r < 0)
                return r;
        changed |= r;
        r = agent_write_text(a, BACKUP_PROFILE_DIR "/exclude", backup_exclude, 0600, 0, 0, reterr);
        if (r < 0)
                return r;
        changed |= r;
        /* appliance-backup.timer's own schedule is the default: a drop-in only for another one. */
        r = agent_unit_dropin(a, BACKUP_TIMER_DROPIN, streq(s.oncalendar, BACKUP_DEFAULT_ONCALENDAR) ? NULL : dropin,
                              reterr);
        if (r < 0)
                return r;
        changed |= r;
        if (agent_is_host_root(a)) {
                r = import_key(a, s.key, reterr);
                if (r < 0)
                        return r;
        }
        if (changed)
                log_info("Backup: duply profile %s to '%s', encrypted to %s, daily at '%s'.", BACKUP_PROFILE_DIR,
                         s.url, fpr, s.oncalendar);
        return changed;
}

static int refuse_off_root(const Agent *a, const char *what) {
        if (agent_is_host_root(a))
                return 0;
        log_error("%s runs only on the appliance itself (not with --root).", what);
        return -EOPNOTSUPP;
}

static int duply(const char *const *args) {
        _cleanup_strv_free_ char **argv = NULL;

        if (strv_extend(&argv, "duply") < 0 || strv_extend(&argv, BACKUP_PROFILE_DIR) < 0)
                return -ENOMEM;
        for (; *args; args++)
                if (strv_extend(&argv, *args) < 0)
                        return -ENOMEM;
        return spawn_capture(argv, NULL, 0, 0, NULL, NULL);
}

static int write_metrics(const Agent *a, uint64_t start_usec, uint64_t duration_usec, bool ok) {
        _cleanup_free_ char *text = NULL;
        struct stat st;
        _cleanup_free_ char *dump = agent_path(a, BACKUP_PGDUMP);

        if (asprintf(&text,
                     "# HELP backup_last_start_time Start of the last appliance backup (seconds since the epoch).\n"
                     "# TYPE backup_last_start_time gauge\nbackup_last_start_time %llu\n"
                     "# HELP backup_last_duration Duration of the last appliance backup in seconds.\n"
                     "# TYPE backup_last_duration gauge\nbackup_last_duration %.1f\n"
                     "# HELP backup_last_success Whether the last appliance backup succeeded.\n"
                     "# TYPE backup_last_success gauge\nbackup_last_success %d\n"
                     "# HELP backup_last_dump_size Size of the last database dump in bytes.\n"
                     "# TYPE backup_last_dump_size gauge\nbackup_last_dump_size %lld\n",
                     (unsigned long long) (start_usec / 1000000), (double) duration_usec / 1e6, ok ? 1 : 0,
                     dump && stat(dump, &st) == 0 ? (long long) st.st_size : 0LL) < 0)
                return -ENOMEM;
        return agent_write_file(a, BACKUP_METRICS_FILE, text, strlen(text), 0644, 0, 0);
}

static int backup_fail(const Agent *a, uint64_t t0, const char *reason) {
        _cleanup_free_ char *pub = agent_public_reason(a, reason, NULL);

        log_error("Backup failed: %s", reason);
        (void) agent_record_step(a, "backup", STEP_FAILED, pub ?: "failed", now_usec() - t0, NULL);
        (void) write_metrics(a, t0, now_usec() - t0, false);
        (void) sentry_send(a, "error", "appliance-backup.service", pub ?: "backup failed");
        return -EIO;
}

int backup_run(const Agent *a) {
        _cleanup_(env_freep) Env *env = NULL;
        _cleanup_free_ char *err = NULL, *old_target = NULL, *tmp = NULL, *dump = NULL;
        const char *cleanup_args[] = { "cleanup", "--force", NULL }, *backup_args[] = { "backup", NULL },
                   *purge_args[] = { "purgefull", "--force", NULL };
        uint64_t t0 = now_usec();
        BackupSettings s;
        int r, mounted;

        r = refuse_off_root(a, "The backup");
        if (r < 0)
                return r;
        (void) setenv("HOME", "/root", 1);
        r = agent_load_active_env(a, &env);
        if (r < 0)
                return backup_fail(a, t0, "no valid active env");
        r = backup_prepare(a, env, &err);
        if (r < 0)
                return backup_fail(a, t0, err ?: "cannot write the duply profile");
        if (r == 0 && !agent_exists(a, BACKUP_PROFILE_DIR "/conf"))
                return backup_fail(a, t0, "no appliance:backup:encrypt key in the env");
        r = backup_settings_from_env(env, &s, &err);
        if (r < 0)
                return backup_fail(a, t0, err);

        r = database_exists(s.database);
        if (r <= 0) {
                free(err);
                err = NULL;
                (void) asprintf(&err, "database '%s' %s", s.database, r == 0 ? "does not exist" : "cannot be queried");
                return backup_fail(a, t0, err ?: "no database");
        }
        r = dir_is_empty(a, BACKUP_VAULT);
        if (r != 0)
                return backup_fail(a, t0, r > 0 ? BACKUP_VAULT " is empty: nothing to back up" : "cannot read " BACKUP_VAULT);

        mounted = backup_mount(a, &s, &err);
        if (mounted < 0)
                return backup_fail(a, t0, err);

        dump = agent_path(a, BACKUP_PGDUMP);
        if (!dump || asprintf(&tmp, "%s.tmp", dump) < 0)
                return log_oom();
        {
                const char *argv[] = {
                        "bash", "-c",
                        "set -o pipefail; runuser -u postgres -- pg_dump --format=custom -Z0 \"$1\" | gzip --rsyncable >\"$2\" "
                        "&& mv -f \"$2\" \"$3\"",
                        "appliance-backup", s.database, tmp, dump, NULL
                };
                log_info("Dumping database '%s' to %s.", s.database, BACKUP_PGDUMP);
                r = run_argv(argv);
        }
        if (r != 0) {
                (void) unlink(tmp);
                backup_umount(&s, mounted);
                return backup_fail(a, t0, "pg_dump of the database failed");
        }

        (void) agent_read_file(a, BACKUP_TARGET_FILE, 64 * 1024, &old_target, NULL);
        if (backup_target_changed(old_target, s.url)) {
                _cleanup_free_ char *cache = agent_path(a, BACKUP_CACHE_DIR);
                log_info("Backup target '%s' is new: wiping the duplicity cache %s.", s.url, BACKUP_CACHE_DIR);
                if (cache)
                        (void) rm_rf(cache);
                _cleanup_free_ char *line = NULL;
                if (asprintf(&line, "%s\n", s.url) < 0)
                        return log_oom();
                (void) agent_write_file(a, BACKUP_TARGET_FILE, line, strlen(line), 0600, 0, 0);
        }

        r = duply(cleanup_args);
        if (r == 0)
                r = duply(backup_args);
        if (r == 0)
                r = duply(purge_args);
        backup_umount(&s, mounted);
        if (r != 0)
                return backup_fail(a, t0, "duply failed (see the journal of appliance-backup.service)");

        (void) write_metrics(a, t0, now_usec() - t0, true);
        (void) agent_record_step(a, "backup", STEP_OK, "backup done", now_usec() - t0, NULL);
        return 0;
}

/* Moves ROOT/data/restore/NAME to /data/NAME, the old (empty) one to NAME-old. */
static int swap_in(const Agent *a, const char *name, char **reterr) {
        _cleanup_free_ char *from = NULL, *to = NULL, *old = NULL;

        if (asprintf(&from, "%s%s/%s", agent_is_host_root(a) ? "" : a->root, BACKUP_RESTORE_DIR, name) < 0 ||
            asprintf(&to, "%s/data/%s", agent_is_host_root(a) ? "" : a->root, name) < 0 ||
            asprintf(&old, "%s-old", to) < 0)
                return -ENOMEM;
        if (access(from, F_OK) < 0)
                return reterr_printf(reterr, -ENOENT, "the backup holds no %s", name);
        (void) rm_rf(old);
        if (rename(to, old) < 0 && errno != ENOENT)
                return reterr_printf(reterr, -errno, "cannot move '%s' aside: %m", to);
        if (rename(from, to) < 0)
                return reterr_printf(reterr, -errno, "cannot move the restored '%s' into place: %m", name);
        log_info("Restored /data/%s (the previous one is /data/%s-old).", name, name);
        return 0;
}

int backup_recover(const Agent *a, bool yes_i_am_sure, bool only_restore, bool overwrite) {
        _cleanup_(env_freep) Env *env = NULL;
        _cleanup_free_ char *err = NULL, *restore = NULL;
        BackupSettings s;
        int r, mounted, vault_empty, pgdump_empty, tables;

        r = refuse_off_root(a, "The recovery");
        if (r < 0)
                return r;
        if (!yes_i_am_sure) {
                log_error("Refusing to recover without --yes-i-am-sure: the recovery replaces the storage vault "
                          "and the database with the backup's.");
                return -EPERM;
        }
        (void) setenv("HOME", "/root", 1);
        r = agent_load_active_env(a, &env);
        if (r < 0)
                return r;
        r = backup_settings_from_env(env, &s, &err);
        if (r < 0)
                return log_error_errno(r, "Cannot recover: %s", err);
        vault_empty = dir_is_empty(a, BACKUP_VAULT);
        pgdump_empty = dir_is_empty(a, BACKUP_PGDUMP_DIR);
        tables = only_restore ? 0 : database_has_tables(s.database);
        if (vault_empty < 0 || pgdump_empty < 0 || tables < 0)
                return log_error_errno(-EIO, "Cannot recover: cannot inspect the vault, the dump directory or the database.");
        r = backup_recover_check(vault_empty, pgdump_empty, tables, overwrite, &err);
        if (r < 0) {
                log_error("Refusing to recover over existing data: %s (--overwrite replaces it).", err);
                return r;
        }

        log_notice("Recovery: stopping the appliance and the backup timer.");
        (void) agent_systemctl(a, "stop", "appliance-backup.timer");
        (void) agent_systemctl(a, "stop", "appliance.service");
        r = backup_prepare(a, env, &err);
        if (r < 0)
                return log_error_errno(r, "Cannot recover: %s", err);
        mounted = backup_mount(a, &s, &err);
        if (mounted < 0)
                return log_error_errno(mounted, "Cannot recover: %s", err);
        restore = agent_path(a, BACKUP_RESTORE_DIR);
        if (!restore)
                return log_oom();
        (void) rm_rf(restore);
        {
                const char *args[] = { "restore", restore, NULL };
                log_notice("Recovery: restoring the backup of '%s' into %s.", s.url, BACKUP_RESTORE_DIR);
                r = duply(args);
        }
        backup_umount(&s, mounted);
        if (r != 0)
                return log_error_errno(-EIO, "Recovery failed: duply restore exited with %d.", r);
        r = swap_in(a, "ecs-storage-vault", &err);
        if (r >= 0)
                r = swap_in(a, "ecs-pgdump", &err);
        if (r < 0)
                return log_error_errno(r, "Recovery failed: %s", err);
        (void) rm_rf(restore);

        if (!only_restore) {
                _cleanup_free_ char *dump = agent_path(a, BACKUP_PGDUMP);
                const char *drop[] = { "runuser", "-u", "postgres", "--", "dropdb", "--if-exists", s.database, NULL };
                const char *create[] = { "runuser", "-u", "postgres", "--", "createdb", "-T", "template0", "-E", "UTF8",
                                         s.database, NULL };
                const char *restore_db[] = {
                        "bash", "-c",
                        "set -o pipefail; gunzip -c \"$1\" | runuser -u postgres -- pg_restore -1 --no-owner -d \"$2\"",
                        "recover-from-backup", dump, s.database, NULL
                };
                if (!dump)
                        return log_oom();
                log_notice("Recovery: recreating database '%s' from %s.", s.database, BACKUP_PGDUMP);
                if (run_argv(drop) != 0 || run_argv(create) != 0)
                        return log_error_errno(-EIO, "Recovery failed: cannot recreate database '%s'.", s.database);
                if (run_argv(restore_db) != 0)
                        return log_error_errno(-EIO, "Recovery failed: pg_restore of %s failed.", BACKUP_PGDUMP);
        }

        (void) agent_unlink(a, AGENT_RECOVERY_FLAG);
        (void) agent_unlink(a, AGENT_FAILED_FLAG);
        (void) agent_unlink(a, AGENT_FAILED_FLAG_MANUAL);
        (void) agent_record_step(a, "recovery", STEP_OK, only_restore ? "files restored" : "vault and database restored",
                                 0, NULL);
        log_notice("Recovery done: restarting the appliance.");
        (void) agent_systemctl(a, "reset-failed", "appliance.service");
        r = agent_systemctl(a, "restart", "appliance.service");
        if (r != 0)
                return log_error_errno(-EIO, "The appliance did not restart after the recovery: systemctl status appliance");
        return 0;
}

int backup_recovery_wait(const Agent *a, const Env *env, char **ret_reason) {
        _cleanup_free_ char *err = NULL, *dir = NULL, *listing = NULL;
        BackupSettings s;
        int r, mounted, tables;

        if (!agent_is_host_root(a))
                return 0;
        r = backup_settings_from_env(env, &s, &err);
        if (r < 0 || !s.key)
                return 0;
        /* The database is asked last: a query costs seconds of an emulated first boot, where the
         * vault and the target's listing already say no. */
        if (dir_is_empty(a, BACKUP_VAULT) != 1)
                return 0;
        dir = backup_file_url_path(s.url);
        if (!dir) {
                if (database_has_tables(s.database) == 0)
                        log_info("Empty database; the backup target '%s' is not a local directory, so the agent "
                                 "does not look for a backup there.", s.url);
                return 0;
        }
        mounted = backup_mount(a, &s, &err);
        if (mounted < 0) {
                if (database_has_tables(s.database) == 0)
                        log_warning("Empty database; cannot look for a backup: %s", err);
                return 0;
        }
        r = dir_listing(dir, &listing);
        backup_umount(&s, mounted);
        if (r < 0 || !backup_listing_has_backup(listing))
                return 0;
        tables = database_has_tables(s.database);
        if (tables != 0)
                return 0;
        return (*ret_reason = strdup("Empty database, waiting for recovery: a backup exists at appliance:backup:url "
                                     "(recover-from-backup.sh --yes-i-am-sure)")) ? 1 : -ENOMEM;
}

int backup_timer_start(const Agent *a) {
        if (!agent_exists(a, BACKUP_PROFILE_DIR "/conf"))
                return 0;
        return agent_systemctl(a, "start-no-block", "appliance-backup.timer") == 0 ? 1 : -EIO;
}
