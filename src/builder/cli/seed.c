/**
 * 'appliance-builder seed': writes a NoCloud cidata seed ISO from user-data (a file, an env.yml or
 * a preset), generated or given meta-data, and optional network-config and vendor-data; every
 * input is checked the way cloud-init will read it before anything is written.
 * 'appliance-builder seed inspect': reads a seed back and applies cloud-init's NoCloud rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chase.h"
#include "cleanup.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "cli/seed-args.h"
#include "seed/config.h"
#include "seed/inspect.h"
#include "seed/iso.h"
#include "seed/userdata.h"
#include "strv.h"
#include "cli/verbs.h"
#include "verb-dispatch.h"
#include "yaml-util.h"

#define SEED_INPUT_MAX (16U * 1024U * 1024U)

static void help(void) {
        printf("Usage: %1$s seed -o FILE [OPTIONS]\n"
               "       %1$s seed inspect FILE [--json]\n\n"
               "Writes a NoCloud seed: an ISO 9660 image (Rock Ridge + Joliet) labelled 'cidata' with\n"
               "user-data, meta-data and optional network-config and vendor-data, checked before writing.\n\n"
               "Options:\n"
               "  -o --output=FILE          the ISO to write (atomically; nothing is written on error)\n"
               "     --user-data=FILE       user-data: #cloud-config, #!, #include, MIME, ... (default:\n"
               "                            an empty #cloud-config)\n"
               "     --env=FILE             use an env.yml (must begin with #cloud-config) as user-data;\n"
               "                            its appliance:domain becomes local-hostname\n"
               "     --meta-data=FILE       meta-data YAML (default: generated instance-id and local-hostname)\n"
               "     --network-config=FILE  network config v1 or v2 (YAML)\n"
               "     --vendor-data=FILE     vendor-data, same formats as user-data\n"
               "     --preset=vagrant       user 'vagrant' with passwordless sudo and the Vagrant insecure\n"
               "                            public keys (RSA and ed25519)\n"
               "     --preset=root          root login with the --ssh-key keys only, no default user\n"
               "     --ssh-key=FILE         public key file for the preset (repeatable; root needs one)\n"
               "     --grow-root            grow the root partition and file system at first boot\n"
               "     --hostname=NAME        local-hostname in the generated meta-data\n"
               "     --instance-id=ID       instance-id (default: iid- and 16 random hex digits)\n"
               "     --label=LABEL          volume id (default: cidata; cloud-init finds cidata or CIDATA)\n"
               "  -h --help                 show this help\n\n"
               "Inspect options:\n"
               "     --json                 print the findings as JSON\n\n"
               "--preset and --grow-root add their settings to a cloud-config given with --user-data or\n"
               "--env; a top-level key set on both sides is an error (no silent merge), and other user-data\n"
               "types cannot be combined with them. --meta-data excludes --hostname and --instance-id.\n"
               "SOURCE_DATE_EPOCH fixes every date in the image: with --instance-id the output is\n"
               "byte-for-byte reproducible.\n\n"
               "Exit status: 0 success (inspect: cloud-init would use the seed), 1 failure or invalid\n"
               "input, 2 usage error, 3 (inspect) the seed breaks a NoCloud rule named in the output.\n",
               log_program());
}

static void usage_hint(void) {
        (void) verb_usage("seed");
}

void seed_args_done(SeedArgs *a) {
        if (!a)
                return;
        strv_free(a->ssh_keys);
        *a = (SeedArgs) {};
}

int seed_parse_argv(int argc, char *argv[], SeedArgs *ret) {
        enum {
                ARG_USER_DATA = 0x100,
                ARG_META_DATA,
                ARG_NETWORK_CONFIG,
                ARG_VENDOR_DATA,
                ARG_ENV,
                ARG_PRESET,
                ARG_SSH_KEY,
                ARG_GROW_ROOT,
                ARG_HOSTNAME,
                ARG_INSTANCE_ID,
                ARG_LABEL,
                ARG_JSON,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "output", required_argument, NULL, 'o' },
                { "user-data", required_argument, NULL, ARG_USER_DATA },
                { "meta-data", required_argument, NULL, ARG_META_DATA },
                { "network-config", required_argument, NULL, ARG_NETWORK_CONFIG },
                { "vendor-data", required_argument, NULL, ARG_VENDOR_DATA },
                { "env", required_argument, NULL, ARG_ENV },
                { "preset", required_argument, NULL, ARG_PRESET },
                { "ssh-key", required_argument, NULL, ARG_SSH_KEY },
                { "grow-root", no_argument, NULL, ARG_GROW_ROOT },
                { "hostname", required_argument, NULL, ARG_HOSTNAME },
                { "instance-id", required_argument, NULL, ARG_INSTANCE_ID },
                { "label", required_argument, NULL, ARG_LABEL },
                { "json", no_argument, NULL, ARG_JSON },
                {},
        };
        _cleanup_(seed_args_done) SeedArgs a = { .preset = SEED_PRESET_NONE };
        int c, r, first = 1;

        /* 'seed inspect FILE': the sub-verb comes first. */
        if (argc >= 2 && streq(argv[1], "inspect")) {
                a.inspect = true;
                first = 2;
        }

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc - first + 1, argv + first - 1, ":ho:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case 'o':
                        a.output = optarg;
                        break;
                case ARG_USER_DATA:
                        a.user_data = optarg;
                        break;
                case ARG_META_DATA:
                        a.meta_data = optarg;
                        break;
                case ARG_NETWORK_CONFIG:
                        a.network_config = optarg;
                        break;
                case ARG_VENDOR_DATA:
                        a.vendor_data = optarg;
                        break;
                case ARG_ENV:
                        a.env = optarg;
                        break;
                case ARG_PRESET:
                        a.preset = seed_preset_from_string(optarg);
                        if (a.preset < 0 || a.preset == SEED_PRESET_NONE) {
                                log_error("Unknown preset '%s' (known: vagrant, root).", optarg);
                                return usage_hint(), -EINVAL;
                        }
                        break;
                case ARG_SSH_KEY:
                        r = strv_extend(&a.ssh_keys, optarg);
                        if (r < 0)
                                return log_oom();
                        break;
                case ARG_GROW_ROOT:
                        a.grow_root = true;
                        break;
                case ARG_HOSTNAME:
                        if (!seed_hostname_valid(optarg)) {
                                log_error("Invalid --hostname '%s': use labels of letters, digits and '-', "
                                          "separated by dots.", optarg);
                                return usage_hint(), -EINVAL;
                        }
                        a.hostname = optarg;
                        break;
                case ARG_INSTANCE_ID:
                        if (!seed_instance_id_valid(optarg)) {
                                log_error("Invalid --instance-id '%s': use 1-128 of A-Z a-z 0-9 . _ : -.", optarg);
                                return usage_hint(), -EINVAL;
                        }
                        a.instance_id = optarg;
                        break;
                case ARG_LABEL:
                        a.label = optarg;
                        break;
                case ARG_JSON:
                        a.json = true;
                        break;
                case ':':
                        log_error("Option '%s' needs an argument.", argv[first - 1 + optind - 1]);
                        return usage_hint(), -EINVAL;
                default:
                        log_error("Unknown option '%s'.", argv[first - 1 + optind - 1]);
                        return usage_hint(), -EINVAL;
                }

        int rest = first - 1 + optind; /* index in argv of the first non-option */

        if (a.inspect) {
                if (rest >= argc) {
                        log_error("'seed inspect' needs the image to inspect.");
                        return usage_hint(), -EINVAL;
                }
                if (rest + 1 < argc) {
                        log_error("Unexpected argument '%s'.", argv[rest + 1]);
                        return usage_hint(), -EINVAL;
                }
                if (a.output || a.user_data || a.meta_data || a.network_config || a.vendor_data || a.env ||
                    a.hostname || a.instance_id || a.label || a.preset != SEED_PRESET_NONE || a.ssh_keys ||
                    a.grow_root) {
                        log_error("'seed inspect' takes only --json.");
                        return usage_hint(), -EINVAL;
                }
                a.inspect_path = argv[rest];
        } else {
                if (rest < argc) {
                        log_error("Unexpected argument '%s'.", argv[rest]);
                        return usage_hint(), -EINVAL;
                }
                if (!a.output) {
                        log_error("No output given: use -o FILE.");
                        return usage_hint(), -EINVAL;
                }
                if (a.json) {
                        log_error("--json applies to 'seed inspect' only.");
                        return usage_hint(), -EINVAL;
                }
                if (a.user_data && a.env) {
                        log_error("--user-data and --env both give user-data; use one.");
                        return usage_hint(), -EINVAL;
                }
                if (a.meta_data && (a.hostname || a.instance_id)) {
                        log_error("--meta-data excludes --hostname and --instance-id; put them in the file.");
                        return usage_hint(), -EINVAL;
                }
                if (a.ssh_keys && a.preset == SEED_PRESET_NONE) {
                        log_error("--ssh-key needs --preset=root or --preset=vagrant.");
                        return usage_hint(), -EINVAL;
                }
                if (a.preset == SEED_PRESET_ROOT && !a.ssh_keys) {
                        log_error("--preset=root needs at least one --ssh-key.");
                        return usage_hint(), -EINVAL;
                }
        }

        *ret = a;
        a = (SeedArgs) {};
        return 1;
}

static int read_seed_input(const char *path, char **ret, size_t *ret_size) {
        int r = read_input(AT_FDCWD, path, INPUT_FOLLOW, SEED_INPUT_MAX, ret, ret_size);
        if (r == -EFBIG)
                return log_error_errno(r, "'%s' is larger than %u MiB.", path, SEED_INPUT_MAX >> 20);
        if (r < 0)
                return log_error_errno(r, "Cannot read '%s': %s", path, input_strerror(r));
        return 0;
}

/* user-data from --user-data or --env, then the preset settings added to it. */
static int make_user_data(const SeedArgs *a, char **ret, size_t *ret_size, UserDataType *ret_type) {
        _cleanup_free_ char *data = NULL, *err = NULL, *settings = NULL;
        _cleanup_strv_free_ char **vagrant = NULL, **keys = NULL, **top = NULL;
        const char *name = a->user_data ?: a->env;
        UserDataType type = USER_DATA_CLOUD_CONFIG;
        size_t size = 0;
        int r;

        if (name) {
                r = read_seed_input(name, &data, &size);
                if (r < 0)
                        return r;
        }

        if (a->env) {
                if (user_data_detect(data, size) != USER_DATA_CLOUD_CONFIG)
                        return log_error_errno(-EBADMSG,
                                               "%s:1:1: an env file must begin with '#cloud-config'.", name);
                r = yaml_check(name, data, size, YAML_CHECK_ROOT_MAPPING, &err);
                if (r < 0)
                        return log_error_errno(r, "%s", err ?: "invalid YAML");
        } else if (a->user_data) {
                r = user_data_validate(name, data, size, &type, NULL, &err);
                if (r < 0)
                        return log_error_errno(r, "%s", err ?: "invalid user-data");
        }

        if (a->preset != SEED_PRESET_NONE || a->grow_root) {
                if (a->preset == SEED_PRESET_VAGRANT) {
                        r = seed_vagrant_keys(&vagrant, &err);
                        if (r < 0)
                                return log_error_errno(r, "%s", err ?: "cannot load the Vagrant keys");
                }
                STRV_FOREACH(f, a->ssh_keys) {
                        _cleanup_free_ char *text = NULL;
                        _cleanup_strv_free_ char **k = NULL;

                        r = read_seed_input(*f, &text, NULL);
                        if (r < 0)
                                return r;
                        r = seed_ssh_keys_parse(*f, text, &k, &err);
                        if (r < 0)
                                return log_error_errno(r, "%s", err ?: "invalid SSH key file");
                        STRV_FOREACH(s, k)
                                if (strv_extend(&keys, *s) < 0)
                                        return log_oom();
                }
                r = seed_preset_config(a->preset, vagrant, keys, a->grow_root, &settings, &top);
                if (r < 0)
                        return log_error_errno(r, "Cannot build the preset settings: %m");

                if (name) {
                        _cleanup_free_ char *merged = NULL;
                        size_t n;

                        if (type != USER_DATA_CLOUD_CONFIG)
                                return log_error_errno(-EBADMSG,
                                                       "%s:1:1: --preset and --grow-root add cloud-config "
                                                       "settings, but this user-data is '%s'; write the "
                                                       "settings into it or use a MIME multipart file.",
                                                       name, user_data_type_to_string(type));
                        r = seed_cloud_config_merge(name, data, size, settings, top, &merged, &n, &err);
                        if (r < 0)
                                return log_error_errno(r, "%s", err ?: "cannot merge the preset settings");
                        free(data);
                        data = TAKE_PTR(merged);
                        size = n;
                } else {
                        free(data);
                        if (asprintf(&data, "#cloud-config\n%s", settings) < 0)
                                return log_oom();
                        size = strlen(data);
                }
                /* What goes into the image is checked like any given file. */
                r = user_data_validate("user-data", data, size, &type, NULL, &err);
                if (r < 0)
                        return log_error_errno(r, "Generated user-data is invalid: %s", strna(err));
        } else if (!name) {
                data = strdup("#cloud-config\n");
                if (!data)
                        return log_oom();
                size = strlen(data);
        }

        *ret = TAKE_PTR(data);
        *ret_size = size;
        *ret_type = type;
        return 0;
}

static int make_meta_data(const SeedArgs *a, char **ret, size_t *ret_size, char **ret_instance_id) {
        _cleanup_free_ char *data = NULL, *err = NULL, *iid = NULL, *domain = NULL;
        const char *hostname = a->hostname;
        size_t size;
        int r;

        if (a->meta_data) {
                r = read_seed_input(a->meta_data, &data, &size);
                if (r < 0)
                        return r;
                r = yaml_check(a->meta_data, data, size, YAML_CHECK_ROOT_MAPPING | YAML_CHECK_NO_DUPLICATE_KEYS,
                               &err);
                if (r < 0)
                        return log_error_errno(r, "%s", err ?: "invalid meta-data");
                r = yaml_lookup(data, size, (const char *const[]) { "instance-id", NULL }, &iid, NULL, NULL);
                if (r < 0)
                        return log_oom();
                if (r == 0 || isempty(iid))
                        log_warning("%s: no instance-id; cloud-init falls back to 'nocloud'.", a->meta_data);
                *ret = TAKE_PTR(data);
                *ret_size = size;
                *ret_instance_id = TAKE_PTR(iid);
                return 0;
        }

        if (a->instance_id) {
                iid = strdup(a->instance_id);
                if (!iid)
                        return log_oom();
        } else {
                r = seed_instance_id_random(&iid);
                if (r < 0)
                        return log_error_errno(r, "Cannot make an instance id: %m");
        }

        if (!hostname && a->env) {
                _cleanup_free_ char *env = NULL;
                size_t n;

                r = read_seed_input(a->env, &env, &n);
                if (r < 0)
                        return r;
                r = yaml_lookup(env, n, (const char *const[]) { "appliance", "domain", NULL }, &domain, NULL, NULL);
                if (r < 0)
                        return log_oom();
                if (r > 0 && domain && seed_hostname_valid(domain))
                        hostname = domain;
                else if (r > 0)
                        log_warning("%s: appliance:domain is not a host name; no local-hostname is set.", a->env);
        }

        r = seed_meta_data_make(iid, hostname, &data);
        if (r < 0)
                return log_error_errno(r, "Cannot build meta-data: %m");
        *ret_size = strlen(data);
        *ret = TAKE_PTR(data);
        *ret_instance_id = TAKE_PTR(iid);
        return 0;
}

static int check_network_config(const char *path, const char *data, size_t size) {
        static const char *const top[] = { "version", NULL }, *const wrapped[] = { "network", "version", NULL };
        _cleanup_free_ char *err = NULL, *version = NULL;
        unsigned line = 1, column = 1;
        int r;

        r = yaml_check(path, data, size, YAML_CHECK_ROOT_MAPPING | YAML_CHECK_NO_DUPLICATE_KEYS, &err);
        if (r < 0)
                return log_error_errno(r, "%s", err ?: "invalid network-config");

        r = yaml_lookup(data, size, top, &version, &line, &column);
        if (r == 0) {
                r = yaml_lookup(data, size, wrapped, &version, &line, &column);
                if (r > 0) {
                        unsigned l = 1, c = 1;
                        (void) yaml_lookup(data, size, (const char *const[]) { "network", NULL }, NULL, &l, &c);
                        log_warning("%s:%u:%u: a top-level 'network:' key; NoCloud expects the config without it "
                                    "(newer cloud-init releases unwrap it).",
                                    path, l, c);
                } else if (r == 0)
                        return log_error_errno(-EBADMSG,
                                               "%s:1:1: no 'version' key; network-config must be version 1 or 2.",
                                               path);
        }
        if (r < 0)
                return log_oom();
        /* cloud-init's NoCloud renders versions 1 and 2 only; anything else is dropped at boot. */
        if (!version || !(streq(version, "1") || streq(version, "2")))
                return log_error_errno(-EBADMSG, "%s:%u:%u: network-config version '%s': NoCloud reads versions 1 and 2 only.",
                                       path, line, column, version ?: "(not a scalar)");
        return 0;
}

/* The seed holds a secret when it carries an env, or an input its owner keeps from others (a
 * user-data with passwords, mode 0600): then the ISO is 0600 from its first byte. */
static bool seed_holds_secret(const SeedArgs *a) {
        const char *inputs[] = { a->user_data, a->meta_data, a->network_config, a->vendor_data };
        struct stat st;

        if (a->env)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(inputs); i++)
                if (inputs[i] && (stat(inputs[i], &st) < 0 || !(st.st_mode & S_IROTH)))
                        return true;
        return false;
}

static int run_write(const SeedArgs *a) {
        _cleanup_free_ char *user = NULL, *meta = NULL, *iid = NULL, *net = NULL, *vendor = NULL, *err = NULL;
        size_t user_size = 0, meta_size = 0, net_size = 0, vendor_size = 0;
        time_t epoch = (time_t) -1;
        UserDataType type = USER_DATA_EMPTY;
        SeedFile files[4];
        size_t n = 0;
        const char *sde;
        int r;

        sde = getenv("SOURCE_DATE_EPOCH");
        if (!isempty(sde)) {
                r = seed_parse_epoch(sde, &epoch);
                if (r < 0)
                        return log_error_errno(r, "Invalid SOURCE_DATE_EPOCH '%s': %m", sde), SEED_EXIT_FAILURE;
        }
        if (a->label && !streq(a->label, "cidata") && !streq(a->label, "CIDATA"))
                log_warning("Label '%s': cloud-init's ds-identify only finds 'cidata' or 'CIDATA'.", a->label);

        r = make_user_data(a, &user, &user_size, &type);
        if (r < 0)
                return SEED_EXIT_FAILURE;
        r = make_meta_data(a, &meta, &meta_size, &iid);
        if (r < 0)
                return SEED_EXIT_FAILURE;
        if (a->network_config) {
                r = read_seed_input(a->network_config, &net, &net_size);
                if (r < 0)
                        return SEED_EXIT_FAILURE;
                r = check_network_config(a->network_config, net, net_size);
                if (r < 0)
                        return SEED_EXIT_FAILURE;
        }
        if (a->vendor_data) {
                r = read_seed_input(a->vendor_data, &vendor, &vendor_size);
                if (r < 0)
                        return SEED_EXIT_FAILURE;
                r = user_data_validate(a->vendor_data, vendor, vendor_size, NULL, NULL, &err);
                if (r < 0)
                        return log_error_errno(r, "%s", err ?: "invalid vendor-data"), SEED_EXIT_FAILURE;
        }

        files[n++] = (SeedFile) { "meta-data", meta, meta_size };
        if (net)
                files[n++] = (SeedFile) { "network-config", net, net_size };
        files[n++] = (SeedFile) { "user-data", user, user_size };
        if (vendor)
                files[n++] = (SeedFile) { "vendor-data", vendor, vendor_size };

        r = seed_iso_write(a->output, a->label, files, n, epoch, output_mode(seed_holds_secret(a)), &err);
        if (r < 0)
                return log_error_errno(r, "Cannot write '%s': %s", a->output, err ?: strerror(-r)),
                       SEED_EXIT_FAILURE;

        log_info("Wrote '%s': instance-id %s, user-data %s (%zu bytes)%s%s.", a->output, strna(iid),
                 user_data_type_to_string(type), user_size, net ? ", network-config" : "",
                 vendor ? ", vendor-data" : "");
        return SEED_EXIT_OK;
}

static int run_inspect(const SeedArgs *a) {
        _cleanup_(seed_inspection_done) SeedInspection ins = {};
        int r;

        r = seed_inspect(a->inspect_path, &ins);
        if (r < 0)
                return log_error_errno(r, "Cannot read '%s': %s", a->inspect_path, input_strerror(r)), SEED_EXIT_FAILURE;

        if (a->json)
                seed_inspection_print_json(&ins, stdout);
        else
                seed_inspection_print_text(&ins, stdout);
        if (fflush(stdout) != 0)
                return log_error_errno(errno, "Cannot write the report: %m"), SEED_EXIT_FAILURE;

        if (!seed_inspection_ok(&ins)) {
                STRV_FOREACH(p, ins.problems)
                        log_error("%s: %s", a->inspect_path, *p);
                return SEED_EXIT_REJECTED;
        }
        return SEED_EXIT_OK;
}

/* -o must not name one of the inputs: the seed would replace the file it was made from. */
static int check_output_not_input(const SeedArgs *a) {
        const struct {
                const char *option, *path;
        } inputs[] = {
                { "--user-data", a->user_data },           { "--meta-data", a->meta_data },
                { "--network-config", a->network_config }, { "--vendor-data", a->vendor_data },
                { "--env", a->env },
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(inputs); i++) {
                if (!inputs[i].path)
                        continue;
                r = path_same_file(a->output, inputs[i].path);
                if (r < 0)
                        return log_error_errno(r, "Cannot look at '%s': %m", inputs[i].path);
                if (r > 0)
                        return log_error_errno(-EEXIST, "Output '%s' is the file given with %s: refusing to overwrite an input.",
                                               a->output, inputs[i].option);
        }
        STRV_FOREACH(k, a->ssh_keys) {
                r = path_same_file(a->output, *k);
                if (r < 0)
                        return log_error_errno(r, "Cannot look at '%s': %m", *k);
                if (r > 0)
                        return log_error_errno(-EEXIST, "Output '%s' is the file given with --ssh-key: refusing to overwrite an input.",
                                               a->output);
        }
        return 0;
}

int seed_run(const SeedArgs *a) {
        if (a->inspect)
                return run_inspect(a);
        if (check_output_not_input(a) < 0)
                return SEED_EXIT_USAGE;
        return run_write(a);
}

int verb_seed(int argc, char *argv[]) {
        _cleanup_(seed_args_done) SeedArgs a = {};
        int r;

        r = seed_parse_argv(argc, argv, &a);
        if (r < 0)
                return SEED_EXIT_USAGE;
        if (r == 0)
                return SEED_EXIT_OK;
        return seed_run(&a);
}
