#!/bin/bash
# Our seeds satisfy the real client: a guest running Debian's cloud-init (not our agent) boots with
# a `seed --preset vagrant --grow-root` seed and gets the vagrant user with both Vagrant insecure
# keys, passwordless sudo, and a root file system grown to the end of a resized disk. Checked from
# outside over ssh with each of the two Vagrant insecure private keys (tests/data/vagrant/).
source "$(dirname "$0")/lib.sh"
boot_require jq

CACHE="${APPLIANCE_TEST_CACHE:-/var/tmp/appliance-test-cache}/bootstrap"
TESTDATA=${TESTDATA:-$SRCDIR/tests/data}
W=$BOOT_WORK
GROW=1G

# The private keys are public (Vagrant's insecure pair); ssh wants them private to the user.
mkdir -m 0700 "$W/keys"
declare -A KEY=([rsa]="$W/keys/vagrant" [ed25519]="$W/keys/vagrant.key.ed25519")
install -m 0600 "$TESTDATA/vagrant/vagrant" "${KEY[rsa]}"
install -m 0600 "$TESTDATA/vagrant/vagrant.key.ed25519" "${KEY[ed25519]}"
declare -A PUB=([rsa]="$SRCDIR/seed/vagrant.pub" [ed25519]="$SRCDIR/seed/vagrant.pub.ed25519")
for k in rsa ed25519; do
	[ "$(ssh-keygen -y -f "${KEY[$k]}" | cut -d' ' -f1,2)" = "$(cut -d' ' -f1,2 "${PUB[$k]}")" ] ||
		fail "tests/data/vagrant: the $k private key is not the pair of ${PUB[$k]}"
done

# vagrant_ssh PORT KEYTYPE COMMAND...: runs a command as vagrant, offering only that one key.
vagrant_ssh() {
	local port=$1 k=$2
	shift 2
	ssh -q -i "${KEY[$k]}" -o IdentitiesOnly=yes -o IdentityAgent=none -p "$port" \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 \
		-o BatchMode=yes -o PubkeyAcceptedAlgorithms=+ssh-rsa vagrant@127.0.0.1 "$@"
}

log "building the cloud-init image without agent units (bootstrap cache: $CACHE)"
mkdir "$W/empty-rootfs"
"$BUILDER" image --profile "$TESTDATA/profiles/cloudinit.yml" --agent-rootfs "$W/empty-rootfs" \
	--format qcow2 --cache-dir "$CACHE" -o "$W/img" >"$W/build.log" 2>&1 ||
	{ tail -n 30 "$W/build.log"; fail "image build failed"; }
disk=$W/img/disk.qcow2
[ -f "$disk" ] || fail "the build wrote no disk.qcow2"
built_bytes=$(qemu-img info --output=json "$disk" | jq '."virtual-size"')
qemu-img resize -q "$disk" "+$GROW"
disk_bytes=$(qemu-img info --output=json "$disk" | jq '."virtual-size"')

"$BUILDER" seed --preset vagrant --grow-root -o "$W/seed.iso" >/dev/null || fail "seed --preset vagrant failed"

SSH=$(free_port)
vm_start ci "$disk" --seed "$W/seed.iso" -f "$SSH:22"
vm_wait_serial ci 'login:' 900
start=$SECONDS
until vagrant_ssh "$SSH" ed25519 true 2>/dev/null; do
	[ $((SECONDS - start)) -lt 300 ] || fail "no ssh login as vagrant with the ed25519 key after 300s"
	sleep 2
done
log "vagrant logs in with the ed25519 key after $((SECONDS - start))s"
vagrant_ssh "$SSH" rsa true || fail "vagrant cannot log in with the RSA key"
log "vagrant logs in with the RSA key"

# cloud-init, not an agent, did the work, and it finished without errors.
vagrant_ssh "$SSH" ed25519 'systemctl cat appliance.service prepare-env.service' >/dev/null 2>&1 &&
	fail "the image has agent units; cloud-init is not alone"
status=$(vagrant_ssh "$SSH" ed25519 'cloud-init status --wait --long' 2>&1) || true
grep -q '^status: done' <<<"$status" || fail "cloud-init did not finish cleanly: $status"

vagrant_ssh "$SSH" rsa 'sudo -n true' || fail "vagrant has no passwordless sudo"
[ "$(vagrant_ssh "$SSH" ed25519 'sudo -n id -u')" = 0 ] || fail "sudo -n does not make vagrant root"

# ~vagrant/.ssh/authorized_keys holds both public keys of the seed.
vagrant_ssh "$SSH" ed25519 'cat ~/.ssh/authorized_keys' >"$W/authorized_keys" ||
	fail "cannot read ~vagrant/.ssh/authorized_keys"
for k in rsa ed25519; do
	grep -qF "$(cut -d' ' -f1,2 "${PUB[$k]}")" "$W/authorized_keys" ||
		fail "authorized_keys lacks the $k key: $(cat "$W/authorized_keys")"
done

# growpart + resize_rootfs: the root file system is larger than the whole disk as built.
root_bytes=$(vagrant_ssh "$SSH" ed25519 df -B1 --output=size / | tail -n 1 | tr -d ' ')
[ "$root_bytes" -gt "$built_bytes" ] ||
	fail "the root file system did not grow: $root_bytes bytes, the disk was $built_bytes before +$GROW"
log "root file system: $root_bytes bytes on a $disk_bytes byte disk (built: $built_bytes)"
vagrant_ssh "$SSH" ed25519 'sudo -n journalctl -b -o cat' 2>/dev/null | grep -qi growpart ||
	vagrant_ssh "$SSH" ed25519 'sudo -n grep -qi "resized" /var/log/cloud-init.log' ||
	fail "cloud-init's logs do not mention the resize"

vagrant_ssh "$SSH" ed25519 'sudo -n systemctl poweroff' || true
vm_wait_exit ci 180
log "cloud-init seed test passed"
