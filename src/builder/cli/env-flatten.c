/**
 * 'appliance-builder env flatten': prints the env as shell or systemd variable assignments, the
 * way the appliance's services see it (env_flatten() in src/common/env.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "cli/env-verbs.h"
#include "env.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "strv.h"
#include "verb-dispatch.h"

static void flatten_help(void) {
        printf("Usage: %s env flatten ENV.YML [--roots ecs,appliance] [--format sh|systemd]\n\n"
               "Prints the settings under the given top-level keys as variable assignments:\n"
               "keys joined with '_' and upper-cased, lists as _0, _1, ... and _LEN, strings\n"
               "stripped and quoted, sorted within each root.\n\n"
               "Options:\n"
               "  -r, --roots LIST     comma-separated top-level keys ('.' = everything);\n"
               "                       default: ecs,appliance\n"
               "  -f, --format FORMAT  sh (export KEY='value', default) or systemd\n"
               "                       (KEY=\"value\" for EnvironmentFile=)\n"
               "  -h, --help           show this help\n\n"
               "Exit status:\n"
               "  0  printed (a missing root only gives a warning)\n"
               "  1  the file cannot be read or is not a valid env.yml\n"
               "  2  usage error\n",
               log_program());
}

int verb_env_flatten(int argc, char *argv[]) {
        static const struct option options[] = {
                { "roots", required_argument, NULL, 'r' },
                { "format", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        _cleanup_strv_free_ char **roots = NULL;
        EnvFlattenFormat fmt = ENV_FLATTEN_SH;
        int c, r;

        while ((c = getopt_long(argc, argv, "r:f:h", options, NULL)) >= 0)
                switch (c) {
                case 'r':
                        strv_free(roots);
                        roots = NULL;
                        r = strv_split(optarg, ",", &roots);
                        if (r < 0)
                                return log_oom(), 1;
                        if (strv_length(roots) == 0) {
                                log_error("--roots needs at least one key.");
                                return 2;
                        }
                        break;
                case 'f':
                        fmt = env_flatten_format_from_string(optarg);
                        if (fmt < 0) {
                                log_error("Unknown format '%s', expected 'sh' or 'systemd'.", optarg);
                                return 2;
                        }
                        break;
                case 'h':
                        flatten_help();
                        return 0;
                default:
                        return verb_usage("env flatten");
                }
        if (argc - optind != 1) {
                log_error("Expected exactly one argument: the env.yml file.");
                return verb_usage("env flatten");
        }

        _cleanup_(env_freep) Env *e = NULL;
        _cleanup_free_ char *error = NULL, *text = NULL;
        r = env_load_file(argv[optind], &e, &error);
        if (r < 0) {
                if (r == -ENOMEM)
                        return log_oom(), 1;
                log_error("%s", error ?: strerror(-r));
                return 1;
        }
        STRV_FOREACH(w, env_warnings(e))
                log_warning("%s", *w);

        char *const default_roots[] = { (char *) "ecs", (char *) "appliance", NULL };
        char *const *use = roots ?: default_roots;
        for (char *const *root = use; *root; root++)
                if (!streq(*root, ".") && !env_node_child(env_root(e), *root))
                        log_warning("%s: key '%s' not found, skipping it.", argv[optind], *root);

        r = env_flatten(e, use, fmt, &text);
        if (r == -E2BIG) {
                log_error("%s: too many values to flatten (alias expansion?).", argv[optind]);
                return 1;
        }
        if (r < 0) {
                log_error_errno(r, "%s: failed to flatten: %m", argv[optind]);
                return 1;
        }
        r = loop_write(STDOUT_FILENO, text, strlen(text));
        if (r < 0) {
                log_error_errno(r, "Failed to write to standard output: %m");
                return 1;
        }
        return 0;
}
