#!/bin/bash
# The boot proof of the default appliance (profile "minimal"): build the image, make a seed with an
# env, attach ecs-data and ecs-volatile volumes, grow the disk, boot with qemu and check from outside:
# the steps on the serial console, 503 then 200 over https, /status.json naming the cidata source,
# the grown root, the labelled volumes, the database; a reboot that keeps the data and redoes no
# step; an env with a YAML error that keeps the appliance at 503 with the reason, recovered the way
# the manual says with a corrected env on a new seed made by cloud-localds; no secret of the env in
# the serial console, the journal, status.json, the manifest or /var/log.
source "$(dirname "$0")/lib.sh"
boot_require jq cloud-localds

W=$BOOT_WORK
GROW=1G

img=$(shared_image minimal)
disk=$W/disk.qcow2
data=$W/ecs-data.qcow2
volatile=$W/ecs-volatile.qcow2
for f in disk ecs-data ecs-volatile; do
	[ -f "$img/$f.qcow2" ] || fail "the build wrote no $f.qcow2"
done
overlay_disk "$img/disk.qcow2" "$disk" "$GROW"
overlay_disk "$img/ecs-data.qcow2" "$data"
overlay_disk "$img/ecs-volatile.qcow2" "$volatile"
disk_bytes=$(qemu-img info --output=json "$disk" | jq '."virtual-size"')

log "making the env and its seed"
"$BUILDER" env create ecs.boot.test "$W/env" >"$W/env.log" 2>&1 || { cat "$W/env.log"; fail "env create failed"; }
pub=$(cat "$(ssh_key).pub")
sed -i "s|^ssh_authorized_keys:.*|ssh_authorized_keys:\n  - \"$pub\"|" "$W/env/env.yml"
# Separate ecs-data and ecs-volatile volumes (manual: "change storage:ignore:volatile and/or
# storage:ignore:data to false").
sed -i '/^    ignore:/,/^  [a-z]/ s/^\(      [a-z]*\): true$/\1: false/' "$W/env/env.yml"
grep -A3 '^    ignore:' "$W/env/env.yml" | grep -q 'data: false' || fail "could not set storage:ignore:data"
"$BUILDER" env check "$W/env/env.yml" >/dev/null 2>&1 || fail "the test env does not pass env check"
"$BUILDER" seed --env "$W/env/env.yml" --instance-id iid-boot-test -o "$W/seed.iso"

SSH=$(free_port)
HTTPS=$(free_port)
HTTP=$(free_port)
fwd=(-f "$SSH:22" -f "$HTTPS:443" -f "$HTTP:80")
url=https://127.0.0.1:$HTTPS

step_result() { # PORT STEP: the result of a step from the agent's status
	vm_ssh "$SSH" root appliance-agent status --json | jq -r --arg s "$2" '.steps[] | select(.name == $s) | .result'
}

# --- first boot ---------------------------------------------------------------------------------
vm_start first "$disk" --seed "$W/seed.iso" --disk "$data" --disk "$volatile" "${fwd[@]}"
vm_wait_serial first 'login:|\(prepare-env\)' 600
# While the services start, https answers 503 with Retry-After (the maintenance page).
seen_503=
start=$SECONDS
while [ $((SECONDS - start)) -lt 900 ]; do
	code=$(http_code "$url/")
	if [ "$code" = 503 ]; then
		curl -sk -D "$W/headers" -o "$W/503.html" "$url/" || true
		grep -qi '^Retry-After: 30' "$W/headers" && seen_503=1
	fi
	[ "$code" = 200 ] && break
	sleep 1
done
[ -n "$seen_503" ] || fail "https never answered 503 with Retry-After while starting"
wait_http "$url/" 200 60
curl -sk "$url/" | grep -q 'Appliance Ready' || fail "the status page does not say ready"
[ "$(http_code "http://127.0.0.1:$HTTP/")" = 301 ] || fail "http does not redirect to https"

# Each agent step reports one line on the console, then the appliance says it is ready.
for step in prepare-env prepare-storage prepare-appliance; do
	vm_wait_serial first "Step $step: (ok|changed)" 30
done
vm_wait_serial first 'Appliance ready' 30

curl -sk "$url/status.json" >"$W/status1.json"
jq -e '.state == "ready"' "$W/status1.json" >/dev/null || fail "status.json: $(cat "$W/status1.json")"
jq -e '.env_source | startswith("cidata")' "$W/status1.json" >/dev/null || fail "env source is not cidata"

wait_ssh "$SSH" root 120
# The root filesystem grew to the end of the grown disk.
root_bytes=$(vm_ssh "$SSH" root df -B1 --output=size / | tail -n 1 | tr -d ' ')
vda_bytes=$(vm_ssh "$SSH" root blockdev --getsize64 /dev/vda)
[ "$vda_bytes" = "$disk_bytes" ] || fail "the guest sees $vda_bytes bytes, the disk has $disk_bytes"
[ "$root_bytes" -gt $((disk_bytes - 300 * 1024 * 1024 - 1024 * 1024 * 1024 / 2)) ] ||
	fail "the root filesystem did not grow: $root_bytes bytes on a $disk_bytes byte disk"
log "root filesystem: $root_bytes bytes on a $disk_bytes byte disk"
# /data and /volatile are the labelled volumes.
[ "$(vm_ssh "$SSH" root findmnt -no LABEL /data)" = ecs-data ] || fail "/data is not ecs-data"
[ "$(vm_ssh "$SSH" root findmnt -no LABEL /volatile)" = ecs-volatile ] || fail "/volatile is not ecs-volatile"
# PostgreSQL keeps its data on /data and the database exists.
pgdata=$(vm_ssh "$SSH" root "cd / && readlink -f \"\$(runuser -u postgres -- psql -XtAc 'show data_directory')\"")
case "$pgdata" in /data/*) ;; *) fail "PostgreSQL's data is at '$pgdata', not on /data" ;; esac
# The builder wrote ecs-data with the copy of /var/lib/postgresql (disk/prefill.h): the first boot
# finished the move with renames, it did not copy the data again, and left nothing behind.
vm_ssh "$SSH" root journalctl -b -o cat -u prepare-storage --no-pager >"$W/storage.journal" || true
grep -q "Finishing the move of '/var/lib/postgresql' to '/data/postgresql': its copy there is complete" "$W/storage.journal" ||
	{ cat "$W/storage.journal" >&2; fail "prepare-storage did not take the copy on the image's ecs-data"; }
! grep -q "Moved '/var/lib/postgresql'" "$W/storage.journal" || fail "prepare-storage copied PostgreSQL's data again"
vm_ssh "$SSH" root 'test ! -e /var/lib/postgresql.appliance-moved && test ! -e /data/.postgresql.appliance-tmp' ||
	fail "the move left its old directory or its copy behind"
vm_ssh "$SSH" root "cd / && runuser -u postgres -- psql -XtAc \"select 1 from pg_database where datname = 'ecs'\"" |
	grep -qx 1 || fail "the ecs database does not exist"
vm_ssh "$SSH" root "cd / && runuser -u postgres -- psql -X -q ecs -c 'create table boot_marker (x int); insert into boot_marker values (42)'"
# No secret of the env in the console, the journal, status.json, the manifest or /var/log.
assert_no_secret_leaks first "$SSH" "$url" "$img/manifest.json" "$W/env/env.yml"
host=$(vm_ssh "$SSH" root hostname)
[ "$host" = ecs ] || [ "$host" = ecs.boot.test ] || fail "hostname '$host' is not from appliance:domain"

# --- reboot with the same volumes -----------------------------------------------------------------
vm_ssh "$SSH" root systemctl poweroff 2>/dev/null || true
vm_wait_exit first 180
vm_start second "$disk" --seed "$W/seed.iso" --disk "$data" --disk "$volatile" "${fwd[@]}"
wait_http "$url/" 200 900
wait_ssh "$SSH" root 120
[ "$(vm_ssh "$SSH" root "cd / && runuser -u postgres -- psql -XtAc 'select x from boot_marker' ecs")" = 42 ] ||
	fail "the data did not survive the reboot"
for step in prepare-storage prepare-appliance; do
	res=$(step_result "$SSH" "$step")
	if [ "$res" != ok ]; then
		vm_ssh "$SSH" root journalctl -b -u "$step" --no-pager | tail -n 40 || true
		fail "$step was redone on the second boot (result '$res')"
	fi
done

# --- an env with a YAML error; recovery as the manual says ------------------------------------------
sed 's/^appliance:$/appliance: [unclosed/' "$W/env/env.yml" >"$W/bad-env.yml"
cloud-localds "$W/bad-seed.iso" "$W/bad-env.yml"
cloud-localds "$W/good-seed.iso" "$W/env/env.yml"
vm_ssh "$SSH" root systemctl poweroff 2>/dev/null || true
vm_wait_exit second 180
vm_start third "$disk" --seed "$W/bad-seed.iso" --disk "$data" --disk "$volatile" "${fwd[@]}" \
	--monitor "$W/monitor.sock"
wait_ssh "$SSH" root 600
start=$SECONDS
until curl -sk "$url/status.json" 2>/dev/null | jq -e '.state == "failed"' >/dev/null 2>&1; do
	[ $((SECONDS - start)) -lt 300 ] || fail "a bad env did not set the failed state"
	sleep 2
done
[ "$(http_code "$url/")" = 503 ] || fail "a failed appliance does not answer 503"
curl -sk "$url/" | grep -q 'Invalid env' || fail "the maintenance page does not give the reason"
curl -sk "$url/status.json" | jq -r .failed_reason | grep -q 'Invalid env' || fail "status.json lacks the reason"
vm_ssh "$SSH" root test -e /run/appliance_failed || fail "no /run/appliance_failed"
curl -sk "$url/status.json" | jq -e '.failed_reason | length <= 200 and (contains("\n") | not)' >/dev/null ||
	fail "status.json's reason is not one bounded line"
[ "$(vm_ssh "$SSH" root stat -c %a /run/appliance-failed /run/appliance_failed | sort -u)" = 600 ] ||
	fail "the failed flags are readable by others"
log "swapping the seed for a corrected env made by cloud-localds"
python3 - "$W/monitor.sock" "$W/good-seed.iso" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
time.sleep(0.5)
# The guest locks the tray: force it open, then insert the new medium (which closes it).
s.sendall(b"eject -f seed\n")
time.sleep(1)
s.sendall(("change seed %s raw\n" % sys.argv[2]).encode())
time.sleep(1)
s.close()
PY
start=$SECONDS
until vm_ssh "$SSH" root blkid -p -s LABEL -o value /dev/sr0 2>/dev/null | grep -qx cidata; do
	[ $((SECONDS - start)) -lt 60 ] || fail "the guest does not see the new seed"
	sleep 2
done
vm_ssh "$SSH" root 'rm /run/appliance_failed && systemctl restart appliance' || {
	vm_ssh "$SSH" root journalctl -b -o short-monotonic -u prepare-env -u prepare-storage -u prepare-appliance \
		-u appliance -u appliance-database --no-pager | tail -n 80 >&2 || true
	fail "the restart with the corrected seed failed"
}
wait_http "$url/" 200 600
curl -sk "$url/status.json" | jq -e '.state == "ready" and (.env_source | startswith("cidata"))' >/dev/null ||
	fail "not ready from the cloud-localds seed: $(curl -sk "$url/status.json")"
[ "$(vm_ssh "$SSH" root "cd / && runuser -u postgres -- psql -XtAc 'select x from boot_marker' ecs")" = 42 ] ||
	fail "the data did not survive the failed boot"
vm_ssh "$SSH" root systemctl poweroff 2>/dev/null || true
vm_wait_exit third 180
log "appliance boot test passed"
