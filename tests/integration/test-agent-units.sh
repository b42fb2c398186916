#!/bin/bash
# The agent's systemd units and image files (src/agent/rootfs): systemd-analyze verify, the enable
# link, the failed-flag conditions; the binary has no dynamic dependencies (static build); and the
# maintenance page through a real nginx on 127.0.0.1 with the shipped snippet: 503 + Retry-After
# while starting or failed, the application once the appliance is ready, status.json always.
set -euo pipefail

: "${AGENT:?}" "${SRCDIR:?}" "${BUILDDIR:?}"
ROOTFS="$SRCDIR/src/agent/rootfs"
UNITS="$ROOTFS/usr/lib/systemd/system"
T=$(mktemp -d /tmp/test-agent-units.XXXXXX)
chmod 0755 "$T"   # nginx workers run as nobody
NGINX_PID=
cleanup() {
	set +e
	if [ -n "$NGINX_PID" ]; then
		kill "$NGINX_PID" 2>/dev/null
		wait "$NGINX_PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. systemd-analyze verify (the agent path pointed at the built binary).
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze missing"; exit 77; }
mkdir -p "$T/units"
cp "$UNITS"/*.service "$T/units/"
sed -i "s#/usr/sbin/appliance-agent#$AGENT#" "$T/units"/*.service
ln -s appliance-failed@.service "$T/units/appliance-failed@appliance.service"
out=$(cd "$T/units" && systemd-analyze verify prepare-env.service prepare-storage.service prepare-appliance.service \
	appliance.service appliance-update.service appliance-failed@appliance.service 2>&1) || fail "verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify complained: $out"

# 2. Wiring: one enabled unit, the manual's order, both spellings of the failed flag.
[ "$(readlink "$ROOTFS/etc/systemd/system/multi-user.target.wants/appliance.service")" = \
	/usr/lib/systemd/system/appliance.service ] || fail "appliance.service is not enabled"
[ "$(ls "$ROOTFS/etc/systemd/system/multi-user.target.wants")" = appliance.service ] || fail "other units enabled"
grep -q '^After=.*prepare-env.service' "$UNITS/prepare-storage.service" || fail "order env -> storage"
grep -q '^After=.*prepare-storage.service' "$UNITS/prepare-appliance.service" || fail "order storage -> appliance config"
grep -q '^After=.*prepare-appliance.service' "$UNITS/appliance.service" || fail "order -> appliance"
grep -q '^Type=notify' "$UNITS/appliance.service" || fail "appliance is not Type=notify"
# prepare-appliance runs in the failed state too (the maintenance page), after storage whatever
# its result.
! grep -q '^ConditionPathExists=.*failed' "$UNITS/prepare-appliance.service" || fail "prepare-appliance: failed condition"
grep -q '^Wants=prepare-storage.service$' "$UNITS/prepare-appliance.service" || fail "prepare-appliance: no Wants=storage"
for u in prepare-storage appliance; do
	grep -q '^ConditionPathExists=|!/run/appliance-failed$' "$UNITS/$u.service" || fail "$u: no failed condition"
	grep -q '^ConditionPathExists=|!/run/appliance_failed$' "$UNITS/$u.service" || fail "$u: no manual-spelling condition"
done
# Storage and host configuration run also without an env (the unconfigured appliance); only the
# appliance itself needs one.
grep -q '^ConditionFileNotEmpty=/run/active-env.yml$' "$UNITS/appliance.service" || fail "appliance: no active-env condition"
for u in prepare-storage prepare-appliance; do
	if grep -q '^ConditionFileNotEmpty=' "$UNITS/$u.service"; then fail "$u must run while unconfigured"; fi
done
if grep -q '^Condition' "$UNITS/prepare-env.service"; then fail "prepare-env must run while failed"; fi
for f in usr/local/sbin/env-update.sh usr/local/sbin/appliance-status; do
	[ -x "$ROOTFS/$f" ] || fail "$f not executable"
	sh -n "$ROOTFS/$f" || fail "$f: syntax"
done
sh -n "$ROOTFS/usr/local/share/appliance/env.include" || fail "env.include: syntax"

# 3. No dynamic dependencies (the sanitizer build links the agent dynamically on purpose).
if grep -q '^AGENT_STATIC:BOOL=ON' "$BUILDDIR/CMakeCache.txt"; then
	if readelf -d "$AGENT" | grep -q NEEDED; then fail "the agent has dynamic dependencies"; fi
	if readelf -l "$AGENT" | grep -q 'Requesting program interpreter'; then fail "the agent needs ld.so"; fi
	out=$(env -i "$AGENT" --version) || fail "the static agent does not run without an environment"
	case "$out" in "appliance-agent "*) ;; *) fail "--version: $out" ;; esac
else
	echo "NOTE: dynamic (sanitizer) build, the static-binary check does not apply"
fi

# 4. The maintenance page through nginx.
if ! command -v nginx >/dev/null; then
	echo "NOTE: nginx missing, the maintenance page is not tested"
	echo OK
	exit 0
fi
R="$T/root"
mkdir -p "$R/app" "$R/etc" "$R/usr/share/appliance" "$T/ng"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$R/etc/passwd"
printf 'root:x:0:\n' > "$R/etc/group"
printf '#cloud-config\nappliance:\n  domain: page.example.org\n' > "$R/app/env.yml"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
sed "s#/run/#$R/run/#g" "$ROOTFS/etc/nginx/snippets/appliance-maintenance.conf" > "$T/ng/snippet.conf"
cat > "$T/ng/nginx.conf" <<NGINX
daemon off;
pid $T/ng/nginx.pid;
error_log $T/ng/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $T/ng; proxy_temp_path $T/ng; fastcgi_temp_path $T/ng;
    uwsgi_temp_path $T/ng; scgi_temp_path $T/ng;
    server {
        listen 127.0.0.1:$port;
        include $T/ng/snippet.conf;
        location / { return 200 "application\n"; }
    }
}
NGINX
nginx -t -q -c "$T/ng/nginx.conf" || fail "nginx rejects the snippet"
nginx -c "$T/ng/nginx.conf" &
NGINX_PID=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done

printf 'distribution: debian\nsuite: bookworm\npackages: [udev]\nservices:\n  - unit: nginx.service\n    health: "tcp:127.0.0.1:%s"\n    timeout: 10\n  - unit: web.service\n    health: "http://127.0.0.1:%s/appliance-status.json"\n    timeout: 10\n' "$port" "$port" \
	> "$R/usr/share/appliance/profile.yml"
agent() { "$AGENT" --root "$R" --systemctl=true "$@"; }
agent prepare-env
curl -s -D "$T/h" -o "$T/body" "http://127.0.0.1:$port/some/page"
grep -q '^HTTP/1.1 503' "$T/h" || fail "not 503 while starting: $(head -1 "$T/h")"
grep -qi '^Retry-After: 30' "$T/h" || fail "no Retry-After"
grep -q 'Appliance Startup' "$T/body" || fail "maintenance page text"
agent prepare-storage
agent prepare-appliance
agent --once appliance
[ "$(curl -s "http://127.0.0.1:$port/")" = application ] || fail "application not served once ready"
curl -s "http://127.0.0.1:$port/appliance-status.json" | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["state"] == "ready", s
assert s["services"][0]["unit"] == "nginx.service" and s["services"][0]["state"] == "healthy", s
assert s["services"][1]["unit"] == "web.service" and s["services"][1]["state"] == "healthy", s'

agent fail --unit=appliance.service
curl -s -D "$T/h" -o "$T/body" "http://127.0.0.1:$port/"
grep -q '^HTTP/1.1 503' "$T/h" || fail "not 503 when failed"
grep -q 'failed to start' "$T/body" || fail "failure reason not on the page"
curl -s "http://127.0.0.1:$port/appliance-status.json" | grep -q '"state": "failed"' || fail "status.json not failed"
"$AGENT" --root "$R" status | grep -q '^State: failed' || fail "status text"

# 4b. The shipped nginx site template renders from the env and passes nginx -t.
mkdir -p "$R/usr/share/appliance/templates"
cp "$ROOTFS/usr/share/appliance/templates/nginx-appliance.conf" "$R/usr/share/appliance/templates/"
cp "$R/usr/share/appliance/profile.yml" "$T/profile.saved"
printf 'templates:\n  - src: /usr/share/appliance/templates/nginx-appliance.conf\n    dest: /etc/nginx/sites-enabled/default\n' \
	>> "$R/usr/share/appliance/profile.yml"
# As Debian ships it: sites-enabled/default a link to sites-available/default, which the rendered
# file replaces (the link removed, never written through).
mkdir -p "$R/etc/nginx/sites-available" "$R/etc/nginx/sites-enabled"
echo 'debian default site' > "$R/etc/nginx/sites-available/default"
ln -sfn ../sites-available/default "$R/etc/nginx/sites-enabled/default"
rm -f "$R/run/appliance-failed" "$R/run/appliance_failed"
agent prepare-appliance
[ ! -L "$R/etc/nginx/sites-enabled/default" ] || fail "the shipped site link was kept"
[ "$(cat "$R/etc/nginx/sites-available/default")" = 'debian default site' ] || fail "written through the site link"
grep -q '^    server_name page.example.org;$' "$R/etc/nginx/sites-enabled/default" || fail "site not rendered"
# The client certificate verification the agent wrote: its CA and CRL, optional by default.
[ -s "$R/data/ecs-ca/ca.cert.pem" ] && [ -s "$R/data/ecs-ca/crl.pem" ] || fail "no client CA and CRL"
grep -qx 'ssl_verify_client optional;' "$R/etc/nginx/snippets/appliance-client-certs.conf" || fail "client verification"
sed "s#/data/ecs-ca/#$R/data/ecs-ca/#" "$R/etc/nginx/snippets/appliance-client-certs.conf" > "$T/ng/client-certs.conf"
sed -e "s#snippets/appliance-maintenance.conf#$T/ng/snippet.conf#; s#/app/etc/#$R/app/etc/#" \
	-e "s#snippets/appliance-client-certs.conf#$T/ng/client-certs.conf#" \
	"$R/etc/nginx/sites-enabled/default" > "$T/ng/site.conf"
sed "/server {/,\$d" "$T/ng/nginx.conf" > "$T/ng/site-test.conf"
printf '    include %s;\n}\n' "$T/ng/site.conf" >> "$T/ng/site-test.conf"
nginx -t -q -c "$T/ng/site-test.conf" || fail "rendered site rejected by nginx -t"
cp "$T/profile.saved" "$R/usr/share/appliance/profile.yml"
agent fail --unit=appliance.service

# 5. The manual's recovery: every step but prepare-env refuses until the flag is removed;
# prepare-appliance only keeps the maintenance page servable (and keeps the flag).
agent prepare-env
for step in prepare-storage appliance; do
	if agent --once "$step" 2>/dev/null; then fail "$step ran while failed"; fi
done
record=$(cat "$R/run/appliance/steps/prepare-appliance")
agent prepare-appliance 2>/dev/null || fail "prepare-appliance (maintenance page) failed while failed"
[ -e "$R/run/appliance-failed" ] && [ -e "$R/run/appliance_failed" ] || fail "prepare-appliance cleared the flag"
[ "$(cat "$R/run/appliance/steps/prepare-appliance")" = "$record" ] || fail "prepare-appliance ran its steps while failed"
rm "$R/run/appliance_failed"
agent prepare-storage
[ ! -e "$R/run/appliance-failed" ] || fail "the other flag name was not cleared"
agent prepare-appliance

# 6. The manual's shell activation: . env.include; ENV_YML=/run/active-env.yml userdata_to_env ecs,appliance
agent env ecs,appliance | grep -q "^export APPLIANCE_DOMAIN=page.example.org$" || fail "env flattening"
sed "s#/usr/sbin/appliance-agent#$AGENT --root $R#; s#/run/env_include_#$T/env_include_#" \
	"$ROOTFS/usr/local/share/appliance/env.include" > "$T/env.include"
domain=$(bash -c ". '$T/env.include'; ENV_YML=/run/active-env.yml userdata_to_env ecs,appliance && echo \$APPLIANCE_DOMAIN")
[ "$domain" = page.example.org ] || fail "userdata_to_env: '$domain'"
[ -z "$(ls "$T" | grep env_include_)" ] || fail "userdata_to_env left its FIFO behind"

# 7. READY=1 and STATUS= reach systemd's notification socket.
python3 - "$T/notify.sock" "$T/notify.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], "w") as out:
    while True:
        msg = s.recv(4096).decode()
        out.write(msg + "\n")
        out.flush()
        if "READY=1" in msg:
            break
PY
listener=$!
for _ in $(seq 50); do [ -S "$T/notify.sock" ] && break; sleep 0.1; done
NOTIFY_SOCKET="$T/notify.sock" agent --once appliance
wait "$listener" || fail "no READY=1 on the notification socket"
grep -q '^STATUS=Starting nginx.service (1/2)$' "$T/notify.out" || fail "no progress STATUS: $(cat "$T/notify.out")"
grep -q '^STATUS=Appliance ready (2 services healthy)$' "$T/notify.out" || fail "no ready STATUS: $(cat "$T/notify.out")"

# 8. systemctl stop while a service is still starting is a stop, not a failure.
printf 'distribution: debian\nsuite: bookworm\npackages: [udev]\nservices:\n  - unit: slow.service\n    health: "exec:/bin/false"\n    timeout: 600\n' > "$R/usr/share/appliance/profile.yml"
"$AGENT" --root "$R" --systemctl=true appliance 2>/dev/null &
pid=$!
for _ in $(seq 100); do grep -q 'slow.service' "$R/run/appliance/services" 2>/dev/null && break; sleep 0.1; done
kill -TERM "$pid"
wait "$pid" || fail "stopping during the start failed the appliance"
[ ! -e "$R/run/appliance-failed" ] || fail "stop during the start set the failed flag"
[ ! -e "$R/run/appliance-ready" ] || fail "ready flag after a stop"
grep -q 'Appliance Stopped' "$R/run/appliance/www/503.html" || fail "page after a stop"
echo OK
