/**
 * Command line of 'appliance-builder seed' and 'seed inspect', parsed into one struct so that the
 * parser can be tested without running the command.
 */
#pragma once

#include <stdbool.h>

#include "seed/config.h"

typedef struct SeedArgs {
        bool inspect;             /* 'seed inspect FILE' */
        bool json;                /* inspect --json */
        const char *inspect_path;
        const char *output;       /* -o */
        const char *user_data;
        const char *meta_data;
        const char *network_config;
        const char *vendor_data;
        const char *env;
        const char *hostname;
        const char *instance_id;
        const char *label;        /* NULL = cidata */
        SeedPreset preset;
        char **ssh_keys;          /* --ssh-key files, in order */
        bool grow_root;
} SeedArgs;

/* Exit codes of 'seed' and 'seed inspect'. */
enum {
        SEED_EXIT_OK = 0,
        SEED_EXIT_FAILURE = 1,
        SEED_EXIT_USAGE = 2,
        SEED_EXIT_REJECTED = 3, /* inspect: cloud-init would not use the seed */
};

/* Returns 1 to run with *ret filled in, 0 when --help was printed, -EINVAL on a usage error (the
 * message is logged). argv[0] is the verb ("seed"). Pointers in *ret point into argv. */
int seed_parse_argv(int argc, char *argv[], SeedArgs *ret);
void seed_args_done(SeedArgs *a);

/* Run the parsed command; return an exit code (above). */
int seed_run(const SeedArgs *a);
