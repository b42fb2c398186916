/**
 * The verbs of appliance-builder. Each takes the arguments after the verb name (argv[0] is the
 * verb) and returns the process exit code: 0 ok, 1 failure, 2 usage (verbs may document more).
 */
#pragma once

int verb_seed(int argc, char *argv[]);
int verb_env(int argc, char *argv[]);
int verb_image(int argc, char *argv[]);
int verb_size(int argc, char *argv[]);
int verb_boot(int argc, char *argv[]);
