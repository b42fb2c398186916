/**
 * Choosing the virtualization accelerator for qemu and libguestfs.
 *
 * /dev/kvm can exist and still be unusable (nested setups where KVM guests hang or abort). So KVM is
 * chosen only when a probe guest really runs under it: a 512-byte boot sector that writes one byte
 * to the serial port and leaves through the isa-debug-exit device, with the same -cpu option the
 * real boot uses, must finish within ACCEL_PROBE_TIMEOUT seconds. Otherwise TCG is used.
 * $APPLIANCE_ACCEL=kvm|tcg overrides the probe. The answer is computed once per process.
 */
#pragma once

#include <stdbool.h>

#define ACCEL_PROBE_TIMEOUT "3"

typedef enum Accel {
        ACCEL_TCG,
        ACCEL_KVM,
        _ACCEL_MAX,
        _ACCEL_INVALID = -22,
} Accel;

Accel accel_detect(void);
const char *accel_to_string(Accel a);
Accel accel_from_string(const char *s);
/* The -cpu model to use with the accelerator. */
const char *accel_cpu(Accel a);
