/**
 * Verb dispatch for programs with subcommands: a table of {name, run, summary}, its help listing
 * and the call of the verb named on the command line.
 */
#pragma once

#include <stddef.h>

typedef struct Verb {
        const char *name;
        int (*run)(int argc, char *argv[]);     /* argv[0] is the verb; returns the exit status */
        const char *summary;
} Verb;

/* Prints "  NAME SUMMARY" for each verb, names padded to width, on stdout. */
void verbs_help(const Verb *verbs, size_t n, int width);
/* The verb called name, or NULL. */
const Verb *verbs_find(const Verb *verbs, size_t n, const char *name);
/* Runs the verb argv[0] names with argc, argv (getopt reset for its own parser) and returns its
 * exit status; an unknown verb is logged ("Unknown WHAT 'NAME'.", with "Try 'PROGRAM --help'")
 * and is 2. what is e.g. "command" or "env command", try_program e.g. "appliance-builder env". */
int verbs_dispatch(const Verb *verbs, size_t n, int argc, char *argv[], const char *what, const char *try_program);

/* After a usage error of verb (NULL: the program itself): prints "Try 'PROGRAM VERB --help' for
 * more information." on stderr and returns 2, the usage exit status. */
int verb_usage(const char *verb);
