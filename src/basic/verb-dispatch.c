/**
 * Verb tables: lookup, help listing, dispatch.
 */
#include <getopt.h>
#include <stdio.h>

#include "log.h"
#include "macro.h"
#include "verb-dispatch.h"

void verbs_help(const Verb *verbs, size_t n, int width) {
        for (size_t i = 0; i < n; i++)
                printf("  %-*s %s\n", width, verbs[i].name, verbs[i].summary);
}

const Verb *verbs_find(const Verb *verbs, size_t n, const char *name) {
        for (size_t i = 0; name && i < n; i++)
                if (streq(verbs[i].name, name))
                        return &verbs[i];
        return NULL;
}

int verbs_dispatch(const Verb *verbs, size_t n, int argc, char *argv[], const char *what, const char *try_program) {
        const Verb *v = argc > 0 ? verbs_find(verbs, n, argv[0]) : NULL;

        if (!v) {
                log_error("Unknown %s '%s'.", what, argc > 0 ? argv[0] : "");
                fprintf(stderr, "Try '%s --help' for more information.\n", try_program);
                return 2;
        }
        optind = 0;     /* reinitialise getopt for the verb's own parser */
        return v->run(argc, argv);
}

int verb_usage(const char *verb) {
        fprintf(stderr, "Try '%s%s%s --help' for more information.\n", log_program(), verb ? " " : "", verb ?: "");
        return 2;
}
