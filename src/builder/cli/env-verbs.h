/**
 * The sub-verbs of 'appliance-builder env'. Each takes argv with argv[0] = the sub-verb name and
 * returns the process exit code documented in its --help.
 */
#pragma once

int verb_env_create(int argc, char *argv[]);
int verb_env_check(int argc, char *argv[]);
int verb_env_flatten(int argc, char *argv[]);
int verb_env_package(int argc, char *argv[]);
int verb_env_unpack_qr(int argc, char *argv[]);
