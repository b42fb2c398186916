/**
 * 'appliance-builder env': dispatches to the env sub-verbs (env-verbs.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/env-verbs.h"
#include "log.h"
#include "macro.h"
#include "cli/verbs.h"
#include "cleanup.h"
#include "verb-dispatch.h"

static const Verb env_verbs[] = {
        { "create", verb_env_create, "DOMAIN DIR: write a new env.yml with fresh secrets" },
        { "check", verb_env_check, "ENV.YML: validate keys, types, key pairs and OpenPGP keys" },
        { "flatten", verb_env_flatten, "ENV.YML: print the env as shell or systemd variables" },
        { "package", verb_env_package, "ENV.YML: printable PDF with QR codes, seed ISO, gpg archive" },
        { "unpack-qr", verb_env_unpack_qr, "IMAGE...: restore env.yml from scanned QR codes" },
};

static void env_help(void) {
        printf("Usage: %s env COMMAND [OPTIONS] [ARGS...]\n\n"
               "Creates, checks, flattens and packages the appliance's env.yml.\n\nCommands:\n",
               log_program());
        verbs_help(env_verbs, ELEMENTSOF(env_verbs), 10);
        printf("\n'%s env COMMAND --help' describes each command.\n", log_program());
}

int verb_env(int argc, char *argv[]) {
        if (argc < 2 || startswith(argv[1], "-")) {
                if (argc >= 2 && (streq(argv[1], "-h") || streq(argv[1], "--help"))) {
                        env_help();
                        return 0;
                }
                env_help();
                return 2;
        }
        _cleanup_free_ char *try = NULL;
        if (asprintf(&try, "%s env", log_program()) < 0)
                return log_oom(), 1;
        return verbs_dispatch(env_verbs, ELEMENTSOF(env_verbs), argc - 1, argv + 1, "env command", try);
}
