/**
 * 'appliance-builder env check ENV.YML': the verb; the checks are env/check.h.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "cli/env-verbs.h"
#include "env/check.h"
#include "log.h"
#include "verb-dispatch.h"

static void check_help(void) {
        printf("Usage: %s env check ENV.YML\n\n"
               "Validates an env.yml: the '#cloud-config' header and YAML syntax, required keys and\n"
               "their types, appliance:ssl:key/cert as a matching PEM pair, the DKIM key, and that the\n"
               "OpenPGP keys (appliance:backup:encrypt, ecs:vault_encrypt, ecs:vault_sign) import.\n"
               "Unknown keys and non-ASCII text are warnings. Each finding names the file, line,\n"
               "column and key path.\n\n"
               "Options:\n"
               "  -h, --help    show this help\n\n"
               "Exit status:\n"
               "  0  valid (warnings may have been printed)\n"
               "  1  invalid, unreadable or not an env.yml\n"
               "  2  usage error\n",
               log_program());
}

int verb_env_check(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        check_help();
                        return 0;
                default:
                        return verb_usage("env check");
                }
        if (argc - optind != 1) {
                log_error("Expected exactly one argument: the env.yml file.");
                return verb_usage("env check");
        }

        _cleanup_(env_findings_done) EnvFindings f = {};
        _cleanup_(env_freep) Env *e = NULL;
        _cleanup_free_ char *error = NULL;
        r = env_load_file(argv[optind], &e, &error);
        if (r < 0) {
                if (r == -ENOMEM)
                        return log_oom(), 1;
                log_error("%s", error ?: strerror(-r));
                return 1;
        }

        r = env_check(e, &f);
        if (r < 0)
                return 1;
        env_findings_log(&f);
        if (f.errors > 0) {
                log_error("%s: %u error(s), %u warning(s).", argv[optind], f.errors, f.warnings);
                return 1;
        }
        log_info("%s: valid (%u warning(s)).", argv[optind], f.warnings);
        return 0;
}
