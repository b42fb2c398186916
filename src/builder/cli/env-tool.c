/**
 * appliance-env: the builder's env create and env check as one static program for the image, so
 * that the manual's procedure works on an installed but unconfigured appliance as typed:
 * "env-create.sh domainname.domain ~/domainname.domain/" (/usr/local/sbin/env-create.sh runs
 * "appliance-env create" with the template shipped at /usr/share/appliance/env-template.yml).
 * It needs gpg and gpg-agent in the image for the OpenPGP keys, as the builder does on the host.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/env-verbs.h"
#include "log.h"
#include "macro.h"

int main(int argc, char *argv[]) {
        log_setup("appliance-env");
        if (argc >= 2 && streq(argv[1], "create"))
                return verb_env_create(argc - 1, argv + 1);
        if (argc >= 2 && streq(argv[1], "check"))
                return verb_env_check(argc - 1, argv + 1);
        if (argc >= 2 && (streq(argv[1], "-h") || streq(argv[1], "--help"))) {
                printf("Usage: %s create DOMAIN DIR [--template FILE] [--extra FILE] [--force]\n"
                       "       %s check ENV.YML\n\n"
                       "The env tools of appliance-builder, for use on the appliance itself.\n",
                       log_program(), log_program());
                return 0;
        }
        fprintf(stderr, "Usage: %s create DOMAIN DIR | check ENV.YML (see --help)\n", log_program());
        return 2;
}
