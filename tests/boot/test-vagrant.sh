#!/bin/bash
# The libvirt box of `image --format box` with the real client (Debian's vagrant 2.3.4 and
# vagrant-libvirt 0.11.2; ../shared recipe "Vagrant with vagrant-libvirt"): a network namespace of
# the test's own holds libvirtd, virtlogd, vagrant's management network (private addresses exist
# only there) and vagrant; a private mount namespace gives libvirt its own config, run, lib, cache
# and log directories below the work directory, so nothing of libvirt stays on the machine.
# Checked: `vagrant box add` of the catalog (version and sha256), `vagrant up --provider=libvirt`
# (driver qemu, TCG) to ssh, `vagrant ssh -c 'sudo appliance-status'` unconfigured, no insecure key
# left in authorized_keys once Vagrant put its own in, the manual's env procedure to ready (https
# 200 from the namespace), `vagrant halt` / `up` keeping /data, `vagrant destroy`.
source "$(dirname "$0")/lib.sh"
boot_require jq ip unshare
for t in vagrant libvirtd virtlogd virsh dnsmasq; do
	command -v "$t" >/dev/null || { echo "vagrant: $t not installed (ci/install-deps.sh), skipping"; exit 77; }
done
vagrant plugin list 2>/dev/null | grep -q vagrant-libvirt || { echo "vagrant: no vagrant-libvirt plugin, skipping"; exit 77; }

W=$BOOT_WORK
NS=appliance-vagrant-$$

box=$(shared_image minimal box)
catalog=$box/appliance-minimal.box.json
[ -f "$catalog" ] || fail "no catalog: $(ls "$box")"

ip netns add "$NS"
vagrant_cleanup() {
	ip netns pids "$NS" 2>/dev/null | xargs -r kill 2>/dev/null || true
	sleep 1
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
	ip netns delete "$NS" 2>/dev/null || true
	boot_cleanup
}
trap vagrant_cleanup EXIT

cat >"$W/inner.sh" <<'INNER'
set -euo pipefail
W=$1
catalog=$2
insecure_rsa=$3
insecure_ed=$4
log() { printf '[%s] %s\n' "$(date +%T)" "$*"; }
fail() { log "FAIL: $*"; exit 1; }
ip link set lo up

# libvirt's directories, private to this mount namespace.
for d in /etc/libvirt /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
	mkdir -p "$W/libvirt$d" "$d"
done
cp -a /etc/libvirt/. "$W/libvirt/etc/libvirt/"
cat >>"$W/libvirt/etc/libvirt/qemu.conf" <<'CONF'
user = "root"
group = "root"
security_driver = "none"
CONF
for d in /etc/libvirt /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
	mount --bind "$W/libvirt$d" "$d"
done

pids=()
stop_daemons() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 1; done
	done
}
trap stop_daemons EXIT
virtlogd -d -p "$W/virtlogd.pid"
pids+=("$(cat "$W/virtlogd.pid")")
libvirtd -d -p "$W/libvirtd.pid"
for _ in $(seq 50); do [ -s "$W/libvirtd.pid" ] && break; sleep 0.2; done
pids+=("$(cat "$W/libvirtd.pid")")
for _ in $(seq 60); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 1; done
virsh -c qemu:///system version >/dev/null || fail "libvirtd does not answer"
log "libvirtd ${pids[1]} and virtlogd ${pids[0]} running in the namespace"
# The pool vagrant-libvirt uploads the box's volumes to (below the private /var/lib/libvirt).
mkdir -p /var/lib/libvirt/images
virsh -c qemu:///system pool-info default >/dev/null 2>&1 || {
	virsh -c qemu:///system pool-define-as default dir --target /var/lib/libvirt/images >/dev/null &&
		virsh -c qemu:///system pool-start default >/dev/null
} || fail "cannot make the default storage pool"

export VAGRANT_HOME=$W/vagrant.d VAGRANT_DEFAULT_PROVIDER=libvirt VAGRANT_CHECKPOINT_DISABLE=1
mkdir -p "$W/vm"
cd "$W/vm"
t=$SECONDS
vagrant box add --provider libvirt "$catalog" >"$W/box-add.log" 2>&1 || { cat "$W/box-add.log"; fail "vagrant box add"; }
grep -q "Successfully added box 'appliance-minimal' (v" "$W/box-add.log" || fail "box add: $(cat "$W/box-add.log")"
log "vagrant box add: $((SECONDS - t))s"
cat >Vagrantfile <<'VF'
Vagrant.configure("2") do |config|
  config.vm.box = "appliance-minimal"
  config.vm.boot_timeout = 900
  config.vm.provider :libvirt do |libvirt|
    libvirt.driver = "qemu"
  end
end
VF

vs() { vagrant ssh -c "$1" -- -q 2>/dev/null; }
wait_https() { # CODE TIMEOUT: the guest's address is read while it is up (see after vagrant up)
	local start=$SECONDS code
	while code=$(curl -sk -o /dev/null -m 10 -w '%{http_code}' "https://$ip/" || true); [ "$code" != "$1" ]; do
		[ $((SECONDS - start)) -lt "$2" ] || fail "https://$ip/ answers $code, not $1, after $2s"
		sleep 3
	done
	log "https://$ip/: $1 after $((SECONDS - start))s"
}

t=$SECONDS
vagrant up --provider=libvirt >"$W/up1.log" 2>&1 || { tail -n 40 "$W/up1.log"; fail "vagrant up"; }
log "vagrant up: $((SECONDS - t))s"
# The address on the management network (the same DHCP lease after a reboot); ssh-config fails
# while the guest is down.
ip=$(vagrant ssh-config | awk '$1 == "HostName" { print $2 }')
[ -n "$ip" ] || fail "vagrant ssh-config gives no HostName"
vs 'sudo appliance-status' >"$W/status1" || fail "vagrant ssh -c 'sudo appliance-status' failed"
grep -q '^State: unconfigured' "$W/status1" || fail "appliance-status: $(cat "$W/status1")"
log "vagrant ssh -c 'sudo appliance-status': unconfigured"

# Vagrant replaced the insecure key with its own; none of the insecure keys may stay.
start=$SECONDS
while vs 'cat ~/.ssh/authorized_keys' >"$W/authorized_keys"; grep -qF -e "$insecure_rsa" -e "$insecure_ed" "$W/authorized_keys"; do
	[ $((SECONDS - start)) -lt 60 ] || fail "an insecure key stays in authorized_keys: $(cat "$W/authorized_keys")"
	sleep 3
done
[ -s "$W/authorized_keys" ] || fail "authorized_keys is empty"
log "authorized_keys: $(wc -l <"$W/authorized_keys") key(s), no insecure one"

# The manual's procedure on the box.
vs 'sudo env-create.sh vagrant.boot.test /root/vagrant.boot.test/' >"$W/env-create.log" || fail "env-create.sh: $(cat "$W/env-create.log")"
vs "sudo sed -i '/^    ignore:/,/^  [a-z]/ s/^\\(      [a-z]*\\): true\$/\\1: false/' /root/vagrant.boot.test/env.yml" ||
	fail "editing the env"
vs 'sudo cp /root/vagrant.boot.test/env.yml /app/env.yml && sudo chmod 0600 /app/env.yml' || fail "cp to /app/env.yml"
vs 'sudo reboot' || true
sleep 10
wait_https 200 900
vs 'sudo appliance-status' | grep -q '^State: ready' || fail "not ready after the reboot"
[ "$(vs 'findmnt -no LABEL /data')" = ecs-data ] || fail "/data is not the box's ecs-data disk"
vs 'echo kept | sudo tee /data/vagrant-marker >/dev/null' || fail "writing /data"

t=$SECONDS
vagrant halt >"$W/halt.log" 2>&1 || { cat "$W/halt.log"; fail "vagrant halt"; }
log "vagrant halt: $((SECONDS - t))s"
t=$SECONDS
vagrant up --provider=libvirt >"$W/up2.log" 2>&1 || { tail -n 40 "$W/up2.log"; fail "the second vagrant up"; }
log "second vagrant up: $((SECONDS - t))s"
ip=$(vagrant ssh-config | awk '$1 == "HostName" { print $2 }')
[ "$(vs 'cat /data/vagrant-marker')" = kept ] || fail "/data lost its file across halt/up"
wait_https 200 900
vs 'cat ~/.ssh/authorized_keys' >"$W/authorized_keys2"
! grep -qF -e "$insecure_rsa" -e "$insecure_ed" "$W/authorized_keys2" || fail "an insecure key is back after halt/up"

t=$SECONDS
vagrant destroy -f >"$W/destroy.log" 2>&1 || { cat "$W/destroy.log"; fail "vagrant destroy"; }
log "vagrant destroy: $((SECONDS - t))s"
[ -z "$(virsh -c qemu:///system list --all --name | tr -d '\n')" ] || fail "a domain is left: $(virsh -c qemu:///system list --all)"
vagrant box remove appliance-minimal >/dev/null 2>&1 || true
for net in $(virsh -c qemu:///system net-list --name); do virsh -c qemu:///system net-destroy "$net" >/dev/null; done
log "vagrant test passed inside the namespace"
INNER

rsa=$(cut -d' ' -f2 "$SRCDIR/seed/vagrant.pub")
ed=$(cut -d' ' -f2 "$SRCDIR/seed/vagrant.pub.ed25519")
ip netns exec "$NS" unshare -m --propagation private bash "$W/inner.sh" "$W" "$catalog" "$rsa" "$ed" ||
	fail "the vagrant run failed (logs in $W when KEEP_BOOT_WORK is set)"
[ -z "$(ip netns pids "$NS")" ] || fail "processes left in the namespace: $(ip netns pids "$NS")"
ip netns delete "$NS"
log "vagrant boot test passed"
