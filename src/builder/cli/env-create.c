/**
 * 'appliance-builder env create DOMAIN DIR': the verb; the work is env/create.h.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/env-verbs.h"
#include "env-schema.h"
#include "env/create.h"
#include "log.h"
#include "verb-dispatch.h"

static void create_help(void) {
        printf("Usage: %s env create DOMAIN DIR [--template FILE] [--extra FILE] [--force]\n\n"
               "Writes DIR/env.yml (mode 0600) for the appliance at DOMAIN from the env template,\n"
               "with fresh secrets: the Django secrets, a DKIM key (its DNS records are in the header\n"
               "comment) and the OpenPGP keys ecs_backup, ecs_mediaserver and ecs_authority.\n\n"
               "Options:\n"
               "  -t, --template FILE  template with @@NAME@@ placeholders\n"
               "                       (default: %s)\n"
               "  -e, --extra FILE     YAML mapping merged into the result (ssh_authorized_keys,\n"
               "                       appliance: sentry, metric, git, extra: files, update; ecs: git)\n"
               "  -f, --force          replace an existing DIR/env.yml\n"
               "  -h, --help           show this help\n\n"
               "Exit status:\n"
               "  0  written\n"
               "  1  failure (bad template or extra file, key generation, the result fails\n"
               "     'env check', DIR/env.yml exists); nothing is written\n"
               "  2  usage error (including an invalid DOMAIN)\n",
               log_program(), env_create_default_template());
}

int verb_env_create(int argc, char *argv[]) {
        static const struct option options[] = {
                { "template", required_argument, NULL, 't' },
                { "extra", required_argument, NULL, 'e' },
                { "force", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        EnvCreateOptions o = { .template_path = env_create_default_template() };
        int c;

        while ((c = getopt_long(argc, argv, "t:e:fh", options, NULL)) >= 0)
                switch (c) {
                case 't':
                        o.template_path = optarg;
                        break;
                case 'e':
                        o.extra_path = optarg;
                        break;
                case 'f':
                        o.force = true;
                        break;
                case 'h':
                        create_help();
                        return 0;
                default:
                        return verb_usage("env create");
                }
        if (argc - optind != 2) {
                log_error("Expected two arguments: DOMAIN and DIR.");
                return verb_usage("env create");
        }
        o.domain = argv[optind];
        o.dir = argv[optind + 1];
        if (!env_hostname_is_valid(o.domain)) {
                log_error("'%s' is not a valid domain name.", o.domain);
                return 2;
        }
        return env_create(&o) < 0 ? 1 : 0;
}
