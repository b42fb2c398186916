/**
 * 'appliance-builder env package' and 'env unpack-qr': the verbs; the work is env/package.h.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "cli/env-verbs.h"
#include "env/package.h"
#include "log.h"
#include "macro.h"
#include "verb-dispatch.h"

#define PDF_NAME ENV_PACKAGE_PDF_NAME
#define ISO_NAME ENV_PACKAGE_ISO_NAME

static int package_help(void) {
        printf("Usage: %s env package [OPTIONS] ENV.YML\n\n"
               "Packages an env file for safe keeping and for attaching to a virtual machine:\n"
               "  " PDF_NAME "     printable: the env text, then QR codes of the gzip -9 env in base32\n"
               "                  (level M; one code if it fits, else 2100-character chunks\n"
               "                  \"NN \" numbered from 00, four per A4 page, at most 100 codes),\n"
               "                  then how to restore it ('env unpack-qr' or zbarimg)\n"
               "  " ISO_NAME "  NoCloud seed (volume cidata): user-data = the env, meta-data\n"
               "                  (instance-id iid-cloud-default, local-hostname = appliance:domain),\n"
               "                  and " PDF_NAME "\n"
               "  DOMAIN.env.YYYY-mm-dd_HH.MM.tar.gz.gpg\n"
               "                  with --gpg-recipients: tar.gz of env.yml, " PDF_NAME " and " ISO_NAME
               ",\n"
               "                  encrypted to all keys in FILE (binary OpenPGP, for gpg --decrypt)\n"
               "All outputs have mode 0600 and are written all or nothing: after a failure none of\n"
               "them is written and files of an earlier run stay as they were. SOURCE_DATE_EPOCH,\n"
               "if set, fixes the time used for dates and the file name.\n\n"
               "Options:\n"
               "  -h --help                 show this help\n"
               "  -o --output=DIR           write into DIR (default: the directory of ENV.YML;\n"
               "                            DIR is created if its parent exists)\n"
               "     --gpg-recipients=FILE  OpenPGP public keys (armoured or binary, concatenated)\n"
               "     --meta-data=FILE       the seed's meta-data (default: meta-data.custom next to\n"
               "                            ENV.YML if it exists, else the one described above)\n\n"
               "Exit status: 0 success; 1 failure: ENV.YML unreadable, empty, not YAML, without the\n"
               "'#cloud-config' first line, not a mapping, appliance:domain missing or not a host name,\n"
               "too large for 100 QR codes, a key in FILE unusable, a seed cloud-init would reject\n"
               "(e.g. bad meta-data), or an output not writable;\n"
               "2 usage error.\n",
               log_program());
        return 0;
}

static int package_parse_argv(int argc, char *argv[], EnvPackageOptions *o) {
        enum { ARG_GPG_RECIPIENTS = 0x100, ARG_META_DATA };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "output", required_argument, NULL, 'o' },
                { "gpg-recipients", required_argument, NULL, ARG_GPG_RECIPIENTS },
                { "meta-data", required_argument, NULL, ARG_META_DATA },
                {},
        };
        int c;

        *o = (EnvPackageOptions) {};
        while ((c = getopt_long(argc, argv, "ho:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        return package_help();
                case 'o':
                        if (isempty(optarg))
                                return log_error("--output= needs a directory."), -EINVAL;
                        o->output_dir = optarg;
                        break;
                case ARG_GPG_RECIPIENTS:
                        if (isempty(optarg))
                                return log_error("--gpg-recipients= needs a file."), -EINVAL;
                        o->gpg_recipients = optarg;
                        break;
                case ARG_META_DATA:
                        if (isempty(optarg))
                                return log_error("--meta-data= needs a file."), -EINVAL;
                        o->meta_data = optarg;
                        break;
                default:
                        return -EINVAL;
                }

        if (optind + 1 != argc)
                return log_error("Expected exactly one ENV.YML argument."), -EINVAL;
        return 1;
}

int verb_env_package(int argc, char *argv[]) {
        EnvPackageOptions o;
        int r;

        r = package_parse_argv(argc, argv, &o);
        if (r < 0) {
                return verb_usage("env package");
        }
        if (r == 0)
                return 0;

        return env_package(argv[optind], &o) < 0 ? 1 : 0;
}

static int unpack_help(void) {
        printf("Usage: %s env unpack-qr [OPTIONS] IMAGE...\n\n"
               "Restores an env file byte for byte from scans of the QR code pages that 'env package'\n"
               "printed, in any order (duplicates are fine). Images: PNG, or binary PBM/PGM/PPM (as\n"
               "'pdftoppm -r 200 [-png] env.yml.pdf scan' writes them). Missing chunks are named.\n\n"
               "Options:\n"
               "  -h --help           show this help\n"
               "  -o --output=FILE    write the env to FILE (atomically, mode 0600) instead of stdout\n\n"
               "Exit status: 0 success; 1 failure: an image unreadable or of an unknown format, no QR\n"
               "code found, chunks missing or inconsistent, damaged data, or the output not writable\n"
               "(nothing is written then); 2 usage error.\n",
               log_program());
        return 0;
}

static int unpack_parse_argv(int argc, char *argv[], const char **ret_output) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "output", required_argument, NULL, 'o' },
                {},
        };
        int c;

        *ret_output = NULL;
        while ((c = getopt_long(argc, argv, "ho:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        return unpack_help();
                case 'o':
                        if (isempty(optarg))
                                return log_error("--output= needs a file name."), -EINVAL;
                        *ret_output = optarg;
                        break;
                default:
                        return -EINVAL;
                }

        if (optind >= argc)
                return log_error("Expected at least one IMAGE argument."), -EINVAL;
        return 1;
}

int verb_env_unpack_qr(int argc, char *argv[]) {
        const char *output = NULL;
        int r;

        r = unpack_parse_argv(argc, argv, &output);
        if (r < 0) {
                return verb_usage("env unpack-qr");
        }
        if (r == 0)
                return 0;

        return env_unpack_qr(argv + optind, output) < 0 ? 1 : 0;
}
