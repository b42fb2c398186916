/**
 * Accelerator detection by running a probe guest (see accel.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vm/accel.h"
#include "cleanup.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "spawn.h"

static const char *const accel_table[_ACCEL_MAX] = {
        [ACCEL_TCG] = "tcg",
        [ACCEL_KVM] = "kvm",
};

const char *accel_to_string(Accel a) {
        return a >= 0 && a < _ACCEL_MAX ? accel_table[a] : NULL;
}

Accel accel_from_string(const char *s) {
        for (int i = 0; i < _ACCEL_MAX; i++)
                if (s && streq(s, accel_table[i]))
                        return (Accel) i;
        return _ACCEL_INVALID;
}

const char *accel_cpu(Accel a) {
        return a == ACCEL_KVM ? "host" : "max";
}

/* A boot sector: out 0x3f8 <- 'K'; out 0xf4 <- 1 (isa-debug-exit: qemu exits with (1 << 1) | 1 = 3). */
static const unsigned char probe_code[] = {
        0xba, 0xf8, 0x03, /* mov dx, 0x3f8 */
        0xb0, 0x4b,       /* mov al, 'K' */
        0xee,             /* out dx, al */
        0xba, 0xf4, 0x00, /* mov dx, 0xf4 */
        0xb0, 0x01,       /* mov al, 1 */
        0xee,             /* out dx, al */
        0xf4,             /* hlt */
        0xeb, 0xfd,       /* jmp hlt */
};

static bool kvm_probe(void) {
        unsigned char sector[512] = {};
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *out = NULL, *drive = NULL;
        int r;

        if (access("/dev/kvm", R_OK | W_OK) < 0) {
                log_debug("/dev/kvm is not accessible, using TCG.");
                return false;
        }

        memcpy(sector, probe_code, sizeof probe_code);
        sector[510] = 0x55;
        sector[511] = 0xaa;

        /* No O_CLOEXEC: qemu opens the image through /proc/self/fd/N, which it inherits. */
        fd = memfd_create("accel-probe", 0);
        if (fd < 0 || loop_write(fd, sector, sizeof sector) < 0)
                return false;
        if (asprintf(&drive, "file=/proc/self/fd/%d,format=raw,if=ide", fd) < 0)
                return false;

        char *argv[] = {
                (char *) "timeout", (char *) "-s", (char *) "KILL", (char *) ACCEL_PROBE_TIMEOUT,
                (char *) "qemu-system-x86_64", (char *) "-accel", (char *) "kvm",
                (char *) "-cpu", (char *) accel_cpu(ACCEL_KVM), (char *) "-m", (char *) "16",
                (char *) "-nodefaults", (char *) "-display", (char *) "none",
                (char *) "-serial", (char *) "stdio",
                (char *) "-device", (char *) "isa-debug-exit,iobase=0xf4,iosize=0x04",
                (char *) "-drive", drive, NULL,
        };
        r = spawn_capture(argv, NULL, 0, SPAWN_NULL_STDERR, &out, NULL);
        log_debug("KVM probe: exit %d, serial '%s'.", r, strna(out));
        return r == 3 && out && strchr(out, 'K');
}

Accel accel_detect(void) {
        static Accel cached = _ACCEL_INVALID;
        const char *e;

        if (cached != _ACCEL_INVALID)
                return cached;

        e = getenv("APPLIANCE_ACCEL");
        if (!isempty(e) && !streq(e, "auto")) {
                cached = accel_from_string(e);
                if (cached >= 0)
                        return cached;
                log_warning("Ignoring invalid APPLIANCE_ACCEL='%s' (expected kvm, tcg or auto).", e);
        }

        cached = kvm_probe() ? ACCEL_KVM : ACCEL_TCG;
        if (cached == ACCEL_TCG && access("/dev/kvm", F_OK) == 0)
                log_info("KVM is present but a probe guest did not run under it within %s s: using TCG.",
                         ACCEL_PROBE_TIMEOUT);
        return cached;
}
