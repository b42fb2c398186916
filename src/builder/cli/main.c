/**
 * appliance-builder: builds appliance disk images and NoCloud seeds, and carries the operator's
 * env tools. main() only dispatches to the verbs in verbs.h.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "cli/verbs.h"
#include "verb-dispatch.h"

static const Verb verbs[] = {
        { "image", verb_image, "build appliance disk images (raw, qcow2, vmdk)" },
        { "seed", verb_seed, "write or inspect a NoCloud cidata seed ISO" },
        { "env", verb_env, "create, check, flatten and package env.yml" },
        { "size", verb_size, "disk, memory and core sizing from studies per month" },
        { "boot", verb_boot, "boot a built image in qemu (KVM where it works, else TCG)" },
};

static void help(void) {
        printf("Usage: %s [OPTIONS] COMMAND [ARGS...]\n\n"
               "Builds ready-to-boot ECS appliance images and their NoCloud seeds.\n\n"
               "Commands:\n",
               log_program());
        verbs_help(verbs, ELEMENTSOF(verbs), 8);
        printf("\nOptions:\n"
               "  -h --help       show this help\n"
               "     --version    show the version\n"
               "  -v --verbose    log debug messages (also APPLIANCE_LOG_LEVEL=debug)\n"
               "\n'%s COMMAND --help' describes each command.\n"
               "Exit status: 0 success, 1 failure, 2 usage error.\n",
               log_program());
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { "verbose", no_argument, NULL, 'v' },
                {},
        };
        int c;

        log_setup("appliance-builder");

        /* Options before the verb only; "+" stops at the first non-option. */
        while ((c = getopt_long(argc, argv, "+hv", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case 'V':
                        printf("appliance-builder %s\n", PROJECT_VERSION);
                        return 0;
                case 'v':
                        log_set_max_level(LOG_DEBUG);
                        break;
                default:
                        return verb_usage(NULL);
                }

        if (optind >= argc) {
                help();
                return 2;
        }

        return verbs_dispatch(verbs, ELEMENTSOF(verbs), argc - optind, argv + optind, "command", log_program());
}
