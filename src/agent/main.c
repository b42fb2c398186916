/**
 * appliance-agent: the first-boot and every-boot agent of the appliance image. One verb per systemd
 * unit, in the manual's execution order; see agent.h for the runtime files and the README section
 * "The agent" for the administrator's view.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "agent-path.h"
#include "appliance.h"
#include "appliance-update.h"
#include "client-ca.h"
#include "internal-user.h"
#include "cleanup.h"
#include "env.h"
#include "log.h"
#include "backup.h"
#include "prepare-appliance.h"
#include "prepare-env.h"
#include "prepare-storage.h"
#include "provision.h"
#include "sentry.h"
#include "strv.h"
#include "verb-dispatch.h"

static char *arg_root = NULL;
static char *arg_profile = NULL;
static char *arg_systemctl = NULL;
static char *arg_metadata_url = NULL;
static char *arg_unit = NULL;
static bool arg_json = false;
static bool arg_once = false;
static bool arg_yes_i_am_sure = false;
static bool arg_only_restore = false;
static bool arg_overwrite = false;

/* The agent every verb works on, set up by run() before the dispatch. */
static Agent agent;

static int exit_status(int r) {
        return r < 0 ? 1 : 0;
}

static int run_prepare_env(int argc, char *argv[]) {
        (void) argc, (void) argv;
        return exit_status(step_prepare_env(&agent));
}

static int run_prepare_storage(int argc, char *argv[]) {
        (void) argc, (void) argv;
        return exit_status(step_prepare_storage(&agent));
}

static int run_prepare_appliance(int argc, char *argv[]) {
        (void) argc, (void) argv;
        return exit_status(step_prepare_appliance(&agent));
}

static int run_appliance(int argc, char *argv[]) {
        (void) argc, (void) argv;
        return exit_status(step_appliance(&agent));
}

static int run_backup(int argc, char *argv[]) {
        (void) argc, (void) argv;
        return exit_status(backup_run(&agent));
}

static int run_recover(int argc, char *argv[]) {
        (void) argc, (void) argv;
        return exit_status(backup_recover(&agent, arg_yes_i_am_sure, arg_only_restore, arg_overwrite));
}

/* service-failed@.service: a failed job (backup, update) as a Sentry error. */
static int run_alert(int argc, char *argv[]) {
        _cleanup_free_ char *msg = NULL;
        int r;

        if (argc > 1)
                msg = strv_join(argv + 1, " ");
        else if (asprintf(&msg, "Service (%s) failed (journalctl -u %s)", strna(arg_unit), strna(arg_unit)) < 0)
                msg = NULL;
        if (!msg)
                return exit_status(log_oom());
        log_error("%s", msg);
        r = sentry_send(&agent, "error", arg_unit ?: "appliance", msg);
        return exit_status(r < 0 ? r : 0);
}

static int run_env_update(int argc, char *argv[]) {
        Agent b = agent;
        (void) argc, (void) argv;
        b.reconfigure = true;
        return exit_status(step_prepare_env(&b));
}

static int run_update(int argc, char *argv[]) {
        (void) argc, (void) argv;
        return exit_status(step_appliance_update(&agent));
}

static int run_client_cert(int argc, char *argv[]);
static int run_internal_user(int argc, char *argv[]);
static int run_status(int argc, char *argv[]);
static int run_fail(int argc, char *argv[]);
static int run_env(int argc, char *argv[]);

static int run_insecure_keys(int argc, char *argv[]) {
        (void) argc, (void) argv;
        return exit_status(insecure_keys_cleanup(&agent));
}

static const Verb verbs[] = {
        { "prepare-env", run_prepare_env, "Find the env, validate it, write /run/active-env.yml" },
        { "prepare-storage", run_prepare_storage, "Mount ecs-data/ecs-volatile, grow the disk, make the layout" },
        { "prepare-appliance", run_prepare_appliance, "Hostname, ssh keys, extra files, TLS, profile templates" },
        { "appliance", run_appliance, "Start the services, wait for health, report READY" },
        { "env-update", run_env_update, "Read and check the env again; activate it only if it is valid" },
        { "update", run_update, "Apply the env to the running appliance, upgrade packages, reload" },
        { "client-cert", run_client_cert, "create EMAIL NAME [DAYS] | revoke SERIAL|NAME | list" },
        { "internal-user", run_internal_user, "EMAIL FIRST LAST f|m: create or update an application user" },
        { "status", run_status, "Show the env source, the steps, the failed reason, the services" },
        { "fail", run_fail, "[REASON] Set the failed flag (used by appliance-failed@.service)" },
        { "env", run_env, "[ROOTS] Print the active env flattened for sh (default: ecs,appliance)" },
        { "backup", run_backup, "Dump the database and back up vault and dump with duply (appliance-backup.service)" },
        { "recover", run_recover, "--yes-i-am-sure [--only-restore] [--overwrite] Restore vault and database from the backup" },
        { "alert", run_alert, "[MESSAGE] Report a failed service (--unit) to Sentry (service-failed@.service)" },
        { "insecure-keys", run_insecure_keys, "Remove the Vagrant insecure keys of users that have their own key" },
};

static void help(void) {
        printf("%s [OPTIONS...] VERB [ARGS...]\n\n"
               "Configures the appliance at boot, in the order of the administration manual.\n\n"
               "Verbs:\n",
               program_invocation_short_name);
        verbs_help(verbs, ELEMENTSOF(verbs), 23);
        printf("\nOptions:\n"
               "  -h --help               Show this help\n"
               "     --version            Show the version\n"
               "     --root=DIR           Operate on the system below DIR (tests, offline images)\n"
               "     --profile=PATH       Image profile (default ROOT%s)\n"
               "     --json               status: print JSON\n"
               "     --once               appliance: exit after READY instead of monitoring\n"
               "     --systemctl=CMD      Program used to start/stop units (default: systemctl)\n"
               "     --metadata-url=URL   EC2-compatible user-data URL (default %s)\n"
               "     --unit=UNIT          fail, alert: the unit that failed\n"
               "     --yes-i-am-sure      recover: really replace vault and database with the backup's\n"
               "     --only-restore       recover: restore the files only, leave the database alone\n"
               "     --overwrite          recover: also over a non-empty vault, dump directory or database\n\n"
               "Exit status: 0 success (also standby), 1 failure or refused (failed flag set), 2 usage.\n"
               "Recovery from the failed state: rm /run/appliance_failed; systemctl restart appliance\n",
               AGENT_PROFILE, AGENT_EC2_URL);
}

static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
                ARG_ROOT,
                ARG_PROFILE,
                ARG_JSON,
                ARG_ONCE,
                ARG_SYSTEMCTL,
                ARG_METADATA_URL,
                ARG_UNIT,
                ARG_YES_I_AM_SURE,
                ARG_ONLY_RESTORE,
                ARG_OVERWRITE,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "root", required_argument, NULL, ARG_ROOT },
                { "profile", required_argument, NULL, ARG_PROFILE },
                { "json", no_argument, NULL, ARG_JSON },
                { "once", no_argument, NULL, ARG_ONCE },
                { "systemctl", required_argument, NULL, ARG_SYSTEMCTL },
                { "metadata-url", required_argument, NULL, ARG_METADATA_URL },
                { "unit", required_argument, NULL, ARG_UNIT },
                { "yes-i-am-sure", no_argument, NULL, ARG_YES_I_AM_SURE },
                { "only-restore", no_argument, NULL, ARG_ONLY_RESTORE },
                { "overwrite", no_argument, NULL, ARG_OVERWRITE },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("appliance-agent %s\n", PROJECT_VERSION);
                        return 0;
                case ARG_ROOT: {
                        char buf[PATH_MAX];
                        if (!realpath(optarg, buf)) {
                                log_error_errno(errno, "Invalid --root '%s': %m", optarg);
                                return -EINVAL;
                        }
                        free(arg_root);
                        arg_root = strdup(buf);
                        if (!arg_root)
                                return log_oom();
                        break;
                }
                case ARG_PROFILE:
                        free(arg_profile);
                        arg_profile = strdup(optarg);
                        if (!arg_profile)
                                return log_oom();
                        break;
                case ARG_JSON:
                        arg_json = true;
                        break;
                case ARG_ONCE:
                        arg_once = true;
                        break;
                case ARG_SYSTEMCTL:
                        free(arg_systemctl);
                        arg_systemctl = strdup(optarg);
                        if (!arg_systemctl)
                                return log_oom();
                        break;
                case ARG_METADATA_URL:
                        if (!startswith(optarg, "http://")) {
                                log_error("--metadata-url must be an http:// URL: '%s'", optarg);
                                return -EINVAL;
                        }
                        free(arg_metadata_url);
                        arg_metadata_url = strdup(optarg);
                        if (!arg_metadata_url)
                                return log_oom();
                        break;
                case ARG_UNIT:
                        free(arg_unit);
                        arg_unit = strdup(optarg);
                        if (!arg_unit)
                                return log_oom();
                        break;
                case ARG_YES_I_AM_SURE:
                        arg_yes_i_am_sure = true;
                        break;
                case ARG_ONLY_RESTORE:
                        arg_only_restore = true;
                        break;
                case ARG_OVERWRITE:
                        arg_overwrite = true;
                        break;
                case '?':
                        return -EINVAL;
                default:
                        return -EINVAL;
                }
        if (optind >= argc) {
                log_error("A verb is required.");
                return -EINVAL;
        }
        return 1;
}

static int verb_status(const Agent *a) {
        _cleanup_free_ char *text = NULL;
        int r = a->json ? agent_status_json(a, &text) : agent_status_text(a, &text);

        if (r < 0)
                return log_error_errno(r, "Failed to collect the status: %m");
        fputs(text, stdout);
        return 0;
}

static int verb_fail(const Agent *a, int argc, char *argv[]) {
        _cleanup_free_ char *reason = NULL;
        int r;

        r = agent_failed_check(a, &reason);
        if (r == -EBUSY) {
                log_info("The failed flag is already set.");
                (void) sentry_send(a, "fatal", arg_unit ?: "appliance", reason ?: "Appliance failed");
                return 0;
        }
        free(reason);
        reason = NULL;
        if (argc > 0)
                reason = strv_join(argv, " ");
        else if (arg_unit)
                r = asprintf(&reason, "Appliance (%s) failed to start, system in standby (journalctl -u %s)", arg_unit,
                             arg_unit);
        else
                reason = strdup("Appliance failed");
        if (!reason || r < 0)
                return log_oom();
        r = agent_set_failed(a, reason);
        if (r < 0)
                return log_error_errno(r, "Failed to write the failed flag: %m");
        log_error("Appliance failed: %s", reason);
        (void) sentry_send(a, "fatal", arg_unit ?: "appliance", reason);
        _cleanup_free_ char *pub = agent_public_reason(a, reason, NULL);
        (void) agent_notifyf("STATUS=Appliance failed: %s", pub ?: "see the journal");
        return 0;
}

static int verb_env(const Agent *a, int argc, char *argv[]) {
        _cleanup_(env_freep) Env *env = NULL;
        _cleanup_strv_free_ char **roots = NULL;
        _cleanup_free_ char *text = NULL;
        int r;

        r = agent_load_active_env(a, &env);
        if (r < 0)
                return r;
        r = strv_split(argc > 0 ? argv[0] : "ecs,appliance", ",", &roots);
        if (r < 0)
                return log_oom();
        r = env_flatten(env, roots, ENV_FLATTEN_SH, &text);
        if (r < 0)
                return log_error_errno(r, "Failed to flatten the env: %m");
        fputs(text, stdout);
        return 0;
}

static int client_cert_usage(void) {
        fprintf(stderr, "Usage: create-client-cert.sh EMAIL NAME [DAYS]   (DAYS: default %u, at most %u)\n"
                        "       revoke-client-cert.sh SERIAL|NAME\n"
                        "       appliance-agent client-cert list\n",
                CLIENT_CERT_DAYS_DEFAULT, CLIENT_CERT_DAYS_MAX);
        return 2;
}

static int verb_client_cert(const Agent *a, int argc, char *argv[]) {
        _cleanup_free_ char *err = NULL;
        int r;

        if (argc >= 1 && streq(argv[0], "create") && (argc == 3 || argc == 4)) {
                _cleanup_free_ char *serial = NULL, *path = NULL;
                char password[CLIENT_CERT_PASSWORD_LEN + 1];
                unsigned days = CLIENT_CERT_DAYS_DEFAULT;

                if (argc == 4 && client_cert_parse_days(argv[3], &days, &err) < 0) {
                        log_error("%s", err);
                        return client_cert_usage();
                }
                r = client_cert_issue(a, argv[1], argv[2], days, password, &serial, &path, &err);
                if (r == -EINVAL) {
                        log_error("%s", strna(err));
                        return client_cert_usage();
                }
                if (r < 0) {
                        log_error("Cannot create the client certificate: %s", err ?: strerror(-r));
                        return 1;
                }
                printf("Client certificate for %s <%s>, serial %s, valid %u day%s: %s\n"
                       "Transport password (shown once, pass it on over a secure channel): %s\n",
                       argv[2], argv[1], serial, days, days == 1 ? "" : "s", path, password);
                explicit_bzero(password, sizeof password);
                return 0;
        }
        if (argc == 2 && streq(argv[0], "revoke")) {
                r = client_cert_revoke(a, argv[1], &err);
                if (r < 0) {
                        log_error("Cannot revoke '%s': %s", argv[1], err ?: strerror(-r));
                        return 1;
                }
                printf("Revoked %d certificate%s matching '%s'; the CRL is renewed.\n", r, r == 1 ? "" : "s", argv[1]);
                r = agent_systemctl(a, "try-reload-or-restart", "nginx.service");
                if (r != 0) {
                        log_error("nginx did not reload (exit status %d): the revocation is not in force yet.", r);
                        return 1;
                }
                return 0;
        }
        if (argc == 1 && streq(argv[0], "list")) {
                _cleanup_free_ char *text = NULL;
                r = client_cert_list(a, &text);
                if (r < 0)
                        return 1;
                fputs(text, stdout);
                return 0;
        }
        return client_cert_usage();
}

static int run_client_cert(int argc, char *argv[]) {
        return verb_client_cert(&agent, argc - 1, argv + 1);
}

static int verb_internal_user(const Agent *a, int argc, char *argv[]) {
        _cleanup_free_ char *err = NULL;
        char password[INTERNAL_USER_PASSWORD_LEN + 1];
        int r;

        if (argc != 4 || internal_user_check(argv[0], argv[1], argv[2], argv[3], &err) < 0) {
                if (err)
                        log_error("%s", err);
                fprintf(stderr, "Usage: create-internal-user.sh EMAIL \"First Name\" \"Last Name\" f|m\n");
                return 2;
        }
        r = internal_user_apply(a, argv[0], argv[1], argv[2], argv[3], password, &err);
        if (r < 0) {
                log_error("Cannot create the internal user: %s", err ?: strerror(-r));
                return 1;
        }
        printf("Internal user %s %s <%s> %s.\nPassword (shown once): %s\n", argv[1], argv[2], argv[0],
               r > 0 ? "created" : "updated", password);
        explicit_bzero(password, sizeof password);
        return 0;
}

static int run_internal_user(int argc, char *argv[]) {
        return verb_internal_user(&agent, argc - 1, argv + 1);
}

static int run_status(int argc, char *argv[]) {
        (void) argc, (void) argv;
        return exit_status(verb_status(&agent));
}

static int run_fail(int argc, char *argv[]) {
        return exit_status(verb_fail(&agent, argc - 1, argv + 1));
}

static int run_env(int argc, char *argv[]) {
        return exit_status(verb_env(&agent, argc - 1, argv + 1));
}

static int run(int argc, char *argv[]) {
        Agent a = {};
        int r;

        log_setup("appliance-agent");
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r == 0 ? 0 : 2;

        a = (Agent) {
                .root = arg_root ?: (char *) "/",
                .profile_path = arg_profile,
                .systemctl = arg_systemctl ?: (char *) "systemctl",
                .metadata_url = arg_metadata_url ?: (char *) AGENT_EC2_URL,
                .json = arg_json,
                .once = arg_once,
        };
        r = agent_open_root(&a);
        if (r < 0) {
                log_error_errno(r, "Failed to open the root '%s': %m", a.root);
                return 1;
        }
        agent = a;
        r = verbs_dispatch(verbs, ELEMENTSOF(verbs), argc - optind, argv + optind, "verb",
                           program_invocation_short_name);
        safe_close(a.root_fd);
        return r;
}

int main(int argc, char *argv[]) {
        int r = run(argc, argv);

        free(arg_root);
        free(arg_profile);
        free(arg_systemctl);
        free(arg_metadata_url);
        free(arg_unit);
        return r;
}
