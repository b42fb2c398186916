#!/bin/bash
# Power cuts (bench/powercut 3): qemu killed with SIGKILL at a random moment of a first boot, of a
# later boot of an appliance holding data and of an appliance-update, each booted again to ready with the seed's env, the
# data, the rows and the root's growth unchanged, nothing half-written below /app, /data/etc and
# /run, and e2fsck -fn clean on the three filesystems. The seed is printed; a failure is replayed
# with `bench/powercut --seed S 3`.
source "$(dirname "$0")/lib.sh"
boot_require jq openssl e2fsck dumpe2fs
python3 -c 'import yaml' 2>/dev/null || { echo "boot: python3-yaml not installed, skipping"; exit 77; }
"$SRCDIR/bench/powercut" 3
