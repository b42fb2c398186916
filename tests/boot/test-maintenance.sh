#!/bin/bash
# The boot proof of the manual's maintenance procedures on the shared "minimal" image, one boot,
# every check from outside the VM (ssh, curl, openssl, NSS):
#  - client certificates: create-client-cert.sh prints a 16-character transport password once and
#    writes a PKCS#12 that NSS's pk12util imports; curl with its certificate makes nginx pass
#    verify=SUCCESS with the serial and DN; "openssl verify -crl_check" accepts it until
#    revoke-client-cert.sh, after which nginx refuses it and the CRL lists it;
#  - create-internal-user.sh: the minimal profile's hook keeps the user in the ecs database with the
#    printed password (bcrypt); a second call updates it; wrong arguments give the usage;
#  - reconfigure: an env with a typo in /app/env.yml makes env-update.sh and appliance-update exit
#    non-zero with FILE:LINE:COLUMN while https stays 200 and /run/active-env.yml is unchanged; a
#    valid change (domain, client_certs_mandatory, an extra file, ssh keys, the update schedule) is
#    applied by "systemctl start appliance-update" without a reboot and without restarting the
#    appliance unit;
#  - updates: appliance-update upgrades a package from a local apt repository on an attached disk
#    (made here with dpkg-deb and apt-ftparchive) and the appliance is ready again;
#  - Let's Encrypt: pebble and dehydrated (from that repository, fetched with apt-get download)
#    inside the guest: appliance-update installs pebble's certificate; with pebble stopped and no
#    certificate left, the self-signed one, and the appliance stays ready.
source "$(dirname "$0")/lib.sh"
boot_require jq openssl pk12util certutil dpkg-deb apt-ftparchive mkfs.ext4

W=$BOOT_WORK
img=$(shared_image minimal)
disk=$W/disk.qcow2
overlay_disk "$img/disk.qcow2" "$disk"

log "making the env, its seed and the apt repository disk"
"$BUILDER" env create ecs.boot.test "$W/env" >"$W/env.log" 2>&1 || { cat "$W/env.log"; fail "env create failed"; }
pub=$(cat "$(ssh_key).pub")
ssh-keygen -q -t ed25519 -N '' -C second-key -f "$W/second"
pub2=$(cat "$W/second.pub")
sed -i "s|^ssh_authorized_keys:.*|ssh_authorized_keys:\n  - \"$pub\"|" "$W/env/env.yml"
# No package upgrade from the image's own sources (they are not reachable from here).
sed -i 's|^  # update:$|  update:\n    automatic: false|' "$W/env/env.yml"
"$BUILDER" env check "$W/env/env.yml" >/dev/null 2>&1 || fail "the test env does not pass env check"
"$BUILDER" seed --env "$W/env/env.yml" --instance-id iid-maintenance -o "$W/seed.iso"

# The local apt repository: appliance-probe 1.0 (installed by hand) and 2.0 (the update).
for v in 1.0 2.0; do
	p=$W/pkg-$v
	mkdir -p "$p/DEBIAN" "$p/usr/share/appliance-probe"
	printf 'Package: appliance-probe\nVersion: %s\nArchitecture: all\nMaintainer: test <test@example.org>\nDescription: update probe\n' \
		"$v" >"$p/DEBIAN/control"
	echo "$v" >"$p/usr/share/appliance-probe/version"
	mkdir -p "$W/repo"
	dpkg-deb -b --root-owner-group "$p" "$W/repo/appliance-probe_${v}_all.deb" >/dev/null
done
# pebble (the ACME test CA) and dehydrated with what the image lacks of their dependencies.
have=$(jq -r '.. | objects | select(has("packages")) | .packages[]' "$img/manifest.json" | awk '{print $1}' | sed 's/:.*//' | sort -u)
need=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
	--no-enhances pebble dehydrated | grep -v '^ ' | grep -v '<' | sort -u)
le_debs=$(comm -23 <(echo "$need") <(echo "$have") | tr '\n' ' ')
(cd "$W/repo" && apt-get download $le_debs) >"$W/apt-download.log" 2>&1 ||
	{ cat "$W/apt-download.log"; fail "apt-get download $le_debs failed"; }
(cd "$W/repo" && apt-ftparchive packages . >Packages && apt-ftparchive release . >Release)
truncate -s 64M "$W/repo.img"
mkfs.ext4 -q -L apt-repo -d "$W/repo" "$W/repo.img"

SSH=$(free_port)
HTTPS=$(free_port)
url=https://127.0.0.1:$HTTPS
vm() { vm_ssh "$SSH" root "$@"; }
step_field() { # STEP FIELD
	vm appliance-agent status --json | jq -r --arg s "$1" --arg f "$2" '.steps[] | select(.name == $s) | .[$f]'
}

t0=$SECONDS
vm_start vm "$disk" --seed "$W/seed.iso" --disk "$W/repo.img" -f "$SSH:22" -f "$HTTPS:443"
wait_http "$url/" 200 900
wait_ssh "$SSH" root 120
boot_id=$(vm cat /proc/sys/kernel/random/boot_id)
appliance_since=$(vm systemctl show appliance.service -p ActiveEnterTimestampMonotonic --value)

# --- client certificates ---------------------------------------------------------------------------
vm test -s /data/ecs-ca/ca.cert.pem -a -s /data/ecs-ca/crl.pem || fail "no CA and CRL on /data/ecs-ca"
vm "stat -c '%a %u' /data/ecs-ca" | grep -qx '700 1000' || fail "/data/ecs-ca is not 0700 uid 1000"
vm cat /data/ecs-ca/ca.cert.pem >"$W/ca.pem"
openssl x509 -in "$W/ca.pem" -noout -text >"$W/ca.txt"
grep -q 'Public-Key: (2048 bit)' "$W/ca.txt" || fail "the CA is not RSA 2048"
grep -q 'CA:TRUE' "$W/ca.txt" || fail "the CA certificate is no CA"
ca_days=$((($(date -d "$(openssl x509 -in "$W/ca.pem" -noout -enddate | cut -d= -f2)" +%s) - $(date +%s)) / 86400))
[ "$ca_days" -ge 3649 ] || fail "the CA is valid $ca_days days, not 10 years"

out=$(vm 'create-client-cert.sh alice@example.org "Alice Example"') || fail "create-client-cert.sh failed: $out"
echo "$out"
pw=$(echo "$out" | sed -n 's/^Transport password.*: \([a-z0-9]*\)$/\1/p')
[ "${#pw}" = 16 ] || fail "no 16-character transport password in: $out"
p12=$(echo "$out" | sed -n 's/^Client certificate.*: \(\/.*\.p12\)$/\1/p')
vm cat "'$p12'" >"$W/alice.p12"
openssl pkcs12 -in "$W/alice.p12" -passin "pass:$pw" -nodes -clcerts -out "$W/alice.pem" 2>/dev/null ||
	fail "the p12 does not open with the printed password"
! openssl pkcs12 -in "$W/alice.p12" -passin pass:wrongpassword1234 -nodes -out /dev/null 2>/dev/null ||
	fail "the p12 opens with a wrong password"
days=$((($(date -d "$(openssl x509 -in "$W/alice.pem" -noout -enddate | cut -d= -f2)" +%s) - $(date +%s)) / 86400))
[ "$days" = 6 ] || [ "$days" = 7 ] || fail "the client certificate is valid $days days, not 7"
mkdir "$W/nss"
certutil -N -d "sql:$W/nss" --empty-password
pk12util -i "$W/alice.p12" -d "sql:$W/nss" -W "$pw" >"$W/pk12util.log" 2>&1 || { cat "$W/pk12util.log"; fail "pk12util cannot import the p12"; }
certutil -L -d "sql:$W/nss" | grep -q 'Alice Example' || fail "NSS does not list the imported certificate"
log "pk12util imported the p12"

serial=$(openssl x509 -in "$W/alice.pem" -noout -serial | cut -d= -f2)
seen=$(curl -sk -m 10 --cert "$W/alice.pem" "$url/client-cert")
echo "$seen"
echo "$seen" | grep -qx 'verify=SUCCESS' || fail "nginx did not verify the client certificate: $seen"
echo "$seen" | grep -qx "serial=$serial" || fail "the serial passed on is not $serial: $seen"
echo "$seen" | grep -q '^dn=.*CN=Alice Example' || fail "the DN passed on lacks the name: $seen"
curl -sk -m 10 "$url/client-cert" | grep -qx 'verify=NONE' || fail "without a certificate verify is not NONE"
vm cat /data/ecs-ca/crl.pem >"$W/crl.pem"
openssl verify -CAfile "$W/ca.pem" -CRLfile "$W/crl.pem" -crl_check "$W/alice.pem" || fail "openssl verify refuses the new certificate"
usage=$(vm create-client-cert.sh 2>&1; echo "rc=$?")
echo "$usage" | grep -q 'Usage: create-client-cert.sh EMAIL NAME' || fail "no usage without arguments: $usage"
echo "$usage" | grep -qx 'rc=2' || fail "wrong arguments do not exit 2: $usage"

vm "revoke-client-cert.sh '$serial'" || fail "revoke-client-cert.sh failed"
vm cat /data/ecs-ca/crl.pem >"$W/crl2.pem"
! openssl verify -CAfile "$W/ca.pem" -CRLfile "$W/crl2.pem" -crl_check "$W/alice.pem" 2>&1 | tee "$W/verify.log" ||
	fail "openssl verify still accepts the revoked certificate"
grep -q 'certificate revoked' "$W/verify.log" || fail "openssl does not say revoked: $(cat "$W/verify.log")"
code=$(curl -sk -m 10 -o "$W/revoked.html" -w '%{http_code}' --cert "$W/alice.pem" "$url/client-cert" || true)
[ "$code" = 400 ] || { [ "$code" = 200 ] && grep -q '^verify=FAILED' "$W/revoked.html"; } ||
	fail "the revoked certificate is not refused (HTTP $code: $(head -c 200 "$W/revoked.html"))"
log "revoked certificate: HTTP $code"

# --- create-internal-user.sh: the profile's hook, a users table in the ecs database ---------------------
psql_ecs() { vm "cd / && runuser -u postgres -- psql -XtAc \"$1\" ecs"; }
out=$(vm 'create-internal-user.sh anna@example.org "Anna" "Berger" f') || fail "create-internal-user.sh failed: $out"
echo "$out"
echo "$out" | grep -q 'created' || fail "the first call did not create the user: $out"
upw=$(echo "$out" | sed -n 's/^Password (shown once): \([a-z0-9]*\)$/\1/p')
[ "${#upw}" = 16 ] || fail "no 16-character password in: $out"
[ "$(psql_ecs "select first_name || ' ' || last_name || ' ' || gender from internal_users where email = 'anna@example.org'")" = 'Anna Berger f' ] ||
	fail "the user is not in the database"
[ "$(psql_ecs "select password_hash = crypt('$upw', password_hash) from internal_users where email = 'anna@example.org'")" = t ] ||
	fail "the printed password is not the stored one"
out=$(vm 'create-internal-user.sh anna@example.org "Anna" "Berger-Huber" f') || fail "the second call failed: $out"
echo "$out" | grep -q 'updated' || fail "the second call did not update the user: $out"
[ "$(psql_ecs "select count(*) || ' ' || max(last_name) from internal_users")" = '1 Berger-Huber' ] || fail "the update made a second user"
usage=$(vm 'create-internal-user.sh anna@example.org Anna' 2>&1; echo "rc=$?")
echo "$usage" | grep -q 'Usage: create-internal-user.sh EMAIL' && echo "$usage" | grep -qx 'rc=2' ||
	fail "wrong arguments do not give the usage: $usage"

# --- reconfigure: a typo changes nothing ---------------------------------------------------------------
env_sum=$(vm sha256sum /run/active-env.yml)
sed 's/^  domain: ecs.boot.test$/  domain: [ecs.boot.test/' "$W/env/env.yml" >"$W/typo.yml"
typo_line=$(grep -n '^  domain: \[' "$W/typo.yml" | cut -d: -f1)
vm 'cat >/app/env.yml && chmod 600 /app/env.yml' <"$W/typo.yml"
if vm env-update.sh >"$W/env-update.log" 2>&1; then fail "env-update.sh accepted a typo"; fi
cat "$W/env-update.log"
grep -Eq "/app/env.yml:$((typo_line + 1)):[0-9]+:|/app/env.yml:$typo_line:[0-9]+:" "$W/env-update.log" ||
	fail "env-update.sh does not name /app/env.yml:LINE:COLUMN"
if vm systemctl start appliance-update 2>/dev/null; then fail "appliance-update accepted a typo"; fi
[ "$(vm sha256sum /run/active-env.yml)" = "$env_sum" ] || fail "a bad env changed /run/active-env.yml"
[ "$(http_code "$url/")" = 200 ] || fail "a bad env took https down"
vm test ! -e /run/appliance_failed || fail "a bad env set the failed flag"
curl -sk "$url/status.json" | jq -e '.state == "ready"' >/dev/null || fail "status.json is not ready after a typo"
[ "$(step_field appliance-update result)" = refused ] || fail "the refused update is not recorded"

# --- reconfigure: a valid change, applied without a reboot ------------------------------------------
curl -sk "$url/" -o /dev/null -w '%{http_code}\n'
bob=$(vm 'create-client-cert.sh bob@example.org Bob 30')
bpw=$(echo "$bob" | sed -n 's/^Transport password.*: \([a-z0-9]*\)$/\1/p')
vm cat /root/client-certs/Bob.p12 >"$W/bob.p12"
openssl pkcs12 -in "$W/bob.p12" -passin "pass:$bpw" -nodes -clcerts -out "$W/bob.pem" 2>/dev/null || fail "Bob's p12"
sed -e 's/ecs\.boot\.test/ecs2.boot.test/g' \
	-e 's/^    client_certs_mandatory: false$/    client_certs_mandatory: true/' \
	-e "s|^  - \"$pub\"$|  - \"$pub\"\n  - \"$pub2\"|" \
	-e 's|^    automatic: false$|    automatic: false\n    oncalendar: "*-*-* 04:15:00"\n  extra:\n    files:\n      - path: /etc/appliance-probe.conf\n        contents: reconfigured\n        permissions: "0640"|' \
	"$W/env/env.yml" >"$W/env2.yml"
"$BUILDER" env check "$W/env2.yml" >/dev/null || fail "the changed env does not pass env check"
vm 'cat >/app/env.yml && chmod 600 /app/env.yml' <"$W/env2.yml"
vm env-update.sh || fail "env-update.sh refused a valid env"
vm systemctl start appliance-update || { vm journalctl -u appliance-update --no-pager | tail -30; fail "appliance-update failed"; }
vm appliance-status
msg=$(step_field appliance-update message)
log "appliance-update: $msg"
for what in hostname 'ssh keys' 'extra files' 'tls certificate' 'client ca' 'update timer' templates; do
	case "$msg" in *"$what"*) ;; *) fail "appliance-update did not record '$what': $msg" ;; esac
done
[ "$(vm cat /proc/sys/kernel/random/boot_id)" = "$boot_id" ] || fail "the appliance rebooted"
[ "$(vm systemctl show appliance.service -p ActiveEnterTimestampMonotonic --value)" = "$appliance_since" ] ||
	fail "appliance.service was restarted"
[ "$(vm hostname)" = ecs2 ] || [ "$(vm hostname)" = ecs2.boot.test ] || fail "hostname is '$(vm hostname)'"
echo | openssl s_client -connect "127.0.0.1:$HTTPS" -cert "$W/bob.pem" 2>/dev/null | openssl x509 -noout -subject |
	grep -q 'ecs2.boot.test' || fail "the TLS certificate is not for the new domain"
code=$(http_code "$url/client-cert")
[ "$code" = 400 ] || fail "client_certs_mandatory: a request without a certificate got HTTP $code"
seen=$(curl -sk -m 10 --cert "$W/bob.pem" "$url/client-cert")
echo "$seen" | grep -qx 'verify=SUCCESS' || fail "Bob's certificate is not verified after the change: $seen"
[ "$(curl -sk -m 10 --cert "$W/bob.pem" "$url/status.json" | jq -r .state)" = ready ] || fail "not ready after the update"
[ "$(vm cat /etc/appliance-probe.conf)" = reconfigured ] || fail "the extra file is not written"
[ "$(vm stat -c %a /etc/appliance-probe.conf)" = 640 ] || fail "the extra file's mode"
vm_ssh_second() { ssh -q -i "$W/second" -p "$SSH" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes root@127.0.0.1 "$@"; }
vm_ssh_second true || fail "the added ssh key does not log in"
vm systemctl show appliance-update.timer -p TimersCalendar --value | grep -q '04:15:00' ||
	fail "the timer's schedule is not the env's: $(vm systemctl show appliance-update.timer -p TimersCalendar --value)"
vm systemctl is-enabled appliance-update.timer >/dev/null || fail "appliance-update.timer is not enabled"
vm grep -qx "'APT::Periodic::Unattended-Upgrade \"0\";'" /etc/apt/apt.conf.d/20auto-upgrades ||
	fail "unattended upgrades are not off with automatic: false"

# --- package update from a local apt repository ---------------------------------------------------
dev=$(vm blkid -L apt-repo) || fail "the guest does not see the repository disk"
vm "mkdir -p /mnt/apt-repo && mount -o ro $dev /mnt/apt-repo && dpkg -i /mnt/apt-repo/appliance-probe_1.0_all.deb >/dev/null"
vm 'mkdir -p /etc/apt/off && mv /etc/apt/sources.list.d/* /etc/apt/off/ 2>/dev/null; mv /etc/apt/sources.list /etc/apt/off/ 2>/dev/null;
    echo "deb [trusted=yes] file:/mnt/apt-repo ./" >/etc/apt/sources.list.d/apt-repo.list'
sed -i 's/^    automatic: false$/    automatic: true/' "$W/env2.yml"
vm 'cat >/app/env.yml' <"$W/env2.yml"
vm env-update.sh >/dev/null 2>&1 || fail "env-update.sh refused automatic: true"
vm systemctl start appliance-update || { vm journalctl -u appliance-update --no-pager | tail -30; fail "the package update failed"; }
[ "$(vm dpkg-query -W -f='\${Version}' appliance-probe)" = 2.0 ] || fail "appliance-probe was not upgraded"
step_field appliance-update message | grep -q packages || fail "the update does not record the packages"
vm grep -qx "'APT::Periodic::Unattended-Upgrade \"1\";'" /etc/apt/apt.conf.d/20auto-upgrades ||
	fail "unattended upgrades are not on with automatic: true"
[ "$(curl -sk -m 10 --cert "$W/bob.pem" "$url/status.json" | jq -r .state)" = ready ] ||
	fail "not ready after the package update"
# --- Let's Encrypt: dehydrated against pebble inside the guest ---------------------------------------
vm 'DEBIAN_FRONTEND=noninteractive apt-get -y -q install pebble dehydrated >/dev/null' || fail "cannot install pebble and dehydrated"
vm 'mkdir -p /root/pebble && cd /root/pebble && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout key.pem -out cert.pem -days 2 -subj /CN=pebble -addext subjectAltName=IP:127.0.0.1 2>/dev/null'
vm 'cat >/root/pebble/config.json' <<'JSON'
{"pebble": {"listenAddress": "127.0.0.1:14000", "managementListenAddress": "127.0.0.1:15000",
 "certificate": "/root/pebble/cert.pem", "privateKey": "/root/pebble/key.pem", "httpPort": 80, "tlsPort": 5001,
 "ocspResponderURL": "", "externalAccountBindingRequired": false}}
JSON
vm 'echo "127.0.0.1 ecs2.boot.test" >>/etc/hosts; printf "CA=https://127.0.0.1:14000/dir\nCURL_OPTS=\"--cacert /root/pebble/cert.pem\"\n" >/etc/dehydrated/conf.d/pebble.sh'
vm 'systemd-run -q --unit=pebble -E PEBBLE_VA_NOSLEEP=1 -E PEBBLE_WFE_NONCEREJECT=0 /usr/bin/pebble -config /root/pebble/config.json'
start=$SECONDS
until vm 'curl -sf --cacert /root/pebble/cert.pem https://127.0.0.1:14000/dir >/dev/null'; do
	[ $((SECONDS - start)) -lt 60 ] || fail "pebble does not answer"
	sleep 2
done
vm systemctl start appliance-update || { vm journalctl -u appliance-update --no-pager | tail -30; fail "appliance-update with pebble failed"; }
step_field appliance-update message | grep -q 'letsencrypt certificate' ||
	fail "no ACME certificate installed: $(step_field appliance-update message)"
served_issuer() { echo | openssl s_client -connect "127.0.0.1:$HTTPS" -servername ecs2.boot.test 2>/dev/null | openssl x509 -noout -issuer; }
served_issuer | tee "$W/issuer.txt" | grep -qi pebble || fail "the served certificate is not pebble's: $(cat "$W/issuer.txt")"
log "ACME: $(cat "$W/issuer.txt")"
[ "$(curl -sk -m 10 --cert "$W/bob.pem" "$url/status.json" | jq -r .state)" = ready ] || fail "not ready with the ACME certificate"
# pebble gone and no certificate left: the self-signed fallback, and still ready.
vm 'systemctl stop pebble; rm -rf /var/lib/dehydrated/certs /app/etc/server.key.pem /app/etc/server.cert.pem'
vm systemctl start appliance-update || fail "appliance-update without pebble failed"
step_field appliance-update message | grep -q 'letsencrypt failed' || fail "the ACME failure is not recorded"
served_issuer | grep -q 'CN *= *ecs2.boot.test' || fail "no self-signed fallback: $(served_issuer)"
[ "$(curl -sk -m 10 --cert "$W/bob.pem" "$url/status.json" | jq -r .state)" = ready ] || fail "not ready after the fallback"

log "PASS: maintenance in $((SECONDS - t0))s after the start"
