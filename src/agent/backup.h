/**
 * Backup and disaster recovery (manual: "Backup", "Desaster Recovery from backup"), as the original
 * appliance did it with duply/duplicity and pg_dump:
 *
 *  - backup_prepare() (from prepare-appliance, on every boot with an env): the duply profile
 *    /root/.duply/appliance-backup (conf, exclude) from appliance:backup, the backup key imported
 *    into /root/.gnupg, the timer's OnCalendar (appliance:backup:oncalendar, default 22:30).
 *    The profile: SOURCE /data with only the storage vault and the database dump, 25 MB volumes, a
 *    full backup when the last is older than 2 months, one full chain kept, encrypted to the env's
 *    key, TARGET appliance:backup:url (default file:///volatile/ecs-backup-test/).
 *  - backup_run() (appliance-backup.service): refuses without a database or with an empty vault,
 *    mounts appliance:backup:mount, dumps the database (pg_dump -Fc | gzip --rsyncable) to
 *    /data/ecs-pgdump/ecs.pgdump.gz, wipes the duplicity cache when the target changed, then
 *    duply cleanup, backup, purgefull; records the result as the "backup" step (status, journal)
 *    and the backup_last_* metrics.
 *  - backup_recover() (recover-from-backup.sh): restores vault and dump from the target into the
 *    empty directories, recreates the database from the dump (unless only_restore) and restarts
 *    the appliance.
 *  - backup_recovery_wait(): whether the appliance waits for a recovery instead of starting: an
 *    env, an empty database and vault, and a backup at the target.
 */
#pragma once

#include <stdbool.h>

#include "agent.h"
#include "env.h"

#define BACKUP_PROFILE_DIR "/root/.duply/appliance-backup"
#define BACKUP_GNUPG_DIR "/root/.gnupg"
#define BACKUP_ARCH_DIR "/volatile/duplicity"
#define BACKUP_CACHE_DIR BACKUP_ARCH_DIR "/appliance-backup"
#define BACKUP_TARGET_FILE BACKUP_ARCH_DIR "/appliance-backup.target"
#define BACKUP_VAULT "/data/ecs-storage-vault"
#define BACKUP_PGDUMP_DIR "/data/ecs-pgdump"
#define BACKUP_PGDUMP BACKUP_PGDUMP_DIR "/ecs.pgdump.gz"
#define BACKUP_RESTORE_DIR "/data/restore"
#define BACKUP_TIMER_DROPIN "/etc/systemd/system/appliance-backup.timer.d/oncalendar.conf"
#define BACKUP_METRICS_FILE "/var/lib/prometheus/node-exporter/appliance-backup.prom"
#define BACKUP_DEFAULT_URL "file:///volatile/ecs-backup-test/"
#define BACKUP_DEFAULT_ONCALENDAR "*-*-* 22:30:00"

typedef struct BackupSettings {
        const char *url;            /* appliance:backup:url or the default */
        const char *options;        /* appliance:backup:options (extra duplicity parameters) or NULL */
        const char *mount_type, *mount_source, *mount_target, *mount_options; /* appliance:backup:mount */
        const char *oncalendar;     /* appliance:backup:oncalendar or the default */
        const char *key;            /* appliance:backup:encrypt (armoured secret key) or NULL */
        const char *database;       /* ecs:database or "ecs" */
} BackupSettings;

/* Reads the settings (pointers into e). A value the duply conf, the mount or the timer cannot
 * carry is refused with its field's name in *reterr (-EINVAL). */
int backup_settings_from_env(const Env *e, BackupSettings *ret, char **reterr);

/* The duply conf for settings s, encrypting to key_fpr (40 hex digits). */
int backup_conf_render(const BackupSettings *s, const char *key_fpr, char **ret);
/* The duply exclude file: the vault and the dump, nothing else of /data. */
extern const char backup_exclude[];
/* The timer drop-in with OnCalendar=s->oncalendar. */
int backup_timer_dropin_render(const BackupSettings *s, char **ret);

/* The fingerprint of the first secret (else public) key in `gpg --with-colons` output. -ENOENT if
 * there is none. */
int backup_key_fpr_parse(const char *colons, char **ret);

/* Whether duplicity's cache belongs to another target: old_target is the content of
 * BACKUP_TARGET_FILE (NULL: none; then the cache is wiped as well). */
bool backup_target_changed(const char *old_target, const char *url);

/* The local directory of a file:// URL (newly allocated), NULL for other schemes. */
char *backup_file_url_path(const char *url);
/* Whether a directory listing (names, one per line) holds a duplicity full backup manifest. */
bool backup_listing_has_backup(const char *listing);

/* Recovery refuses to replace data: 0 if it may go on, else -EEXIST with the reason. */
int backup_recover_check(bool vault_empty, bool pgdump_empty, bool db_has_tables, bool overwrite,
                         char **reterr);

int backup_prepare(const Agent *a, const Env *env, char **reterr);
int backup_run(const Agent *a);
int backup_recover(const Agent *a, bool yes_i_am_sure, bool only_restore, bool overwrite);
/* 1: wait for recovery (reason in *ret_reason), 0: start normally, <0: error. */
int backup_recovery_wait(const Agent *a, const Env *env, char **ret_reason);
/* Starts appliance-backup.timer when the profile exists (after the appliance is ready). */
int backup_timer_start(const Agent *a);
