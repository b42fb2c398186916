/**
 * prepare-env: find the env, validate it, activate it as /run/active-env.yml.
 *
 * Sources, first match wins (USERDATA_TYPE, the source's type, in brackets):
 *   1. $ENV_YML, a path as the process sees it                          [local]
 *   2. ROOT/app/env.yml                                                 [local]
 *   3. the seed labelled cidata/CIDATA (ISO 9660 or vfat, read by the common seedfs reader; never
 *      mounted), file user-data                       [cidata]
 *   4. the drive labelled config-2 (ISO 9660 or vfat), openstack/latest/user_data  [config-2]
 *   5. if the profile sets features:ec2_metadata, the EC2-compatible metadata service, 3 s [ec2]
 * Before the env: the profile's users, the cloud-configs baked in the image
 * (/usr/share/appliance/cloud-config.d/NAME.cfg), a seed's meta-data and a seed's user-data that is no
 * env (cloud-config.h) give users, keys and the host name (provision.h).
 * A seed that exists but lacks the file is skipped with a warning (the original's reader took its
 * own error text for an env there).
 *
 * The text is loaded by the env model and checked by agent_env_check(), and only then written to
 * /run/active-env.yml (0600, atomically) byte for byte as it was read: what is activated is exactly
 * what `env check` reads in the file, with the same positions. The source is recorded beside it, in
 * /run/appliance/env-source (USERDATA_TYPE=..., USERDATA_ORIGIN=..., shell-quoted), in the step
 * record and status.json; the original's "USERDATA_TYPE: <type>" line appended to the text is gone
 * (a line edit lets a block scalar at the end of the file smuggle in keys that no review saw).
 * A bad env: the failed flag with the reason, nothing written. No env at all: the unconfigured
 * appliance (AGENT_UNCONFIGURED_FLAG with the reason).
 * appliance:standby true: the standby flag and the status "Appliance Standby"; later units skip.
 *
 * Reconfiguring (Agent.reconfigure: env-update.sh, appliance-update) reads and checks the same way,
 * but a bad or missing env changes nothing: the reason (file:line:column) goes to stderr and the
 * journal, the exit status is non-zero, and the running appliance, its flags and
 * /run/active-env.yml stay as they are. A good one replaces /run/active-env.yml atomically.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "agent-path.h"
#include "chase.h"
#include "cleanup.h"
#include "env-check.h"
#include "fileio.h"
#include "http.h"
#include "log.h"
#include "prepare-env.h"
#include "probe.h"
#include "ssh-keys.h"
#include "profile.h"
#include "cloud-config.h"
#include "parse-util.h"
#include "provision.h"
#include "strv.h"

#define ENV_MAX AGENT_ENV_MAX

typedef struct EnvSource {
        char *text;
        size_t len;
        const char *type;   /* USERDATA_TYPE */
        char *origin;       /* for messages: the file or device and member */
} EnvSource;

static void env_source_done(EnvSource *s) {
        free(s->text);
        free(s->origin);
}

/* host: a path as the process sees it ($ENV_YML), else one below the root, read strictly. */
static int from_file(const Agent *a, const char *path, bool host, const char *type, EnvSource *ret) {
        char *text;
        size_t len;
        int r;

        r = host ? read_input(AT_FDCWD, path, INPUT_FOLLOW, ENV_MAX, &text, &len)
                 : agent_read_file(a, path, ENV_MAX, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                _cleanup_free_ char *why = host ? strdup(strerror(-r)) : agent_io_reason(a, path, r);
                log_error("Failed to read env '%s': %s", path, why ?: strerror(-r));
                return r;
        }
        ret->text = text;
        ret->len = len;
        ret->type = type;
        ret->origin = host ? strdup(path) : agent_path(a, path);
        return ret->origin ? 1 : log_oom();
}

/* Reads one member of the drive with one of labels. Returns 1 (text, its length and "DEV:MEMBER"
 * in ret_origin), 0 if there is no such drive or member, <0 on errors (logged). */
static int drive_read(const Agent *a, const char *const *labels, const char *member, char **ret_text, size_t *ret_len,
                      char **ret_origin) {
        _cleanup_free_ char *dev = NULL, *text = NULL;
        size_t len = 0;
        FsType t;
        int r;

        r = probe_find_label(a, labels, &dev, &t);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_error_errno(r, "Failed to look for a '%s' drive: %m", labels[0]);

        if (t == FS_ISO9660 || t == FS_VFAT) {
                _cleanup_(seedfs_freep) SeedFs *fs = NULL;
                _cleanup_close_ int fd = -EBADF;

                /* ISO names may also be the aliases some seed makers write ("user_data"); FAT
                 * looks names up case-insensitively anyway. */
                r = open_input(AT_FDCWD, dev, INPUT_ALLOW_BLOCK, UINT64_MAX, &fd, NULL);
                if (r >= 0)
                        r = seedfs_open(fd, &fs);
                if (r >= 0)
                        r = seedfs_read_file(fs, member,
                                             t == FS_ISO9660 && !strchr(member, '/') ? SEEDFS_ALIASES : 0,
                                             ENV_MAX, &text, &len);
        } else
                r = -EMEDIUMTYPE;
        if (r < 0) {
                log_full(streq(member, "user-data") || endswith(member, "user_data") ? LOG_WARNING : LOG_DEBUG,
                         "Drive '%s' (%s, label %s) has no readable '%s': %s, ignoring.", dev, fs_type_to_string(t),
                         labels[0], member, strerror(-r));
                return 0;
        }
        if (asprintf(ret_origin, "%s:%s", dev, member) < 0)
                return log_oom();
        *ret_text = TAKE_PTR(text);
        *ret_len = len;
        return 1;
}

static int from_drive(const Agent *a, const char *const *labels, const char *member, const char *type, EnvSource *ret) {
        int r;

        r = drive_read(a, labels, member, &ret->text, &ret->len, &ret->origin);
        if (r > 0)
                ret->type = type;
        return r;
}

/* IMDSv2: a session token from PUT <base>/latest/api/token, where the URL has that shape. NULL if
 * the service gives none (IMDSv1-only services answer 404/405; then the plain GET is used). */
static char *metadata_token(const char *url, unsigned timeout_ms) {
        _cleanup_free_ char *token_url = NULL, *body = NULL;
        const char *latest = strstr(url, "/latest/");
        size_t len;
        int status;

        if (!latest)
                return NULL;
        if (asprintf(&token_url, "%.*s/latest/api/token", (int) (latest - url), url) < 0)
                return NULL;
        if (http_request("PUT", token_url, "X-aws-ec2-metadata-token-ttl-seconds: 60\r\n", timeout_ms, 4096, &status,
                         &body, &len) < 0 || status != 200 || len == 0 || strpbrk(body, "\r\n"))
                return NULL;
        return TAKE_PTR(body);
}

static int from_metadata(const Agent *a, EnvSource *ret) {
        _cleanup_free_ char *body = NULL, *token = NULL, *header = NULL;
        uint64_t t0 = now_usec(), spent;
        size_t len;
        int r, status;

        /* 3 s in all, as the original's curl --max-time 3. */
        token = metadata_token(a->metadata_url, 1500);
        if (token && asprintf(&header, "X-aws-ec2-metadata-token: %s\r\n", token) < 0)
                return log_oom();
        spent = (now_usec() - t0) / 1000;
        r = http_request("GET", a->metadata_url, header, spent >= 3000 ? 1 : (unsigned) (3000 - spent), ENV_MAX,
                         &status, &body, &len);
        if (r < 0) {
                log_info_errno(r, "No metadata service at '%s': %m", a->metadata_url);
                return 0;
        }
        if (status != 200) {
                log_info("Metadata service '%s' answered HTTP %d, no user-data.", a->metadata_url, status);
                return 0;
        }
        ret->text = TAKE_PTR(body);
        ret->len = len;
        ret->type = "ec2";
        ret->origin = strdup(a->metadata_url);
        return ret->origin ? 1 : log_oom();
}

static bool has_header(const char *text, size_t len, const char *h) {
        size_t n = strlen(h);
        return len >= n && memcmp(text, h, n) == 0;
}

/* What a seed's user-data is. 1: an env, or meant as one (it is validated and a bad one fails with
 * its reason); 0: a cloud-config without an env (its subset goes to cc) or another user-data type
 * (noted); the search goes on. */
static int seed_user_data(const EnvSource *src, CloudConfig *cc) {
        static const char *const other[] = { "#cloud-config-archive", "#!", "#include", "#cloud-boothook",
                                             "#part-handler", "## template:", "Content-Type:", "MIME-Version:",
                                             "\x1f\x8b" };
        _cleanup_(env_freep) Env *e = NULL;
        _cleanup_free_ char *name = NULL, *err = NULL;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(other); i++)
                if (has_header(src->text, src->len, other[i])) {
                        log_notice("%s: this user-data type is not read by the appliance, only #cloud-config.",
                                   src->origin);
                        return cloud_config_note(cc, "%s user-data: not supported (only #cloud-config is read)",
                                                 src->type) < 0 ? log_oom() : 0;
                }
        if (!has_header(src->text, src->len, "#cloud-config"))
                return 1;
        if (env_load_buffer(src->origin, src->text, src->len, &e, NULL) < 0)
                return 1;
        if (env_lookup(e, "appliance") || env_lookup(e, "ecs"))
                return 1;
        if (asprintf(&name, "%s user-data", src->type) < 0)
                return log_oom();
        log_info("%s is a cloud-config without an env (no appliance: key): applying its users and keys.", src->origin);
        r = cloud_config_parse(cc, name, src->text, src->len, &err);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0 && cloud_config_note(cc, "%s: %s", name, err ?: "not a cloud-config") < 0)
                return log_oom();
        return 0;
}

/* Finds the env. Returns 1 and fills ret, 0 if there is none, <0 on errors (logged). A seed's
 * user-data that is no env adds its cloud-config subset to cc instead. */
static int find_env(const Agent *a, const Profile *p, EnvSource *ret, char **ret_tried, CloudConfig *cc) {
        static const char *const cidata[] = { "cidata", "CIDATA", NULL };
        static const char *const config2[] = { "config-2", "CONFIG-2", NULL };
        const char *e = getenv("ENV_YML");
        int r;

        if (!isempty(e)) {
                r = from_file(a, e, true, "local", ret);
                if (r != 0)
                        return r;
        }
        r = from_file(a, "/app/env.yml", false, "local", ret);
        if (r != 0)
                return r;
        for (unsigned i = 0; i < 3; i++) {
                if (i == 0)
                        r = from_drive(a, cidata, "user-data", "cidata", ret);
                else if (i == 1)
                        r = from_drive(a, config2, "openstack/latest/user_data", "config-2", ret);
                else
                        r = p->ec2_metadata ? from_metadata(a, ret) : 0;
                if (r > 0) {
                        r = seed_user_data(ret, cc);
                        if (r != 0)
                                return r;
                        env_source_done(ret);
                        *ret = (EnvSource) {};
                }
                if (r < 0)
                        return r;
        }
        if (asprintf(ret_tried, "%s%s/app/env.yml, a cidata seed, a config-2 drive%s", isempty(e) ? "" : "$ENV_YML, ",
                     agent_is_host_root(a) ? "" : a->root, p->ec2_metadata ? ", the EC2 metadata service" : "") < 0)
                return log_oom();
        return 0;
}

/* GET of one EC2 meta-data item below the service's /latest/; NULL if it has none. */
static char *ec2_meta_get(const Agent *a, const char *token, const char *item) {
        _cleanup_free_ char *url = NULL, *header = NULL, *body = NULL;
        const char *latest = strstr(a->metadata_url, "/latest/");
        size_t len;
        int status;

        if (!latest || asprintf(&url, "%.*s/latest/meta-data/%s", (int) (latest - a->metadata_url), a->metadata_url,
                                item) < 0)
                return NULL;
        if (token && asprintf(&header, "X-aws-ec2-metadata-token: %s\r\n", token) < 0)
                return NULL;
        if (http_request("GET", url, header, 1000, 64 * 1024, &status, &body, &len) < 0 || status != 200 ||
            strlen(body) != len)
                return NULL;
        return TAKE_PTR(body);
}

/* The meta-data of the seeds: NoCloud meta-data, config-2 meta_data.json, the EC2 service's keys
 * and host name (when the profile enables it). Problems become notes. */
static int read_meta_data(const Agent *a, const Profile *p, CloudConfig *cc) {
        static const char *const cidata[] = { "cidata", "CIDATA", NULL };
        static const char *const config2[] = { "config-2", "CONFIG-2", NULL };
        static const struct {
                const char *const *labels;
                const char *member;
                const char *name;
                MetaDataFormat format;
        } drives[] = {
                { cidata, "meta-data", "cidata meta-data", META_DATA_NOCLOUD },
                { config2, "openstack/latest/meta_data.json", "config-2 meta_data.json", META_DATA_CONFIG2 },
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(drives); i++) {
                _cleanup_free_ char *text = NULL, *origin = NULL, *err = NULL;
                size_t len;

                r = drive_read(a, drives[i].labels, drives[i].member, &text, &len, &origin);
                if (r <= 0)
                        continue;
                if (len == 0 || strspn(text, " \t\r\n") == len)
                        continue;
                r = cloud_meta_data_parse(cc, drives[i].name, drives[i].format, text, len, &err);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0 && cloud_config_note(cc, "%s: ignored: %s", drives[i].name, err ?: "not a mapping") < 0)
                        return log_oom();
        }
        if (p->ec2_metadata) {
                _cleanup_free_ char *token = metadata_token(a->metadata_url, 1000), *list = NULL, *host = NULL;

                list = ec2_meta_get(a, token, "public-keys/");
                /* "0=name" lines */
                for (char *l = list, *next; l && *l; l = next) {
                        size_t n = strcspn(l, "\n");
                        unsigned idx;
                        next = l[n] ? l + n + 1 : l + n;
                        l[n] = 0;
                        l[strcspn(l, "=")] = 0;
                        if (safe_atou(l, &idx) < 0 || idx > 64)
                                continue;
                        _cleanup_free_ char *item = NULL, *key = NULL;
                        if (asprintf(&item, "public-keys/%u/openssh-key", idx) < 0)
                                return log_oom();
                        key = ec2_meta_get(a, token, item);
                        if (key && cloud_meta_data_add_ec2(cc, item, key) < 0)
                                return log_oom();
                }
                host = ec2_meta_get(a, token, "local-hostname");
                if (host && cloud_meta_data_add_ec2(cc, "local-hostname", host) < 0)
                        return log_oom();
        }
        return 0;
}

/* The source of the active env as shell assignments (env.include and scripts may source it). */
static char *env_source_text(const EnvSource *src) {
        _cleanup_free_ char *type = env_quote(src->type, strlen(src->type), ENV_FLATTEN_SH),
                            *origin = env_quote(src->origin, strlen(src->origin), ENV_FLATTEN_SH);
        char *text;

        if (!type || !origin)
                return NULL;
        if (asprintf(&text, "USERDATA_TYPE=%s\nUSERDATA_ORIGIN=%s\n", type, origin) < 0)
                return NULL;
        return text;
}

/* The whole reason goes to the journal; the flag, pages, step record and unit status get its
 * public form, without the values of secret keys of env (the one that was refused, if loaded). */
static int fail_step_env(const Agent *a, uint64_t t0, const char *title, const char *reason, const Env *env) {
        _cleanup_free_ char *pub = NULL, *page = NULL;

        if (a->reconfigure) {
                log_error("Not activated, the running appliance and %s are unchanged: %s", AGENT_ACTIVE_ENV, reason);
                return -EBADMSG;
        }
        log_error("%s: %s", title, reason);
        pub = agent_public_reason(a, reason, env);
        if (!pub)
                return log_oom();
        (void) agent_record_step(a, "prepare-env", STEP_FAILED, pub, now_usec() - t0, NULL);
        (void) agent_set_failed_step(a, "prepare-env", pub);
        if (asprintf(&page, "Step prepare-env failed: %s", pub) < 0)
                return log_oom();
        (void) agent_write_status_page(a, title, page);
        (void) agent_notifyf("STATUS=%s: %s", title, pub);
        return -EBADMSG;
}

static int fail_step(const Agent *a, uint64_t t0, const char *title, const char *reason) {
        return fail_step_env(a, t0, title, reason, NULL);
}

/* Cloud-configs baked into the image (ROOT/usr/share/appliance/cloud-config.d/NAME.cfg, in name
 * order): the Vagrant box's vagrant user, made by "image --format box". Same subset as a seed's. */
static int read_image_cloud_config(const Agent *a, CloudConfig *cc) {
        _cleanup_strv_free_ char **files = NULL;
        int fd, r = 0;
        DIR *d;

        if (agent_open_image(a, AGENT_IMAGE_CLOUD_CONFIG_DIR, O_RDONLY | O_DIRECTORY, &fd) < 0)
                return 0;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return 0;
        }
        for (struct dirent *de; (de = readdir(d));)
                if (de->d_name[0] != '.' && endswith(de->d_name, ".cfg") && strv_extend(&files, de->d_name) < 0) {
                        closedir(d);
                        return log_oom();
                }
        closedir(d);
        strv_sort(files);
        STRV_FOREACH(f, files) {
                _cleanup_free_ char *path = NULL, *text = NULL, *name = NULL, *err = NULL;
                size_t len;

                if (asprintf(&path, "%s/%s", AGENT_IMAGE_CLOUD_CONFIG_DIR, *f) < 0 ||
                    asprintf(&name, "image cloud-config.d/%s", *f) < 0)
                        return log_oom();
                if (agent_read_image_file(a, path, ENV_MAX, &text, &len) < 0)
                        continue;
                r = cloud_config_parse(cc, name, text, len, &err);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0 && cloud_config_note(cc, "%s: %s", name, err ?: "not a cloud-config") < 0)
                        return log_oom();
        }
        return 0;
}

/* No env anywhere: the appliance is installed but unconfigured (manual: "on an installed but
 * unconfigured appliance"). Storage and ssh still come up; the page says how to configure it. */
static int unconfigured(const Agent *a, uint64_t t0, const char *tried) {
        _cleanup_free_ char *reason = NULL, *line = NULL;
        int r;

        if (asprintf(&reason, "No env found (tried %s). Make one with 'env-create.sh DOMAIN DIR', copy DIR/env.yml "
                     "to /app/env.yml and reboot.", tried) < 0 ||
            asprintf(&line, "%s\n", reason) < 0)
                return log_oom();
        r = agent_write_file(a, AGENT_UNCONFIGURED_FLAG, line, strlen(line), 0644, (uid_t) -1, (gid_t) -1);
        if (r < 0)
                return agent_log_io_error(a, "write", AGENT_UNCONFIGURED_FLAG, r);
        r = agent_unlink(a, AGENT_ACTIVE_ENV);
        if (r >= 0)
                r = agent_unlink(a, AGENT_ENV_SOURCE);
        if (r >= 0)
                r = agent_unlink(a, AGENT_STANDBY_FLAG);
        if (r < 0)
                return log_error_errno(r, "Failed to remove the previous env's state: %m");
        log_notice("Appliance Unconfigured: %s", reason);
        (void) agent_write_status_page(a, "Appliance Unconfigured", reason);
        (void) agent_record_step(a, "prepare-env", STEP_UNCONFIGURED, "no env found", now_usec() - t0, NULL);
        (void) agent_notify("STATUS=Appliance Unconfigured: no env found");
        return 0;
}

int step_prepare_env(const Agent *a) {
        _cleanup_(env_source_done) EnvSource src = {};
        _cleanup_(profile_freep) Profile *profile = NULL;
        _cleanup_free_ char *tried = NULL, *err = NULL, *reason = NULL, *source_text = NULL, *source = NULL;
        _cleanup_(env_freep) Env *env = NULL;
        _cleanup_(cloud_config_done) CloudConfig cc = {};
        uint64_t t0 = now_usec();
        int r, standby;

        /* Host keys first: ssh must work for the administrator even if the env is bad. */
        r = ssh_host_keys_ensure(a);
        if (r < 0)
                log_warning_errno(r, "Could not make the ssh host keys, continuing: %m");

        (void) agent_notify("STATUS=Reading the environment");
        (void) agent_write_status_page(a, "Appliance Startup", "Reading the environment");
        r = agent_load_profile(a, &profile, &err);
        if (r < 0)
                return fail_step(a, t0, "Appliance Error", err ?: "cannot read the image profile");

        /* Users and keys first, env or not: the image must be enterable to be configured. */
        r = provision_profile_users(a, profile, &cc);
        if (r >= 0)
                r = read_image_cloud_config(a, &cc);
        if (r >= 0)
                r = read_meta_data(a, profile, &cc);
        if (r < 0)
                return r;
        r = find_env(a, profile, &src, &tried, &cc);
        (void) provision_apply(a, profile, &cc);
        (void) insecure_keys_cleanup(a);
        (void) provision_write_notes(a, cc.notes, 0);
        if (r < 0)
                return fail_step(a, t0, "Appliance Error", "Error reading userdata (see the journal)");
        if (r == 0 && a->reconfigure) {
                if (asprintf(&reason, "No env found (tried %s).", tried) < 0)
                        return log_oom();
                return fail_step(a, t0, "Appliance Error", reason);
        }
        if (r == 0)
                return unconfigured(a, t0, tried);
        log_info("Found user-data: USERDATA_TYPE: %s (%s)", src.type, src.origin);

        /* The text as it will be activated: empty, NUL bytes, header, syntax, with its own positions. */
        r = env_load_buffer(src.origin, src.text, src.len, &env, &err);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                if (asprintf(&reason, "Invalid env: %s", err ?: src.origin) < 0)
                        return log_oom();
                return fail_step(a, t0, "Appliance Error", reason);
        }
        r = agent_env_check(env, true, &err);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                if (asprintf(&reason, "Invalid env: %s", err ?: src.origin) < 0)
                        return log_oom();
                return fail_step_env(a, t0, "Appliance Error", reason, env);
        }
        r = agent_unlink(a, AGENT_UNCONFIGURED_FLAG);
        if (r < 0) {
                _cleanup_free_ char *why = agent_io_reason(a, AGENT_UNCONFIGURED_FLAG, r);
                if (asprintf(&reason, "Cannot remove %s: %s", AGENT_UNCONFIGURED_FLAG, why ?: strerror(-r)) < 0)
                        return log_oom();
                return fail_step(a, t0, "Appliance Error", reason);
        }
        {
                /* What the env asks for and this image does not do: reported, never fatal. */
                size_t n_logged = strv_length(cc.notes);
                r = provision_report_env(a, profile, env, &cc);
                if (r < 0)
                        return r;
                (void) provision_write_notes(a, cc.notes, n_logged);
        }

        source_text = env_source_text(&src);
        if (!source_text || asprintf(&source, "%s:%s", src.type, src.origin) < 0)
                return log_oom();
        r = agent_write_file(a, AGENT_ACTIVE_ENV, src.text, src.len, 0600, geteuid(), getegid());
        if (r < 0) {
                _cleanup_free_ char *why = agent_io_reason(a, AGENT_ACTIVE_ENV, r);
                if (asprintf(&reason, "Cannot write %s: %s", AGENT_ACTIVE_ENV, why ?: strerror(-r)) < 0)
                        return log_oom();
                return fail_step(a, t0, "Appliance Error", reason);
        }
        bool changed = r > 0;
        r = agent_write_file(a, AGENT_ENV_SOURCE, source_text, strlen(source_text), 0644, geteuid(), getegid());
        if (r < 0) {
                _cleanup_free_ char *why = agent_io_reason(a, AGENT_ENV_SOURCE, r);
                if (asprintf(&reason, "Cannot write %s: %s", AGENT_ENV_SOURCE, why ?: strerror(-r)) < 0)
                        return log_oom();
                return fail_step(a, t0, "Appliance Error", reason);
        }
        changed = changed || r > 0;
        log_info("%s '%s' (%s).", changed ? "Activated" : "Unchanged:", AGENT_ACTIVE_ENV, source);

        standby = env_get_bool(env, "appliance:standby", false);
        if (standby > 0) {
                r = agent_write_file(a, AGENT_STANDBY_FLAG, "appliance:standby is true\n", 26, 0644, (uid_t) -1,
                                     (gid_t) -1);
                if (r < 0)
                        return agent_log_io_error(a, "write", AGENT_STANDBY_FLAG, r);
                log_notice("Appliance Standby: appliance:standby is true, not starting the appliance.");
                (void) agent_write_status_page(a, "Appliance Standby", "Appliance is in standby");
                (void) agent_record_step(a, "prepare-env", STEP_STANDBY, "Appliance Standby", now_usec() - t0, source);
                (void) agent_notify("STATUS=Appliance Standby");
                return 0;
        }
        r = agent_unlink(a, AGENT_STANDBY_FLAG);
        if (r < 0)
                return agent_log_io_error(a, "remove", AGENT_STANDBY_FLAG, r);

        (void) agent_record_step(a, "prepare-env", changed ? STEP_CHANGED : STEP_OK, "env activated", now_usec() - t0,
                                 source);
        (void) agent_notifyf("STATUS=Environment from %s activated", src.type);
        return 0;
}
