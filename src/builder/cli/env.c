/**
 * 'appliance-builder env': dispatches to the env sub-verbs (env-verbs.h).
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/env-verbs.h"
#include "log.h"
#include "macro.h"
#include "cli/verbs.h"

static const struct {
        const char *name;
        int (*run)(int argc, char *argv[]);
        const char *summary;
} env_verbs[] = {
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
        for (size_t i = 0; i < ELEMENTSOF(env_verbs); i++)
                printf("  %-10s %s\n", env_verbs[i].name, env_verbs[i].summary);
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
        for (size_t i = 0; i < ELEMENTSOF(env_verbs); i++)
                if (streq(argv[1], env_verbs[i].name)) {
                        optind = 0;
                        return env_verbs[i].run(argc - 1, argv + 1);
                }
        log_error("Unknown env command '%s'.", argv[1]);
        fprintf(stderr, "Try '%s env --help' for more information.\n", log_program());
        return 2;
}
