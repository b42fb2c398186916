#!/bin/bash
# Boot smoke test: builds the "minimal" profile from the shared cached root tarball, boots the
# qcow2 (with its ecs-data and ecs-volatile disks) in qemu and waits until the serial console shows
# the login prompt or the agent's first line. TCG unless APPLIANCE_ACCEL=kvm (KVM guests hang on
# the machines this runs on).
set -eu -o pipefail
. "$SRCDIR/tests/integration/image-common.sh"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: building from a tarball needs root"; exit 77; }
for t in mmdebstrap qemu-system-x86_64 grub-mkimage; do
        command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done

rootfs=$(image_test_rootfs) || { echo "SKIP: cannot bootstrap the test root tarball"; exit 77; }
timeout_s=${APPLIANCE_BOOT_TIMEOUT:-600}
accel=${APPLIANCE_ACCEL:-tcg}

tmp=$(mktemp -d)
qemu_pid=
cleanup() {
        [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT

"$BUILDER" image --profile minimal --base "$rootfs" --format qcow2 -o "$tmp/out"
ls -l "$tmp/out"

log="$tmp/serial.log"
: >"$log"
cpu=max
[ "$accel" = kvm ] && cpu=host
qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -m 1024 -smp 2 \
        -display none -monitor none -serial "file:$log" -no-reboot \
        -drive "file=$tmp/out/disk.qcow2,format=qcow2,if=virtio,snapshot=on" \
        -drive "file=$tmp/out/ecs-data.qcow2,format=qcow2,if=virtio,snapshot=on" \
        -drive "file=$tmp/out/ecs-volatile.qcow2,format=qcow2,if=virtio,snapshot=on" \
        -nic user,model=virtio-net-pci &
qemu_pid=$!

found=
for _ in $(seq 1 "$timeout_s"); do
        if grep -aEq 'login: *$|appliance-agent\[[0-9]+\]' "$log"; then
                found=yes
                break
        fi
        kill -0 "$qemu_pid" 2>/dev/null || break
        sleep 1
done

echo "---- serial log (filtered) ----"
grep -aE 'GRUB|Linux version|EXT4-fs \(vda1\)|Reached target|login:|appliance' "$log" | tail -40 || true
[ -n "$found" ] || { echo "FAIL: no login prompt or agent line within ${timeout_s}s"; tail -c 3000 "$log"; exit 1; }

grep -aq 'GRUB' "$log"
grep -aq 'Linux version' "$log"
grep -aq 'EXT4-fs (vda1): mounted' "$log"
echo OK
