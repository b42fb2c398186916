/**
 * 'appliance-builder image': a profile and a base (root tarball, vendor cloud image, or a bootstrap
 * from the profile) become bootable raw / qcow2 / vmdk disks, plus SHA256SUMS and manifest.json.
 * The filesystems, the partition table and the boot code are written on the host (mke2fs -d,
 * GRUB's i386-pc images), without a helper VM; see disk-image.h for the stages.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "source/bootstrap.h"
#include "cleanup.h"
#include "env/check.h"
#include "disk/image.h"
#include "disk/package.h"
#include "seed/config.h"
#include "source/tarball.h"
#include "source/scratch.h"
#include "disk/util.h"
#include "fileio.h"
#include "source/guest.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"
#include "profile.h"
#include "disk/progress.h"
#include "disk/sizing.h"
#include "strv.h"
#include "target.h"
#include "cli/verbs.h"

#define TEST_VOLUME_BYTES (1ULL << 30) /* a volume's size when neither profile nor sizing gives one */

static const char *arg_profile = NULL;
static const char *arg_base = NULL;
static const char *arg_env = NULL;
static const char *arg_output = NULL;
static const char *arg_agent = NULL;
static const char *arg_sign_key = NULL;
static const char *arg_agent_rootfs = NULL;
static const char *arg_cache_dir = NULL;
static uint64_t arg_size = 0;
static unsigned arg_studies = 0;
static bool arg_studies_set = false;
static unsigned arg_years = 10;
static unsigned arg_formats = IMAGE_FORMAT_RAW | IMAGE_FORMAT_QCOW2 | IMAGE_FORMAT_VMDK;
static uint64_t arg_sde = 0;
static bool arg_dry_run = false;
static bool arg_json = false;

static void help(void) {
        printf("Usage: %s image --profile NAME|FILE -o DIR [OPTIONS]\n\n"
               "Builds bootable appliance disks (DOS MBR, ext4 root on p1 with GRUB, optional\n"
               "ecs-volatile / ecs-data filesystems) from a root tarball, a vendor cloud image, or\n"
               "a bootstrap of the profile, and writes SHA256SUMS and manifest.json next to them.\n\n"
               "Options:\n"
               "  -p --profile NAME|FILE     the image profile (required)\n"
               "  -b --base FILE             root tarball (tar, .gz, .xz, .zst) or cloud image (qcow2/raw);\n"
               "                             default: bootstrap the profile with mmdebstrap (cached)\n"
               "  -e --env FILE              bake FILE at /app/env.yml (0600); must start with #cloud-config\n"
               "  -s --size SIZE             size of the root filesystem (e.g. 4G); for a cloud image the\n"
               "                             disk's new size\n"
               "  -n --studies-per-month N   size root, ecs-data and ecs-volatile with the manual's formulas\n"
               "     --years Y               sizing horizon in years (default 10)\n"
               "  -f --format LIST           any of raw,qcow2,vmdk,box,ova (default: raw,qcow2,vmdk); box:\n"
               "                             Vagrant boxes for libvirt and VirtualBox and their catalog\n"
               "                             (the image gets the vagrant user with the insecure keys), ova:\n"
               "                             an OVF appliance for VMware, VirtualBox and AWS import\n"
               "  -o --output DIR            output directory (created if missing)\n"
               "     --agent PATH            the appliance-agent binary (default: next to this program, else\n"
               "                             " APPLIANCE_LIBEXECDIR "/appliance-agent)\n"
               "     --agent-rootfs DIR      tree copied over / (default: the agent's rootfs/ in the source,\n"
               "                             else " APPLIANCE_DATADIR "/agent-rootfs)\n"
               "     --cache-dir DIR         bootstrap cache (default: see 'bootstrap')\n"
               "     --source-date-epoch N   timestamps (default: $SOURCE_DATE_EPOCH, else now); given,\n"
               "                             the build is reproducible (see manifest.json 'reproducible')\n"
               "     --sign-key KEYID        sign SHA256SUMS with gpg: SHA256SUMS.gpg (detached)\n"
               "     --dry-run               print the plan and exit\n"
               "     --json                  print manifest.json on stdout when done\n"
               "  -h --help                  show this help\n\n"
               "Builds from a tarball need root (file owners are kept) and grub-pc-bin on the host.\n"
               "Exit status: 0 success, 1 failure, 2 usage error.\n",
               log_program());
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_YEARS = 0x100, ARG_AGENT, ARG_AGENT_ROOTFS, ARG_CACHE, ARG_SDE, ARG_DRY, ARG_JSON, ARG_SIGN_KEY };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "profile", required_argument, NULL, 'p' },
                { "base", required_argument, NULL, 'b' },
                { "env", required_argument, NULL, 'e' },
                { "size", required_argument, NULL, 's' },
                { "studies-per-month", required_argument, NULL, 'n' },
                { "years", required_argument, NULL, ARG_YEARS },
                { "format", required_argument, NULL, 'f' },
                { "output", required_argument, NULL, 'o' },
                { "agent", required_argument, NULL, ARG_AGENT },
                { "agent-rootfs", required_argument, NULL, ARG_AGENT_ROOTFS },
                { "sign-key", required_argument, NULL, ARG_SIGN_KEY },
                { "cache-dir", required_argument, NULL, ARG_CACHE },
                { "source-date-epoch", required_argument, NULL, ARG_SDE },
                { "dry-run", no_argument, NULL, ARG_DRY },
                { "json", no_argument, NULL, ARG_JSON },
                {},
        };
        const char *sde = getenv("SOURCE_DATE_EPOCH");
        int c;

        if (sde && !isempty(sde) && safe_atou64(sde, &arg_sde) < 0)
                return log_error("Invalid $SOURCE_DATE_EPOCH '%s'.", sde), -EINVAL;

        while ((c = getopt_long(argc, argv, "hp:b:e:s:n:f:o:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case 'p':
                        arg_profile = optarg;
                        break;
                case 'b':
                        arg_base = optarg;
                        break;
                case 'e':
                        arg_env = optarg;
                        break;
                case 's':
                        if (parse_size(optarg, &arg_size) < 0 || arg_size == 0)
                                return log_error("Invalid --size '%s'.", optarg), -EINVAL;
                        break;
                case 'n':
                        if (safe_atou(optarg, &arg_studies) < 0)
                                return log_error("Invalid --studies-per-month '%s'.", optarg), -EINVAL;
                        arg_studies_set = true;
                        break;
                case ARG_YEARS:
                        if (safe_atou(optarg, &arg_years) < 0 || arg_years < 1 || arg_years > 100)
                                return log_error("Invalid --years '%s' (1..100).", optarg), -EINVAL;
                        break;
                case 'f':
                        if (image_formats_from_string(optarg, &arg_formats) < 0)
                                return log_error("Invalid --format '%s': use raw, qcow2, vmdk, box and/or ova.", optarg),
                                       -EINVAL;
                        break;
                case 'o':
                        arg_output = optarg;
                        break;
                case ARG_AGENT:
                        arg_agent = optarg;
                        break;
                case ARG_AGENT_ROOTFS:
                        arg_agent_rootfs = optarg;
                        break;
                case ARG_SIGN_KEY:
                        if (isempty(optarg) || optarg[0] == '-')
                                return log_error("Invalid --sign-key '%s'.", optarg), -EINVAL;
                        arg_sign_key = optarg;
                        break;
                case ARG_CACHE:
                        arg_cache_dir = optarg;
                        break;
                case ARG_SDE:
                        if (safe_atou64(optarg, &arg_sde) < 0)
                                return log_error("Invalid --source-date-epoch '%s'.", optarg), -EINVAL;
                        break;
                case ARG_DRY:
                        arg_dry_run = true;
                        break;
                case ARG_JSON:
                        arg_json = true;
                        break;
                default:
                        return -EINVAL;
                }

        if (optind < argc)
                return log_error("Unexpected argument '%s'.", argv[optind]), -EINVAL;
        if (!arg_profile)
                return log_error("--profile is required."), -EINVAL;
        if (!arg_output)
                return log_error("--output (-o DIR) is required."), -EINVAL;
        if (arg_size > 0 && arg_studies_set)
                return log_error("--size and --studies-per-month exclude each other."), -EINVAL;
        return 1;
}

/* The agent next to this program (a build tree), else the installed one. */
static char *default_agent(void) {
        _cleanup_free_ char *self = realpath("/proc/self/exe", NULL), *dir = NULL;
        const char *base;
        char *p;

        if (self && path_split(self, &dir, &base) >= 0) {
                if (asprintf(&p, "%s/appliance-agent", dir) < 0)
                        return NULL;
                if (access(p, X_OK) >= 0)
                        return p;
                free(p);
        }
        if (access(APPLIANCE_LIBEXECDIR "/appliance-agent", X_OK) < 0)
                return NULL;
        return strdup(APPLIANCE_LIBEXECDIR "/appliance-agent");
}

/* The env tool (appliance-env, built next to the agent) and the env template of the profiles
 * directory, installed into the image so that env-create.sh works on the appliance; NULL when
 * absent (the image then has no env-create.sh tool, which is logged). */
static char *env_tool_path = NULL, *env_template_path = NULL;

static void find_env_tools(const char *agent) {
        _cleanup_free_ char *dir = NULL;
        const char *base;

        if (path_split(agent, &dir, &base) >= 0 && asprintf(&env_tool_path, "%s/appliance-env", dir) >= 0 &&
            access(env_tool_path, X_OK) < 0) {
                log_notice("No '%s': the image gets no env-create.sh.", env_tool_path);
                free(env_tool_path);
                env_tool_path = NULL;
        }
        if (asprintf(&env_template_path, "%s/env-template.yml", profile_dir()) >= 0 &&
            access(env_template_path, R_OK) < 0) {
                free(env_template_path);
                env_template_path = NULL;
        }
}

/* The box's vagrant user (Vagrant's base box conventions): the vagrant seed preset, baked into the
 * image as a cloud-config the agent applies at boot. */
static int vagrant_cloud_config(char **ret) {
        _cleanup_strv_free_ char **keys = NULL, **set = NULL;
        _cleanup_free_ char *err = NULL, *text = NULL;
        int r;

        r = seed_vagrant_keys(&keys, &err);
        if (r < 0)
                return log_error_errno(r, "%s", strempty_or(err));
        r = seed_preset_config(SEED_PRESET_VAGRANT, keys, NULL, false, &text, &set);
        if (r < 0)
                return log_error_errno(r, "Cannot make the vagrant user's cloud-config: %m");
        if (asprintf(ret, "#cloud-config\n%s", text) < 0)
                return log_oom();
        return 0;
}

/* --format box / ova: the packages made from the written disks (disk/package.h). */
static int write_packages(const Profile *profile, const ImagePlan *plan, const ImageResult *res, const char *tmpdir) {
        _cleanup_free_ char *name = NULL, *version = NULL, *desc = NULL, *err = NULL;
        _cleanup_strv_free_ char **written = NULL, **files = NULL;
        PackageDisk disks[IMAGE_MAX_DISKS] = {};
        size_t n = 0;
        int r;

        if (!(plan->formats & (IMAGE_FORMAT_BOX | IMAGE_FORMAT_OVA)))
                return 0;
        for (size_t d = 0; d < plan->n_disks; d++) {
                _cleanup_free_ char *q = NULL, *v = NULL;
                if (asprintf(&q, "%s.qcow2", plan->disks[d].name) < 0 || asprintf(&v, "%s.vmdk", plan->disks[d].name) < 0 ||
                    strv_consume(&files, TAKE_PTR(q)) < 0 || strv_consume(&files, TAKE_PTR(v)) < 0)
                        return log_oom();
                disks[n++] = (PackageDisk) { .label = plan->disks[d].name, .qcow2 = files[2 * d],
                                             .vmdk = plan->formats & IMAGE_FORMAT_VMDK ? files[2 * d + 1] : NULL,
                                             .virtual_size = plan->disks[d].size };
        }
        if (asprintf(&name, "appliance-%s", profile->name) < 0 ||
            asprintf(&version, "%s.%" PRIu64, PROJECT_VERSION, plan->source_date_epoch) < 0 ||
            asprintf(&desc, "ECS appliance, profile %s (%s %s)", profile->name, profile->distribution, profile->suite) < 0)
                return log_oom();
        PackageInput in = {
                .output_dir = arg_output, .tmpdir = tmpdir, .name = name, .version = version, .description = desc, .disks = disks,
                .n_disks = n, .cpus = 2, .memory_mib = 2048, .mtime = plan->source_date_epoch, .secret = res->env_baked,
                .ids_seed = plan->reproducible ? plan->seed : NULL,
        };
        if (plan->formats & IMAGE_FORMAT_BOX) {
                r = package_vagrant_boxes(&in, &written, &err);
                if (r < 0)
                        return log_error_errno(r, "Vagrant box: %s", err ?: strerror(-r));
        }
        if (plan->formats & IMAGE_FORMAT_OVA) {
                r = package_ova(&in, &written, &err);
                if (r < 0)
                        return log_error_errno(r, "OVA: %s", err ?: strerror(-r));
        }
        r = package_append_sums(arg_output, written, &err);
        if (r < 0)
                return log_error_errno(r, "%s", err ?: strerror(-r));
        return 0;
}

static const char *default_agent_rootfs(void) {
        static const char *const candidates[] = {
#ifdef PROJECT_SOURCE_DIR
                PROJECT_SOURCE_DIR "/src/agent/rootfs",
#endif
                APPLIANCE_DATADIR "/agent-rootfs",
        };
        for (size_t i = 0; i < ELEMENTSOF(candidates); i++)
                if (access(candidates[i], F_OK) >= 0)
                        return candidates[i];
        return NULL;
}

/* Volume sizes: the profile's, else --studies-per-month, else the profile's sizing class, else a
 * small test size. */
static int volume_requests(const Profile *p, const Sizing *sz, ImageVolumeRequest ret[2], size_t *ret_n) {
        static const char *const order[] = { "ecs-volatile", "ecs-data" };
        size_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                const ProfileVolume *v = profile_volume(p, order[i]);
                uint64_t size;

                if (!v || v->place == PART_PLACE_NONE)
                        continue;
                size = v->size;
                if (sz && (arg_studies_set || size == 0))
                        size = streq(order[i], "ecs-data") ? sz->data_bytes : sz->temp_bytes;
                if (size == 0)
                        size = TEST_VOLUME_BYTES;
                ret[n++] = (ImageVolumeRequest) {
                        .label = v->label,
                        .mountpoint = v->mountpoint ?: (streq(order[i], "ecs-data") ? "/data" : "/volatile"),
                        .place = v->place,
                        .size = size,
                };
        }
        *ret_n = n;
        return 0;
}

static int get_sizing(const Profile *p, Sizing *ret, bool *ret_have) {
        unsigned n = 0;

        *ret_have = false;
        if (arg_studies_set)
                n = arg_studies;
        else if (p->sizing_class && safe_atou(p->sizing_class, &n) >= 0 && n > 0)
                ;
        else
                return 0;
        if (sizing_compute(n, arg_years, ret) < 0)
                return log_error_errno(-EINVAL, "Cannot compute the sizing for %u studies per month.", n);
        if (ret->test_instance)
                return 0;
        *ret_have = true;
        return 0;
}

static int prepare_output_dir(bool *ret_created) {
        struct stat st;
        int r;

        *ret_created = false;
        if (stat(arg_output, &st) >= 0) {
                if (!S_ISDIR(st.st_mode))
                        return log_error_errno(-ENOTDIR, "Output '%s' is not a directory.", arg_output);
        } else {
                r = mkdir_p(arg_output, 0755);
                if (r < 0)
                        return log_error_errno(r, "Cannot create output directory '%s': %m", arg_output);
                *ret_created = true;
        }

        /* Probe now, before minutes of work: can an unnamed temporary be created there? */
        _cleanup_free_ char *probe_path = NULL;
        AtomicFile probe;

        if (asprintf(&probe_path, "%s/manifest.json", arg_output) < 0)
                return log_oom();
        r = atomic_file_open(&probe, AT_FDCWD, probe_path, 0644);
        if (r >= 0)
                atomic_file_done(&probe);
        if (r < 0) {
                if (*ret_created)
                        (void) rmdir(arg_output);
                return log_error_errno(r, "Output directory '%s' is not writable: %m", arg_output);
        }
        return 0;
}

/* Bytes the scratch tree will need: the base's size, times four when it is compressed. A build
 * without --base bootstraps first and guesses 1 GiB. */
static uint64_t scratch_estimate(void) {
        struct stat st;

        if (!arg_base)
                return 1ULL << 30;
        if (stat(arg_base, &st) < 0)
                return 0;
        if (endswith(arg_base, ".tar"))
                return (uint64_t) st.st_size;
        return (uint64_t) st.st_size * 4;
}

static int build(const Profile *profile, const char *agent, ScratchDir *scratch, ImagePlan *plan) {
        _cleanup_(image_result_done) ImageResult res = {};
        _cleanup_free_ char *err = NULL, *tree = NULL, *tarball = NULL;
        const char *base = arg_base;
        RootfsUsage usage;
        uint64_t t, t0 = progress_now_usec();
        int r;

        res.profile = profile;
        res.profile_digest = profile_digest(profile);
        if (asprintf(&res.generator, "appliance-builder %s", PROJECT_VERSION) < 0)
                return log_oom();

        if (!base) {
                t = progress_now_usec();
                log_info("No --base given: bootstrapping profile '%s' (cached).", profile->name);
                r = bootstrap_rootfs(profile, arg_cache_dir, &tarball, &err);
                if (r < 0)
                        return log_error_errno(r, "Bootstrap failed: %s", strempty_or(err));
                image_result_step(&res, "bootstrap", progress_now_usec() - t);
                log_info("Base: bootstrap tarball %s", tarball);
                base = tarball;
                res.base_kind = "bootstrap";
        } else
                res.base_kind = "tarball";
        res.base_path = base;

        if (asprintf(&tree, "%s/root", scratch->path) < 0)
                return log_oom();
        if (mkdir(tree, 0755) < 0)
                return log_error_errno(errno, "Cannot create '%s': %m", tree);

        t = progress_now_usec();
        r = rootfs_extract(base, tree, &res.base, &err);
        if (r < 0)
                return log_error_errno(r, "%s", strempty_or(err));
        image_result_step(&res, "extract", progress_now_usec() - t);

        r = rootfs_usage(tree, &usage);
        if (r < 0)
                return log_error_errno(r, "Cannot measure the extracted tree: %m");
        {
                uint64_t need = rootfs_min_fs_bytes(&usage);
                char a[FORMAT_BYTES_MAX], b[FORMAT_BYTES_MAX];

                if (plan->fs[0].size <= MBR_ALIGN_BYTES) {
                        /* Fit: the content plus a quarter, at least 512 MiB of headroom. */
                        plan->fs[0].size = ALIGN_TO(MAX(need + need / 4, need + (512ULL << 20)), 64ULL << 20);
                        r = image_plan_relayout(plan, &err);
                        if (r < 0)
                                return log_error_errno(r, "%s", strempty_or(err));
                } else if (plan->fs[0].size < need)
                        return log_error_errno(ENOSPC,
                                               "The root filesystem (%s) is too small for the base '%s': its %" PRIu64
                                               " entries need at least %s. Use a larger --size.",
                                               format_bytes(a, sizeof a, plan->fs[0].size), base, usage.inodes,
                                               format_bytes(b, sizeof b, need));
        }

        _cleanup_free_ char *vagrant = NULL;
        if (plan->formats & IMAGE_FORMAT_BOX) {
                r = vagrant_cloud_config(&vagrant);
                if (r < 0)
                        return r;
        }
        ImageInputs in = {
                .profile = profile,
                .image_cloud_config = vagrant,
                .agent_binary = agent,
                .agent_rootfs = arg_agent_rootfs ?: default_agent_rootfs(),
                .env_tool = env_tool_path,
                .env_template = env_template_path,
                .env_path = arg_env,
                .kernel_cmdline = profile->kernel_cmdline,
                .scratch = scratch->path,
        };
        t = progress_now_usec();
        r = image_prepare_tree(tree, plan, &in, &res, &err);
        if (r < 0)
                return log_error_errno(r, "%s", strempty_or(err));
        image_result_step(&res, "customize", progress_now_usec() - t);

        r = image_write(tree, plan, arg_output, scratch->path, &res, &err);
        if (r < 0)
                return log_error_errno(r, "%s", strempty_or(err));
        t = progress_now_usec();
        r = write_packages(profile, plan, &res, scratch->path);
        if (r < 0)
                return r;
        image_result_step(&res, "packages", progress_now_usec() - t);

        for (size_t i = 0; i < res.n_outputs; i++) {
                char b[FORMAT_BYTES_MAX];
                log_info("Wrote %s/%s (%s).", arg_output, res.outputs[i].name,
                         format_bytes(b, sizeof b, res.outputs[i].size));
        }
        log_info("Built '%s' in %.1fs.", profile->name, (double) (progress_now_usec() - t0) / 1e6);
        if (arg_json)
                fputs(strempty_or(res.manifest), stdout);
        return 0;
}

static HygieneItemId hygiene_item_for(const char *path) {
        if (strstr(path, "ssh_host_"))
                return HYGIENE_SSH_HOST_KEYS;
        if (strstr(path, "machine-id"))
                return HYGIENE_MACHINE_ID;
        if (strstr(path, "random-seed"))
                return HYGIENE_RANDOM_SEED;
        if (strstr(path, "persistent-net"))
                return HYGIENE_NET_RULES;
        if (strstr(path, "dhcp") || strstr(path, "lease"))
                return HYGIENE_DHCP_LEASES;
        if (strstr(path, "/apt/"))
                return HYGIENE_APT_CACHES;
        return HYGIENE_BUILD_LOGS;
}

/* A vendor cloud image: customized on a copy by libguestfs (guest.c), then converted and hashed
 * like any other disk. */
static int build_cloud(const Profile *profile, const char *agent, ScratchDir *scratch, ImagePlan *plan) {
        _cleanup_(image_result_done) ImageResult res = {};
        _cleanup_free_ char *err = NULL, *raw = NULL;
        GuestReport rep = {};
        uint64_t t, t0 = progress_now_usec();
        struct stat st;
        int r;

        res.profile = profile;
        res.profile_digest = profile_digest(profile);
        res.base_kind = "cloud-image";
        res.base_path = arg_base;
        if (asprintf(&res.generator, "appliance-builder %s", PROJECT_VERSION) < 0 ||
            asprintf(&raw, "%s/disk.raw", scratch->path) < 0)
                return log_oom();

        GuestCustomization c = {
                .size = arg_size,
                .agent_binary = agent,
                .agent_rootfs = arg_agent_rootfs ?: default_agent_rootfs(),
                .env_tool = env_tool_path,
                .env_template = env_template_path,
                .env_path = arg_env,
                .profile_text = profile->text,
                .profile_text_len = profile->text_len,
                .profile = profile,
                .kernel_cmdline = profile->kernel_cmdline,
                .hygiene = GUEST_HYGIENE_ALL,
                .report = &rep,
        };
        t = progress_now_usec();
        log_info("Customizing cloud image '%s' with libguestfs...", arg_base);
        r = guest_customize_cloud_image(arg_base, raw, &c, &err);
        if (r < 0)
                return log_error_errno(r, "%s", strempty_or(err));
        image_result_step(&res, "customize-cloud-image", progress_now_usec() - t);
        res.env_baked = arg_env != NULL;

        STRV_FOREACH(p, rep.removed)
                if (strv_extend(&res.hygiene.items[hygiene_item_for(*p)].changed, *p) < 0) {
                        guest_report_done(&rep);
                        return log_oom();
                }
        guest_report_done(&rep);
        for (HygieneItemId i = 0; i < _HYGIENE_MAX; i++)
                if (i == HYGIENE_ROOT_PASSWORD)
                        r = hygiene_report_set(&res.hygiene, i, false, "left as the vendor image has it");
                else if (i == HYGIENE_BUILD_HOST)
                        r = hygiene_report_set(&res.hygiene, i, true, "not applicable: the base was not bootstrapped on this host");
                else if (i == HYGIENE_FREE_SPACE)
                        r = hygiene_report_set(&res.hygiene, i, false, "not zeroed: the vendor image's blocks are kept");
                else
                        r = hygiene_report_set(&res.hygiene, i, true, "applied by the cloud-image customization");
        if (r < 0)
                return log_oom();

        if (stat(raw, &st) < 0)
                return log_error_errno(errno, "Cannot stat '%s': %m", raw);
        plan->disks[0].prebuilt = raw;
        plan->disks[0].size = (uint64_t) st.st_size;

        r = image_write(NULL, plan, arg_output, scratch->path, &res, &err);
        if (r < 0)
                return log_error_errno(r, "%s", strempty_or(err));
        r = write_packages(profile, plan, &res, scratch->path);
        if (r < 0)
                return r;
        for (size_t i = 0; i < res.n_outputs; i++)
                log_info("Wrote %s/%s.", arg_output, res.outputs[i].name);
        log_info("Built '%s' from a cloud image in %.1fs.", profile->name, (double) (progress_now_usec() - t0) / 1e6);
        if (arg_json)
                fputs(strempty_or(res.manifest), stdout);
        return 0;
}

int verb_image(int argc, char *argv[]) {
        _cleanup_(profile_freep) Profile *profile = NULL;
        _cleanup_free_ char *err = NULL, *agent = NULL;
        ImageVolumeRequest vols[2];
        ScratchDir scratch = {};
        ImagePlan plan;
        const TargetRelease *target;
        Sizing sz = {};
        bool have_sizing, created = false, cloud = false;
        uint64_t root_size;
        size_t n_vols = 0;
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? 2 : 0;

        r = profile_load(arg_profile, &profile, &err);
        if (r < 0)
                return log_error("%s", err ?: strerror(-r)), 1;

        /* The release decides the filesystems' features and the systemd the units are written for. */
        target = target_release_find(profile->distribution, profile->suite);
        if (!target) {
                size_t n;
                const TargetRelease *all = target_releases(&n);
                _cleanup_strv_free_ char **known = NULL;
                _cleanup_free_ char *list = NULL;

                for (size_t i = 0; i < n; i++) {
                        char *k;
                        if (asprintf(&k, "%s %s", all[i].distribution, all[i].suite) < 0 || strv_consume(&known, k) < 0)
                                return log_oom(), 1;
                }
                list = strv_join(known, ", ");
                return log_error("%s: distribution '%s', suite '%s': not a target release of the builder (known: %s)",
                                 profile->path, profile->distribution, profile->suite, strna(list)),
                       1;
        }
        for (size_t i = 0; i < profile->n_files; i++) {
                const ProfileFile *f = &profile->files[i];
                if (!unit_path_is_unit(f->path))
                        continue;
                err = mfree(err);
                if (unit_text_check(f->path, f->content, target->systemd, &err) < 0)
                        return log_error("%s: files: %s (%s %s)", profile->path, strempty_or(err), profile->distribution,
                                         profile->suite),
                               1;
        }

        if (arg_env) {
                err = mfree(err);
                r = env_check_file(arg_env, true, &err);
                if (r < 0)
                        return log_error("%s", strempty_or(err)), 1;
        }
        if (arg_base && access(arg_base, R_OK) < 0)
                return log_error_errno(errno, "Cannot read base '%s': %m", arg_base), 1;
        cloud = arg_base && guest_is_disk_image(arg_base);
        if (cloud)
                /* A vendor image keeps its own partitions: volumes become disks of their own. */
                for (size_t i = 0; i < profile->n_volumes; i++)
                        if (profile->volumes[i].place == PART_PLACE_PARTITION) {
                                log_info("Volume '%s' becomes a separate disk: a cloud-image base keeps its own "
                                         "partition table.", profile->volumes[i].label);
                                profile->volumes[i].place = PART_PLACE_DISK;
                        }

        r = get_sizing(profile, &sz, &have_sizing);
        if (r < 0)
                return 1;
        root_size = arg_size ?: arg_studies_set ? sz.system_bytes : profile->root_size;
        r = volume_requests(profile, have_sizing ? &sz : NULL, vols, &n_vols);
        if (r < 0)
                return 1;
        err = mfree(err);
        r = image_plan_make(root_size, vols, n_vols, arg_formats, &plan, &err);
        if (r < 0)
                return log_error("%s", strempty_or(err)), 1;
        plan.source_date_epoch = arg_sde ?: (uint64_t) time(NULL);
        if (arg_sde) {
                /* A fixed epoch asks for a reproducible build: the ids derive from it and the inputs. */
                _cleanup_free_ char *inputs = NULL;
                struct stat bst = {};

                if (arg_base && stat(arg_base, &bst) < 0)
                        return log_error_errno(errno, "Cannot stat base '%s': %m", arg_base), 1;
                if (asprintf(&inputs, "profile %s\nbase %s %" PRIu64 "\nformats %u\n", profile->name,
                             arg_base ? (strrchr(arg_base, '/') ? strrchr(arg_base, '/') + 1 : arg_base) : "bootstrap", (uint64_t) bst.st_size, arg_formats) < 0)
                        return log_oom(), 1;
                r = image_plan_derive_ids(&plan, arg_sde, inputs);
                if (r < 0)
                        return log_error_errno(r, "Cannot derive the image ids: %m"), 1;
        }
        plan.target = target;

        if (arg_dry_run) {
                printf("Profile: %s (%s)\n", profile->name, profile->path);
                printf("Base: %s%s\n", arg_base ?: "bootstrap with mmdebstrap (cached)",
                       cloud ? " (cloud image: customized with libguestfs, its partitions kept)" : "");
                if (root_size == 0)
                        printf("Root size: fit to the content (decided after extraction)\n");
                image_plan_print(&plan, arg_output);
                return 0;
        }

        if (geteuid() != 0 && !cloud)
                return log_error("Building from a root tarball needs root: file owners from the tarball must be "
                                 "kept. Run as root (or in a user namespace as root)."),
                       1;

        if (arg_agent)
                agent = strdup(arg_agent);
        else
                agent = default_agent();
        if (!agent)
                return log_error("The appliance-agent binary was found neither next to '%s' nor in '%s': "
                                 "pass --agent PATH.", log_program(), APPLIANCE_LIBEXECDIR),
                       1;
        if (access(agent, R_OK) < 0)
                return log_error_errno(errno, "Cannot read agent '%s': %m", agent), 1;
        find_env_tools(agent);
        if (cloud && (arg_formats & IMAGE_FORMAT_BOX))
                return log_error("--format box needs a root tarball or a bootstrap: the vagrant user is baked into "
                                 "the tree (a cloud image has its own cloud-init for that)."),
                       1;

        r = prepare_output_dir(&created);
        if (r < 0)
                return 1;

        r = scratch_dir_new(&scratch, created ? arg_output : NULL, scratch_estimate());
        if (r < 0) {
                if (created)
                        (void) rmdir(arg_output);
                return log_error_errno(r, "Cannot create a scratch directory: %m"), 1;
        }

        r = cloud ? build_cloud(profile, agent, &scratch, &plan) : build(profile, agent, &scratch, &plan);
        if (r < 0) {
                bool running;
                const char *step = progress_step(&running);
                if (step)
                        log_error("The build failed %s step '%s'.", running ? "in" : "after", step);
        }
        scratch_dir_done(&scratch);
        if (r >= 0 && arg_sign_key) {
                err = mfree(err);
                r = package_sign_sums(arg_output, arg_sign_key, &err);
                if (r < 0)
                        log_error_errno(r, "Signing: %s", err ?: strerror(-r));
                else
                        log_info("Wrote %s/SHA256SUMS.gpg (signed by %s).", arg_output, arg_sign_key);
        }
        if (r < 0 && created)
                (void) rmdir(arg_output);
        return r < 0 ? 1 : 0;
}
