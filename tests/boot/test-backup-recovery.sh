#!/bin/bash
# The boot proof of backup and disaster recovery (manual: "Backup", "Desaster Recovery from
# backup"), with two VMs booted one after the other from the shared minimal image and one env.
# The env's backup target is a third, labelled disk (ecs-backup) that the backup mounts
# (appliance:backup:mount) and that both VMs get; a Sentry DSN points at a listener on the
# guest's loopback.
#
# VM 1: ready; the metric switches: the exporters and prometheus on 127.0.0.1 only, every target
#       up, the alert rules loaded, grafana reported as not served; a backup with an empty vault fails, in status and journal, and reaches the
#       listener as a well-formed Sentry event without the DSN's secret or env secrets; then rows
#       in the database and files in the vault, the timer (22:30) running, a backup that succeeds,
#       its backup_last_success served by the node exporter.
# Host: the backup disk holds duplicity volumes encrypted to the env's backup key (gpg
#       --list-packets names its key id).
# VM 2: a fresh appliance with the same env and the backup disk stops in "waiting for recovery";
#       recover-from-backup.sh refuses without --yes-i-am-sure, restores with it, the appliance
#       becomes ready with identical rows and vault checksums; a second recovery refuses over the
#       data; the manual's "duply /root/.duply/appliance-backup fetch ecs-pgdump/ecs.pgdump.gz
#       /root/ecs.pgdump.gz" fetches the dump.
source "$(dirname "$0")/lib.sh"
boot_require jq cloud-localds gpg mkfs.ext4 debugfs

W=$BOOT_WORK
img=$(shared_image minimal)

log "making the env, its seeds and the backup disk"
"$BUILDER" env create ecs.backup.test "$W/env" >"$W/env.log" 2>&1 || { cat "$W/env.log"; fail "env create failed"; }
env=$W/env/env.yml
pub=$(cat "$(ssh_key).pub")
sed -i "s|^ssh_authorized_keys:.*|ssh_authorized_keys:\n  - \"$pub\"|" "$env"
sed -i '/^    ignore:/,/^  [a-z]/ s/^\(      [a-z]*\): true$/\1: false/' "$env"
sed -i 's|^    url: file:///volatile/ecs-backup-test/$|    url: file:///mnt/ecs-backup/\n    mount:\n      type: ext4\n      source: LABEL=ecs-backup\n      target: /mnt/ecs-backup|' "$env"
DSN_SECRET=5ec7e7dsnpart
sed -i "s|^  domain: ecs.backup.test$|  domain: ecs.backup.test\n  sentry:\n    dsn: \"http://0a1b2c3d4e5f:$DSN_SECRET@127.0.0.1:9999/3\"|" "$env"
sed -i "s|^  domain: ecs.backup.test$|  domain: ecs.backup.test\n  metric:\n    exporter: true\n    server: true\n    gui: true|" "$env"
grep -q 'source: LABEL=ecs-backup' "$env" || fail "could not set appliance:backup:mount"
"$BUILDER" env check "$env" >"$W/check.log" 2>&1 || { cat "$W/check.log"; fail "the test env does not pass env check"; }
"$BUILDER" seed --env "$env" --instance-id iid-backup-1 -o "$W/seed1.iso"
"$BUILDER" seed --env "$env" --instance-id iid-backup-2 -o "$W/seed2.iso"
truncate -s 512M "$W/backup.raw"
mkfs.ext4 -q -F -L ecs-backup "$W/backup.raw"

# The backup key's ids, from the env (what gpg --list-packets must name).
python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["appliance"]["backup"]["encrypt"], end="")' \
	"$env" >"$W/backup-key.asc"
GNUPGHOME=$(mktemp -d "$W/gnupg.XXXXXX")
export GNUPGHOME
gpg --batch --with-colons --import-options show-only --import "$W/backup-key.asc" 2>/dev/null |
	awk -F: '$1 == "sec" || $1 == "ssb" || $1 == "pub" || $1 == "sub" { print $5 }' >"$W/key-ids"
[ -s "$W/key-ids" ] || fail "no key ids in the env's backup key"

SSH=$(free_port)
HTTPS=$(free_port)
fwd=(-f "$SSH:22" -f "$HTTPS:443")
url=https://127.0.0.1:$HTTPS
g() { vm_ssh "$SSH" root "cd / && $*"; }
state() { g appliance-agent status --json | jq -r .state; }
backup_result() { g appliance-agent status --json | jq -r '.steps[] | select(.name == "backup") | .result'; }
sql() { g "runuser -u postgres -- psql -XtA -d ecs -c \"$1\""; }
vault_sums() { g 'cd /data/ecs-storage-vault && find . -type f -print0 | sort -z | xargs -0 sha256sum'; }

# --- VM 1 ---------------------------------------------------------------------------------------
for f in disk ecs-data ecs-volatile; do overlay_disk "$img/$f.qcow2" "$W/vm1-$f.qcow2"; done
vm_start vm1 "$W/vm1-disk.qcow2" --seed "$W/seed1.iso" --disk "$W/vm1-ecs-data.qcow2" \
	--disk "$W/vm1-ecs-volatile.qcow2" --disk "$W/backup.raw" "${fwd[@]}"
wait_http "$url/" 200 900
wait_ssh "$SSH" root 120
[ "$(state)" = ready ] || fail "vm1 is not ready: $(g appliance-agent status)"

# The profile from the env, the timer running at 22:30.
g test -s /root/.duply/appliance-backup/conf || fail "no duply profile"
g grep -qx "\"TARGET=file:///mnt/ecs-backup/\"" /root/.duply/appliance-backup/conf || fail "TARGET is not from the env"
for line in VOLSIZE=25 MAX_FULLBKP_AGE=2M MAX_FULL_BACKUPS=1 "SOURCE='/data'"; do
	g grep -qxF "\"$line\"" /root/.duply/appliance-backup/conf || fail "the duply conf lacks $line"
done
g systemctl is-active --quiet appliance-backup.timer || fail "appliance-backup.timer is not running"
g systemctl show -p TimersCalendar appliance-backup.timer | grep -q '22:30:00' || fail "the timer is not at 22:30"

# Metrics: the exporters and prometheus listen on 127.0.0.1 only, scrape each other, hold the rules.
fetch() { g "python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' $1"; }
start=$SECONDS
until [ "$(g "ss -ltnH '( sport = :9100 or sport = :9187 or sport = :9113 or sport = :9090 )'" | wc -l)" -ge 4 ]; do
	[ $((SECONDS - start)) -lt 120 ] || fail "the metric ports do not all listen: $(g ss -ltnH)"
	sleep 3
done
g "ss -ltnH '( sport = :9100 or sport = :9187 or sport = :9113 or sport = :9090 )'" | awk '{ print $4 }' >"$W/metric-listen"
grep -v '^127\.0\.0\.1:' "$W/metric-listen" && fail "a metric port listens beyond the loopback: $(cat "$W/metric-listen")"
start=$SECONDS
until fetch http://127.0.0.1:9090/api/v1/targets >"$W/targets.json" 2>/dev/null &&
	jq -e '[.data.activeTargets[] | select(.health == "up")] | length == 4' "$W/targets.json" >/dev/null; do
	[ $((SECONDS - start)) -lt 180 ] || fail "prometheus targets not all up: $(jq -c '[.data.activeTargets[] | {job: .labels.job, health, lastError}]' "$W/targets.json" 2>/dev/null)"
	sleep 5
done
fetch http://127.0.0.1:9090/api/v1/rules | jq -e '[.data.groups[].rules[].name] | index("NodeRebootsTooOften") and index("BackupMissed")' >/dev/null ||
	fail "prometheus has not loaded the alert rules"
fetch http://127.0.0.1:9187/metrics | grep -q '^pg_up 1' || fail "the postgres exporter does not reach PostgreSQL"
fetch http://127.0.0.1:9113/metrics | grep -q '^nginx_up 1' || fail "the nginx exporter does not reach nginx"
g appliance-agent status | grep -q 'appliance:metric:gui: not served: grafana' || fail "status does not report the gui switch"
log "metrics: 4 targets up on 127.0.0.1, rules loaded, gui reported"

# A Sentry listener on the guest's loopback (python3 comes with duplicity).
g 'cat >/root/sentry-listener.py' <<'PY'
import http.server, json, os, sys
os.makedirs("/root/sentry-events", exist_ok=True)
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        n = len(os.listdir("/root/sentry-events"))
        with open("/root/sentry-events/%d.json" % n, "w") as f:
            json.dump({"path": self.path, "auth": self.headers.get("X-Sentry-Auth", ""),
                       "event": json.loads(body)}, f)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"id": "ok"}')
http.server.HTTPServer(("127.0.0.1", 9999), H).serve_forever()
PY
g systemd-run --unit=sentry-listener python3 /root/sentry-listener.py >/dev/null
sleep 2

# An empty vault: the backup fails, in status, journal and Sentry.
g systemctl start appliance-backup.service && fail "a backup of an empty vault succeeded"
[ "$(backup_result)" = failed ] || fail "status does not show the failed backup"
g appliance-agent status | grep -E '^  backup +failed .*empty' >/dev/null || fail "status text lacks the backup failure"
g journalctl -u appliance-backup.service -p err --no-pager | grep -q 'Backup failed: .*empty' ||
	fail "the journal lacks the backup error"
start=$SECONDS
until [ "$(g 'ls /root/sentry-events 2>/dev/null | wc -l')" -ge 2 ]; do
	[ $((SECONDS - start)) -lt 60 ] || fail "the Sentry listener got $(g 'ls /root/sentry-events | wc -l') events, not 2"
	sleep 2
done
g 'cat /root/sentry-events/*.json' >"$W/sentry-events.json"
jq -s -e 'length >= 2 and all(.[]; .path == "/api/3/store/" and (.auth | test("sentry_key=0a1b2c3d4e5f"))
	and (.event.event_id | test("^[0-9a-f]{32}$")) and (.event.timestamp | test("^[0-9-]{10}T[0-9:]{8}Z$"))
	and .event.level == "error" and .event.tags.domain == "ecs.backup.test")
	and any(.[]; .event.culprit == "appliance-backup.service" and (.event.message | test("empty")))
	and any(.[]; .event.message | test("Service \\(appliance-backup.service\\) failed"))' \
	"$W/sentry-events.json" >/dev/null || fail "the Sentry events are not as expected: $(cat "$W/sentry-events.json")"
grep -q "$DSN_SECRET" "$W/sentry-events.json" && fail "a Sentry event carries the DSN's secret"
secret_key=$(grep -o "SECRET_KEY = '[^']*'" "$env" | head -n 1 | cut -d"'" -f2)
for s in "$secret_key" "PRIVATE KEY"; do
	[ -z "$s" ] || ! grep -qF -- "$s" "$W/sentry-events.json" || fail "a Sentry event carries an env secret"
done
log "Sentry: $(jq -s length "$W/sentry-events.json") events, well-formed, no secret"

# Rows and vault files, then a backup that succeeds.
sql "CREATE TABLE recovery_rows (id int PRIMARY KEY, v text); INSERT INTO recovery_rows SELECT g, md5(g::text) FROM generate_series(1, 5000) g" >/dev/null
g 'mkdir -p /data/ecs-storage-vault/ab/cd && head -c 3000000 /dev/urandom >/data/ecs-storage-vault/ab/cd/doc.bin &&
	echo "a small document" >/data/ecs-storage-vault/note.txt && chown -R 1000:1000 /data/ecs-storage-vault'
rows1=$(sql "SELECT count(*) || ' ' || md5(string_agg(id || ':' || v, ',' ORDER BY id)) FROM recovery_rows")
vault_sums >"$W/vault1.sums"
[ "$(wc -l <"$W/vault1.sums")" = 2 ] || fail "vault checksums: $(cat "$W/vault1.sums")"
g systemctl start appliance-backup.service || fail "the backup failed: $(g journalctl -u appliance-backup -n 40 --no-pager)"
[ "$(backup_result)" = ok ] || fail "status does not show the backup as ok"
g test -s /data/ecs-pgdump/ecs.pgdump.gz || fail "no database dump"
g findmnt /mnt/ecs-backup >/dev/null && fail "the backup target is still mounted after the backup"
g "grep -qx 'backup_last_success 1' /var/lib/prometheus/node-exporter/appliance-backup.prom" ||
	fail "no backup_last_success metric"
fetch http://127.0.0.1:9100/metrics | grep -q '^backup_last_success 1' || fail "the node exporter does not serve backup_last_success"
log "vm1: backup done ($rows1)"
g systemctl poweroff 2>/dev/null || true
vm_wait_exit vm1 180

# --- the backup disk, seen from the host ------------------------------------------------------------
debugfs -R 'ls -p /' "$W/backup.raw" 2>/dev/null | awk -F/ '{ print $6 }' | grep '^duplicity-' >"$W/backup-files" || true
grep -q '^duplicity-full\..*\.vol1\.difftar\.gpg$' "$W/backup-files" || fail "no duplicity volume on the backup disk: $(cat "$W/backup-files")"
vol=$(grep '^duplicity-full\..*\.vol1\.difftar\.gpg$' "$W/backup-files" | head -n 1)
debugfs -R "dump /$vol $W/vol1.gpg" "$W/backup.raw" >/dev/null 2>&1
packets=$(gpg --list-packets "$W/vol1.gpg" 2>&1 || true)
enc_id=$(printf '%s\n' "$packets" | sed -n 's/.*pubkey enc packet: .* keyid \([0-9A-F]*\).*/\1/p' | head -n 1)
[ -n "$enc_id" ] || fail "the volume is not public-key encrypted: $packets"
grep -qx "$enc_id" "$W/key-ids" || fail "the volume is encrypted to $enc_id, not to the env's backup key ($(tr '\n' ' ' <"$W/key-ids"))"
head -c 65536 "$W/vol1.gpg" | grep -qa 'a small document' && fail "the backup volume holds plain text"
log "backup disk: $(wc -l <"$W/backup-files") duplicity files, encrypted to $enc_id"

# --- VM 2: a fresh appliance with the same env and the backup disk -----------------------------------
for f in disk ecs-data ecs-volatile; do overlay_disk "$img/$f.qcow2" "$W/vm2-$f.qcow2"; done
vm_start vm2 "$W/vm2-disk.qcow2" --seed "$W/seed2.iso" --disk "$W/vm2-ecs-data.qcow2" \
	--disk "$W/vm2-ecs-volatile.qcow2" --disk "$W/backup.raw" "${fwd[@]}"
wait_ssh "$SSH" root 900
start=$SECONDS
until [ "$(state 2>/dev/null)" = waiting-for-recovery ]; do
	s=$(state 2>/dev/null || true)
	case "$s" in failed | ready) fail "vm2 is '$s', not waiting for recovery: $(g appliance-agent status)" ;; esac
	[ $((SECONDS - start)) -lt 900 ] || fail "vm2 does not wait for recovery: $(g appliance-agent status)"
	sleep 3
done
g appliance-agent status | grep -q '^Waiting: Empty database, waiting for recovery' || fail "status text lacks the reason"
[ "$(http_code "$url/")" = 503 ] || fail "a waiting appliance does not answer 503"
g systemctl is-failed --quiet appliance.service && fail "appliance.service failed while waiting"

g recover-from-backup.sh >"$W/refused.log" 2>&1 && fail "recover-from-backup.sh ran without --yes-i-am-sure"
grep -q 'yes-i-am-sure' "$W/refused.log" || fail "the refusal does not name --yes-i-am-sure: $(cat "$W/refused.log")"
start=$SECONDS
g recover-from-backup.sh --yes-i-am-sure >"$W/recover.log" 2>&1 || { tail -n 40 "$W/recover.log"; fail "the recovery failed"; }
log "vm2: recovered in $((SECONDS - start))s"
wait_http "$url/" 200 300
[ "$(state)" = ready ] || fail "vm2 is not ready after the recovery"
rows2=$(sql "SELECT count(*) || ' ' || md5(string_agg(id || ':' || v, ',' ORDER BY id)) FROM recovery_rows")
[ "$rows2" = "$rows1" ] || fail "rows differ: '$rows2' after, '$rows1' before"
vault_sums >"$W/vault2.sums"
cmp -s "$W/vault1.sums" "$W/vault2.sums" || fail "vault checksums differ: $(diff "$W/vault1.sums" "$W/vault2.sums")"
[ "$(g stat -c %u /data/ecs-storage-vault/note.txt)" = 1000 ] || fail "the vault's owner was not restored"

g recover-from-backup.sh --yes-i-am-sure >"$W/again.log" 2>&1 && fail "a recovery over existing data ran"
grep -q 'over existing data' "$W/again.log" || fail "the second recovery's refusal: $(cat "$W/again.log")"

# The manual's line, as typed (the target is a mounted disk here, so mount it first).
g 'mkdir -p /mnt/ecs-backup && mount LABEL=ecs-backup /mnt/ecs-backup'
g duply /root/.duply/appliance-backup fetch ecs-pgdump/ecs.pgdump.gz /root/ecs.pgdump.gz >"$W/fetch.log" 2>&1 ||
	{ tail -n 30 "$W/fetch.log"; fail "duply fetch failed"; }
g umount /mnt/ecs-backup
[ "$(g sha256sum /root/ecs.pgdump.gz | cut -d' ' -f1)" = "$(g sha256sum /data/ecs-pgdump/ecs.pgdump.gz | cut -d' ' -f1)" ] ||
	fail "the fetched dump differs from the restored one"
log "vm2: rows '$rows2', $(wc -l <"$W/vault2.sums") vault files identical, duply fetch works"
g systemctl poweroff 2>/dev/null || true
vm_wait_exit vm2 180
log "backup and recovery boot test passed"
