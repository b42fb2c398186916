#!/bin/bash
# The hoster install paths of the shared minimal image, two VMs:
#  a) an OpenStack config drive (label config-2, openstack/latest/meta_data.json with uuid,
#     hostname and public_keys) and no env: root logs in with that key, the host name is the
#     drive's, the appliance is unconfigured; systemd-logind watches the ACPI power button and
#     qemu's system_powerdown (as a hypervisor's "shut down") powers the guest off.
#  b) a NoCloud seed made by cloud-localds with only keys (meta-data public-keys, user-data
#     ssh_authorized_keys) and the ecs-data/ecs-volatile volumes: root logs in with either key,
#     https answers 503 with the unconfigured page, appliance-status says unconfigured,
#     `systemctl is-system-running` is running, the root filesystem grew, /data is ecs-data. Then
#     the manual's procedure as typed on the appliance: env-create.sh DOMAIN DIR, the env edited
#     the way the original appliance's envs are written (extra files owned by app with the old
#     'content' spelling, metric switches, ...), copied to /app/env.yml, reboot: ready (200,
#     "Appliance Ready"), the extra files written with their owners, PostgreSQL's data on /data.
source "$(dirname "$0")/lib.sh"
boot_require jq cloud-localds genisoimage python3

W=$BOOT_WORK
GROW=1G
img=$(shared_image minimal)

ssh_k() { # PORT KEY COMMAND...: as root, offering only KEY
	local port=$1 key=$2
	shift 2
	ssh -q -i "$key" -o IdentitiesOnly=yes -o IdentityAgent=none -p "$port" -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 -o BatchMode=yes root@127.0.0.1 "$@"
}
monitor() { # SOCKET COMMAND: one command on qemu's human monitor
	python3 - "$1" "$2" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
time.sleep(0.5)
s.sendall((sys.argv[2] + "\n").encode())
time.sleep(1)
s.close()
PY
}
system_running() { # PORT: waits for the end of the boot, then the state must be "running"
	local state
	state=$(vm_ssh "$1" root 'timeout 300 systemctl is-system-running --wait' 2>/dev/null) || true
	[ "$state" = running ] ||
		fail "systemctl is-system-running: '$state'; failed units: $(vm_ssh "$1" root systemctl --failed --no-legend 2>&1)"
}

key=$(ssh_key)
pub=$(cat "$key.pub")
ssh-keygen -q -t ed25519 -N '' -C user-data-key -f "$W/id_userdata"
pub2=$(cat "$W/id_userdata.pub")

# --- a) config-2 --------------------------------------------------------------------------------
mkdir -p "$W/config-2/openstack/latest"
jq -n --arg k "$pub" '{uuid: "83679162-1378-4288-a2d4-70e13ec132aa", name: "hoster-a",
	hostname: "hoster-a.novalocal", availability_zone: "nova", public_keys: {mykey: $k}}' \
	>"$W/config-2/openstack/latest/meta_data.json"
genisoimage -quiet -o "$W/config-2.iso" -V config-2 -J -R "$W/config-2"
overlay_disk "$img/disk.qcow2" "$W/a.qcow2"
SSH=$(free_port)
HTTPS=$(free_port)
t0=$SECONDS
vm_start a "$W/a.qcow2" --seed "$W/config-2.iso" -f "$SSH:22" -f "$HTTPS:443" --monitor "$W/a.monitor"
vm_wait_serial a 'login:' 600
wait_ssh "$SSH" root 300
log "a: root logs in with the config-2 key $((SECONDS - t0))s after the start"
host=$(vm_ssh "$SSH" root hostname)
[ "$host" = hoster-a ] || [ "$host" = hoster-a.novalocal ] || fail "a: host name '$host', not the drive's"
vm_ssh "$SSH" root grep -qF "$(cut -d' ' -f2 <<<"$pub")" /root/.ssh/authorized_keys || fail "a: the key is not root's"
vm_ssh "$SSH" root appliance-status >"$W/a.status"
grep -q '^State: unconfigured' "$W/a.status" || fail "a: appliance-status: $(cat "$W/a.status")"
system_running "$SSH"
[ "$(http_code "https://127.0.0.1:$HTTPS/")" = 503 ] || fail "a: https does not answer 503 while unconfigured"
vm_ssh "$SSH" root 'journalctl -b -o cat -u systemd-logind' | grep -q 'Watching system buttons on .*(Power Button)' ||
	fail "a: systemd-logind does not watch the power button: $(vm_ssh "$SSH" root 'journalctl -b -o cat -u systemd-logind; lsmod | grep -E "^(button|evdev)"')"
log "a: ACPI system_powerdown through the qemu monitor"
monitor "$W/a.monitor" system_powerdown
vm_wait_exit a 180

# --- b) NoCloud, keys only; then the manual's procedure --------------------------------------------
printf 'instance-id: iid-hoster-b\nlocal-hostname: hoster-b\npublic-keys:\n  - %s\n' "$pub" >"$W/meta-data"
printf '#cloud-config\nssh_authorized_keys:\n  - %s\n' "$pub2" >"$W/user-data"
cloud-localds "$W/seed.iso" "$W/user-data" "$W/meta-data"
overlay_disk "$img/disk.qcow2" "$W/b.qcow2" "$GROW"
overlay_disk "$img/ecs-data.qcow2" "$W/b-data.qcow2"
overlay_disk "$img/ecs-volatile.qcow2" "$W/b-volatile.qcow2"
disk_bytes=$(qemu-img info --output=json "$W/b.qcow2" | jq '."virtual-size"')
SSH=$(free_port)
HTTPS=$(free_port)
url=https://127.0.0.1:$HTTPS
fwd=(-f "$SSH:22" -f "$HTTPS:443")
t0=$SECONDS
vm_start b "$W/b.qcow2" --seed "$W/seed.iso" --disk "$W/b-data.qcow2" --disk "$W/b-volatile.qcow2" "${fwd[@]}"
vm_wait_serial b 'login:' 600
wait_ssh "$SSH" root 300
log "b: root logs in with the meta-data key $((SECONDS - t0))s after the start"
ssh_k "$SSH" "$W/id_userdata" true || fail "b: the user-data key does not log in"
[ "$(vm_ssh "$SSH" root hostname)" = hoster-b ] || fail "b: host name is not meta-data's local-hostname"
system_running "$SSH"
wait_http "$url/" 503 120
curl -sk "$url/" >"$W/b-503.html"
grep -q 'Appliance Unconfigured' "$W/b-503.html" || fail "b: the 503 page is not the unconfigured one: $(head -c 400 "$W/b-503.html")"
vm_ssh "$SSH" root appliance-status >"$W/b.status"
grep -q '^State: unconfigured' "$W/b.status" || fail "b: appliance-status: $(cat "$W/b.status")"
root_bytes=$(vm_ssh "$SSH" root df -B1 --output=size / | tail -n 1 | tr -d ' ')
[ "$root_bytes" -gt $((disk_bytes - 300 * 1024 * 1024 - 1024 * 1024 * 1024 / 2)) ] ||
	fail "b: the root filesystem did not grow: $root_bytes bytes on a $disk_bytes byte disk"
log "b: root filesystem $root_bytes bytes on a $disk_bytes byte disk"
[ "$(vm_ssh "$SSH" root findmnt -no LABEL /data)" = ecs-data ] || fail "b: /data is not ecs-data"

log "b: the manual's procedure: env-create.sh, edit, cp to /app/env.yml, reboot"
vm_ssh "$SSH" root 'env-create.sh hoster.boot.test ~/hoster.boot.test/' >"$W/env-create.log" 2>&1 ||
	fail "b: env-create.sh failed: $(cat "$W/env-create.log")"
vm_ssh "$SSH" root 'cat ~/hoster.boot.test/env.yml' >"$W/env.yml"
# The edit, in the original appliance's style (profiles/env-template.yml, original-appliance.md):
# the admin's key, the separate volumes, extra files with "user:group" owners (one owned by app,
# one with the deprecated 'content'), octal permissions as strings, the metric switches.
sed -i "s|^ssh_authorized_keys:.*|ssh_authorized_keys:\n  - \"$pub\"|" "$W/env.yml"
sed -i '/^    ignore:/,/^  [a-z]/ s/^\(      [a-z]*\): true$/\1: false/' "$W/env.yml"
python3 - "$W/env.yml" <<'PY'
import sys
p = sys.argv[1]
lines = open(p).read().split("\n")
i = lines.index("appliance:")
lines[i + 1:i + 1] = [
    "  metric:",
    "    exporter: false",
    "    server: false",
    "    gui: false",
    "    pghero: false",
    "  extra:",
    "    files:",
    "      - path: /app/extra-original.conf",
    "        contents: |",
    "            # written for the app user",
    "            key = value",
    "        owner: app:app",
    "        permissions: \"0640\"",
    "      - path: /etc/appliance-extra-old.conf",
    "        content: old spelling",
    "        owner: root:root",
    "        permissions: \"0600\"",
]
open(p, "w").write("\n".join(lines))
PY
grep -A3 '^    ignore:' "$W/env.yml" | grep -q 'data: false' || fail "could not set storage:ignore:data"
"$BUILDER" env check "$W/env.yml" >"$W/env-check.log" 2>&1 || fail "the edited env fails env check: $(cat "$W/env-check.log")"
vm_ssh "$SSH" root 'cat > ~/hoster.boot.test/env.yml' <"$W/env.yml"
vm_ssh "$SSH" root 'cp ~/hoster.boot.test/env.yml /app/env.yml && chmod 0600 /app/env.yml'
vm_ssh "$SSH" root reboot 2>/dev/null || true
t0=$SECONDS
# The reboot: sshd goes away, then https answers 200.
start=$SECONDS
while vm_ssh "$SSH" root true 2>/dev/null; do
	[ $((SECONDS - start)) -lt 120 ] || fail "b: the guest did not go down for the reboot"
	sleep 2
done
wait_http "$url/" 200 900
log "b: ready $((SECONDS - t0))s after the reboot"
curl -sk "$url/" | grep -q 'Appliance Ready' || fail "b: the status page does not say ready"
curl -sk "$url/status.json" >"$W/b-status.json"
jq -e '.state == "ready" and (.env_source | startswith("local"))' "$W/b-status.json" >/dev/null ||
	fail "b: status.json: $(cat "$W/b-status.json")"
wait_ssh "$SSH" root 120
system_running "$SSH"
# (vm_ssh hands one command line to the guest's shell: quote the format there)
[ "$(vm_ssh "$SSH" root "stat -c '%U:%G %a' /app/extra-original.conf")" = "app:app 640" ] ||
	fail "b: /app/extra-original.conf: $(vm_ssh "$SSH" root "stat -c '%U:%G %a' /app/extra-original.conf")"
[ "$(vm_ssh "$SSH" root cat /app/extra-original.conf)" = "$(printf '# written for the app user\nkey = value')" ] ||
	fail "b: the content of /app/extra-original.conf"
[ "$(vm_ssh "$SSH" root cat /etc/appliance-extra-old.conf)" = "old spelling" ] || fail "b: the 'content' file"
[ "$(vm_ssh "$SSH" root "stat -c '%U %a' /etc/appliance-extra-old.conf")" = "root 600" ] || fail "b: the 'content' file's mode"
pgdata=$(vm_ssh "$SSH" root "cd / && readlink -f \"\$(runuser -u postgres -- psql -XtAc 'show data_directory')\"")
case "$pgdata" in /data/*) ;; *) fail "b: PostgreSQL's data is at '$pgdata', not on /data" ;; esac
if ssh_k "$SSH" "$W/id_userdata" true; then
	log "b: the seed's user-data key still logs in next to the env's"
else
	log "b: the env's ssh_authorized_keys replaced the seed's user-data key"
fi
vm_ssh "$SSH" root appliance-status >"$W/b-ready.status"
grep -q '^State: ready' "$W/b-ready.status" || fail "b: appliance-status: $(cat "$W/b-ready.status")"
grep -q 'letsencrypt.*not supported' "$W/b-ready.status" ||
	log "b: note: appliance-status names no unsupported letsencrypt key: $(grep -i 'not supported' "$W/b-ready.status" | head -3)"
vm_ssh "$SSH" root systemctl poweroff 2>/dev/null || true
vm_wait_exit b 180
log "install-hoster boot test passed"
