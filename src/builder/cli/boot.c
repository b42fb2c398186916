/**
 * 'appliance-builder boot': starts a built image in qemu the way users and the boot tests do:
 * KVM where it works, else TCG (accel.h); the console on the serial port; user networking with host
 * forwards bound to 127.0.0.1 only; the seed ISO and the data/volatile volumes as extra disks.
 * The process becomes qemu (exec), so its exit status and signals are qemu's.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "verb-dispatch.h"
#include "vm/accel.h"
#include "chase.h"
#include "cleanup.h"
#include "escape.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"
#include "spawn.h"
#include "strv.h"
#include "cli/verbs.h"

static char *arg_image = NULL;
static char *arg_seed = NULL;
static char **arg_disks = NULL;
static char **arg_forwards = NULL; /* "HOSTPORT:GUESTPORT" */
static uint64_t arg_memory = 2ULL << 30;
static unsigned arg_cpus = 2;
static char *arg_serial = NULL;
static Accel arg_accel = _ACCEL_INVALID; /* auto */
static bool arg_snapshot = false;
static bool arg_dry_run = false;
static char *arg_monitor = NULL;

static void help(void) {
        printf("Usage: %s boot DISK [OPTIONS]\n\n"
               "Boots an appliance disk image (raw, qcow2 or vmdk) in qemu with the console on the\n"
               "serial port. KVM is used where a probe guest runs under it, else TCG.\n\n"
               "Options:\n"
               "     --seed ISO           attach a NoCloud seed as a CD-ROM (drive id 'seed')\n"
               "     --disk FILE          attach another disk, e.g. an ecs-data volume (repeatable)\n"
               "  -m --memory SIZE        guest memory (default 2G)\n"
               "     --cpus N             virtual CPUs (default 2)\n"
               "  -f --forward HOST:GUEST forward 127.0.0.1:HOST to the guest's TCP port GUEST\n"
               "                          (repeatable; e.g. 2222:22, 8443:443)\n"
               "     --serial FILE        write the serial console to FILE instead of the terminal\n"
               "     --accel auto|kvm|tcg accelerator (default auto; also $APPLIANCE_ACCEL)\n"
               "     --snapshot           write changes to a temporary overlay, not to DISK\n"
               "     --monitor SOCKET     qemu's human monitor on a unix socket, e.g. to swap\n"
               "                          the seed: echo 'change seed new.iso' | socat - UNIX:SOCKET\n"
               "     --dry-run            print the qemu command line and exit\n"
               "  -h --help               show this help\n\n"
               "Exit status: qemu's; 1 if qemu cannot be started, 2 usage error.\n",
               log_program());
}

static int parse_forward(const char *s) {
        unsigned host, guest;
        char extra;

        if (sscanf(s, "%u:%u%c", &host, &guest, &extra) != 2 || host == 0 || host > 65535 || guest == 0 ||
            guest > 65535) {
                log_error("Invalid --forward '%s': expected HOSTPORT:GUESTPORT, e.g. 2222:22.", s);
                return -EINVAL;
        }
        return strv_extend(&arg_forwards, s);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_SEED = 0x100, ARG_DISK, ARG_CPUS, ARG_SERIAL, ARG_ACCEL, ARG_SNAPSHOT, ARG_DRY_RUN, ARG_MONITOR };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "seed", required_argument, NULL, ARG_SEED },
                { "disk", required_argument, NULL, ARG_DISK },
                { "memory", required_argument, NULL, 'm' },
                { "cpus", required_argument, NULL, ARG_CPUS },
                { "forward", required_argument, NULL, 'f' },
                { "serial", required_argument, NULL, ARG_SERIAL },
                { "accel", required_argument, NULL, ARG_ACCEL },
                { "snapshot", no_argument, NULL, ARG_SNAPSHOT },
                { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                { "monitor", required_argument, NULL, ARG_MONITOR },
                {},
        };
        int c, r;

        while ((c = getopt_long(argc, argv, "hm:f:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_SEED:
                        arg_seed = optarg;
                        break;
                case ARG_DISK:
                        if (strv_extend(&arg_disks, optarg) < 0)
                                return log_oom();
                        break;
                case 'm':
                        if (parse_size(optarg, &arg_memory) < 0 || arg_memory < (64ULL << 20))
                                return log_error_errno(EINVAL, "Invalid --memory '%s': expected a size such as 2G.",
                                                       optarg);
                        break;
                case ARG_CPUS:
                        if (safe_atou(optarg, &arg_cpus) < 0 || arg_cpus < 1 || arg_cpus > 64)
                                return log_error_errno(EINVAL, "Invalid --cpus '%s'.", optarg);
                        break;
                case 'f':
                        r = parse_forward(optarg);
                        if (r < 0)
                                return r;
                        break;
                case ARG_SERIAL:
                        arg_serial = optarg;
                        break;
                case ARG_ACCEL:
                        if (streq(optarg, "auto"))
                                arg_accel = _ACCEL_INVALID;
                        else if ((arg_accel = accel_from_string(optarg)) < 0)
                                return log_error_errno(EINVAL, "Invalid --accel '%s': expected auto, kvm or tcg.",
                                                       optarg);
                        break;
                case ARG_SNAPSHOT:
                        arg_snapshot = true;
                        break;
                case ARG_DRY_RUN:
                        arg_dry_run = true;
                        break;
                case ARG_MONITOR:
                        arg_monitor = optarg;
                        break;
                default:
                        return -EINVAL;
                }

        if (optind + 1 != argc) {
                log_error(optind >= argc ? "Missing the DISK to boot." : "Too many arguments.");
                return -EINVAL;
        }
        arg_image = argv[optind];
        return 1;
}

/* qemu format name from the file's magic: a raw image has none. */
static int image_format(const char *path, const char **ret) {
        _cleanup_close_ int fd = -EBADF;
        char magic[4];
        ssize_t n;
        int r;

        r = open_input(AT_FDCWD, path, INPUT_FOLLOW | INPUT_ALLOW_BLOCK, UINT64_MAX, &fd, NULL);
        if (r < 0)
                return r;
        n = loop_read(fd, magic, sizeof magic);
        if (n < 0)
                return (int) n;
        if (n == 4 && memcmp(magic, "QFI\xfb", 4) == 0)
                *ret = "qcow2";
        else if (n == 4 && memcmp(magic, "KDMV", 4) == 0)
                *ret = "vmdk";
        else
                *ret = "raw";
        return 0;
}

/* A path as a qemu option value (commas doubled); a control character is refused. */
static int qemu_path(const char *path, char **ret) {
        int r = qemu_escape_opt(path, ret);
        if (r == -EINVAL)
                return log_error_errno(r, "Path '%s' holds a control character, refusing to pass it to qemu.", path);
        if (r < 0)
                return log_oom();
        return 0;
}

static int add_drive(char ***argv, const char *path, bool readonly) {
        _cleanup_free_ char *q = NULL;
        const char *fmt = NULL;
        char *d;
        int r;

        r = image_format(path, &fmt);
        if (r < 0)
                return log_error_errno(r, "Cannot open '%s': %s", path, input_strerror(r));
        r = qemu_path(path, &q);
        if (r < 0)
                return r;
        if (asprintf(&d, "file=%s,format=%s,if=virtio%s", q, fmt, readonly ? ",readonly=on" : "") < 0)
                return log_oom();
        if (strv_extend(argv, "-drive") < 0 || strv_consume(argv, d) < 0)
                return log_oom();
        return 0;
}

static int run(int argc, char *argv[]) {
        _cleanup_strv_free_ char **qemu = NULL;
        _cleanup_free_ char *net = NULL, *mem = NULL, *cpus = NULL, *serial = NULL, *exe = NULL;
        Accel accel;
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? verb_usage("boot") : 0;

        r = find_executable("qemu-system-x86_64", &exe);
        if (r < 0) {
                log_error("qemu-system-x86_64 not found: install qemu-system-x86.");
                return 1;
        }

        accel = arg_accel >= 0 ? arg_accel : accel_detect();
        log_info("Booting '%s' with %s.", arg_image, accel_to_string(accel));

        net = strdup("user,id=net0");
        if (!net)
                return log_oom(), 1;
        STRV_FOREACH(f, arg_forwards) {
                unsigned h, g;
                char *n;

                (void) sscanf(*f, "%u:%u", &h, &g);
                if (asprintf(&n, "%s,hostfwd=tcp:127.0.0.1:%u-:%u", net, h, g) < 0)
                        return log_oom(), 1;
                free(net);
                net = n;
        }
        if (asprintf(&mem, "%llu", (unsigned long long) (arg_memory >> 20)) < 0 ||
            asprintf(&cpus, "%u", arg_cpus) < 0 ||
            asprintf(&serial, arg_serial ? "file:%s" : "mon:stdio", arg_serial) < 0)
                return log_oom(), 1;

        const char *base[] = {
                exe, "-machine", "pc", "-accel", accel_to_string(accel), "-cpu", accel_cpu(accel),
                "-m", mem, "-smp", cpus, "-nodefaults", "-display", "none", "-serial", serial,
                "-netdev", net, "-device", "virtio-net-pci,netdev=net0",
                "-device", "virtio-rng-pci", NULL,
        };
        for (const char **a = base; *a; a++)
                if (strv_extend(&qemu, *a) < 0)
                        return log_oom(), 1;
        if (arg_snapshot && strv_extend(&qemu, "-snapshot") < 0)
                return log_oom(), 1;

        if (add_drive(&qemu, arg_image, false) < 0)
                return 1;
        STRV_FOREACH(d, arg_disks)
                if (add_drive(&qemu, *d, false) < 0)
                        return 1;
        if (arg_seed) {
                /* A CD-ROM, as hypervisors attach seeds; its media can be changed at run time. */
                _cleanup_free_ char *d = NULL, *q = NULL;

                if (access(arg_seed, R_OK) < 0)
                        return log_error_errno(errno, "Cannot read seed '%s': %m", arg_seed), 1;
                if (qemu_path(arg_seed, &q) < 0)
                        return 1;
                if (asprintf(&d, "file=%s,format=raw,if=none,id=seed,media=cdrom,readonly=on", q) < 0 ||
                    strv_extend(&qemu, "-drive") < 0 || strv_consume(&qemu, TAKE_PTR(d)) < 0 ||
                    strv_extend(&qemu, "-device") < 0 || strv_extend(&qemu, "ide-cd,drive=seed,bus=ide.1") < 0)
                        return log_oom(), 1;
        }
        if (arg_monitor) {
                _cleanup_free_ char *m = NULL, *q = NULL;

                if (qemu_path(arg_monitor, &q) < 0)
                        return 1;
                if (asprintf(&m, "unix:%s,server=on,wait=off", q) < 0 ||
                    strv_extend(&qemu, "-monitor") < 0 || strv_consume(&qemu, TAKE_PTR(m)) < 0)
                        return log_oom(), 1;
        }

        if (arg_dry_run) {
                /* One line a shell runs as it is: every argument shell-quoted. */
                STRV_FOREACH(a, qemu) {
                        _cleanup_free_ char *w = shell_quote(*a, strlen(*a));
                        if (!w)
                                return log_oom(), 1;
                        printf("%s%s", a == qemu ? "" : " ", w);
                }
                putchar('\n');
                return 0;
        }

        fflush(NULL);
        execv(exe, qemu);
        log_error_errno(errno, "Failed to execute '%s': %m", exe);
        return 1;
}

int verb_boot(int argc, char *argv[]) {
        int r = run(argc, argv);

        strv_free(arg_disks);
        strv_free(arg_forwards);
        arg_disks = arg_forwards = NULL;
        return r;
}
