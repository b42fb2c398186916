#!/bin/bash
# Every failure is visible: for each way a boot can fail (an env that is no YAML, a bad env value,
# an unknown owner, a template that does not render, a unit that fails to start, a service that
# never becomes healthy, a full disk), the agent's steps run against a temp root in the order and
# under the conditions of the units (prepare-storage and appliance skipped while failed,
# prepare-appliance always), then:
#  - the failed flag holds the reason, the ready flag is absent;
#  - status.json, "appliance-agent status --json" and "status" agree (state failed, the reason,
#    the failed step);
#  - the nginx site the profile's template makes and the TLS pair exist, and a real nginx with
#    that site answers https with 503, Retry-After, the step and the reason.
# Then the monitor: a failed flag set while it runs (another unit's OnFailure) withdraws ready and
# it never comes back while the flag exists.
set -euo pipefail

: "${AGENT:?}" "${SRCDIR:?}"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (tmpfs for the full disk, owners)"; exit 77; }
for t in nginx curl jq python3; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
ROOTFS="$SRCDIR/src/agent/rootfs"
T=$(mktemp -d /tmp/test-agent-failures.XXXXXX)
chmod 0755 "$T"
NGINX_PID=
MON_PID=
cleanup() {
	set +e
	[ -z "$NGINX_PID" ] || { kill "$NGINX_PID"; wait "$NGINX_PID"; }
	[ -z "$MON_PID" ] || { kill "$MON_PID"; wait "$MON_PID"; }
	grep -F " $T/" /proc/mounts | cut -d' ' -f2 | sort -r | while read -r m; do umount "$m"; done
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

R=$T/root
# A systemctl for the tests: units named in $T/failing-units fail to start.
cat > "$T/systemctl" <<SH
#!/bin/sh
for a; do unit=\$a; done
case "\$*" in
*is-failed*) grep -qx "\$unit" "$T/failing-units" ;;
*is-active*) ! grep -qx "\$unit" "$T/failing-units" && [ -e "$T/started-\$unit" ] ;;
*start*) grep -qx "\$unit" "$T/failing-units" || touch "$T/started-\$unit" ;;
*) exit 0 ;;
esac
SH
chmod 0755 "$T/systemctl"

GOOD='#cloud-config
appliance:
  domain: fail.example.org'

make_root() {
	rm -rf "$R" "$T"/started-*
	: > "$T/failing-units"
	mkdir -p "$R/app" "$R/etc/nginx/sites-available" "$R/usr/share/appliance/templates" "$R/etc/appliance"
	printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n' > "$R/etc/passwd"
	printf 'root:x:0:\napp:x:1000:\nadm:x:4:\n' > "$R/etc/group"
	echo appliance > "$R/etc/hostname"
	echo 'debian default site' > "$R/etc/nginx/sites-available/default"
	cp "$ROOTFS/usr/share/appliance/templates/nginx-appliance.conf" "$R/usr/share/appliance/templates/"
	cat > "$R/usr/share/appliance/profile.yml" <<-YML
	distribution: debian
	suite: bookworm
	packages: [udev]
	services:
	  - unit: web.service
	  - unit: db.service
	    health: "exec:/bin/true"
	    timeout: 5
	templates:
	  - src: /usr/share/appliance/templates/nginx-appliance.conf
	    dest: /etc/nginx/sites-available/default
	    mode: "0644"
	YML
}

agent() { APPLIANCE_MONITOR_SEC=1 timeout 120 "$AGENT" --root "$R" --systemctl="$T/systemctl" "$@"; }
failed() { [ -e "$R/run/appliance-failed" ] && [ -e "$R/run/appliance_failed" ]; }

# The boot as systemd runs it: the conditions of the units on the failed flag.
boot() {
	agent prepare-env >>"$T/log" 2>&1 || true
	failed || agent prepare-storage >>"$T/log" 2>&1 || true
	agent prepare-appliance >>"$T/log" 2>&1 || true
	failed || agent --once appliance >>"$T/log" 2>&1 || true
}

# https through a real nginx with the site as prepare-appliance rendered it: prints the page.
https_page() {
	local p80 p443 site=$R/etc/nginx/sites-available/default
	p80=$(free_port)
	p443=$(free_port)
	mkdir -p "$T/ng"
	sed "s#/run/#$R/run/#g" "$ROOTFS/etc/nginx/snippets/appliance-maintenance.conf" > "$T/ng/snippet.conf"
	# The client verification the agent wrote (CA and CRL where they exist): below the root.
	sed "s#/data/ecs-ca/#$R/data/ecs-ca/#" "$R/etc/nginx/snippets/appliance-client-certs.conf" > "$T/ng/client-certs.conf" ||
		fail "$1: no client verification snippet"
	sed "s#snippets/appliance-maintenance.conf#$T/ng/snippet.conf#; s#/app/etc/#$R/app/etc/#;
	     s#snippets/appliance-client-certs.conf#$T/ng/client-certs.conf#;
	     s#root /run/#root $R/run/#; s#listen 80 #listen 127.0.0.1:$p80 #; s#listen 443 #listen 127.0.0.1:$p443 #" \
		"$site" > "$T/ng/site.conf"
	cat > "$T/ng/nginx.conf" <<-NGINX
	daemon off;
	pid $T/ng/nginx.pid;
	error_log $T/ng/error.log;
	events {}
	http {
	    access_log off;
	    client_body_temp_path $T/ng; proxy_temp_path $T/ng; fastcgi_temp_path $T/ng;
	    uwsgi_temp_path $T/ng; scgi_temp_path $T/ng;
	    include $T/ng/site.conf;
	}
	NGINX
	nginx -t -q -c "$T/ng/nginx.conf" 2>"$T/ng/t.log" || { cat "$T/ng/t.log" >&2; fail "$1: nginx rejects the rendered site"; }
	nginx -c "$T/ng/nginx.conf" &
	NGINX_PID=$!
	for _ in $(seq 50); do curl -sk -o /dev/null "https://127.0.0.1:$p443/" && break; sleep 0.1; done
	curl -sk -D "$T/ng/h" -o "$T/ng/body" "https://127.0.0.1:$p443/any/page" || true
	kill "$NGINX_PID"
	wait "$NGINX_PID" 2>/dev/null || true
	NGINX_PID=
	grep -q '^HTTP/1.1 503' "$T/ng/h" || fail "$1: https answers $(head -n 1 "$T/ng/h")"
	grep -qi '^Retry-After: 30' "$T/ng/h" || fail "$1: no Retry-After"
	cat "$T/ng/body"
}

# expect CASE STEP TEXT: the boot failed in STEP and everything says so with TEXT.
expect() {
	local c=$1 step=$2 text=$3 page
	failed || { cat "$T/log" >&2; fail "$c: no failed flag"; }
	[ ! -e "$R/run/appliance-ready" ] || fail "$c: ready while failed"
	grep -qF -- "$text" "$R/run/appliance-failed" || fail "$c: the flag says: $(cat "$R/run/appliance-failed")"
	agent status --json > "$T/live.json"
	jq -S . "$T/live.json" > "$T/a" && jq -S . "$R/run/appliance/www/status.json" > "$T/b"
	diff "$T/a" "$T/b" >&2 || fail "$c: status.json and appliance-agent status --json disagree"
	jq -e --arg s "$step" --arg t "$text" \
		'.state == "failed" and .failed_step == $s and (.failed_reason | contains($t)) and
		 (.steps[] | select(.name == $s) | .result) == "failed"' "$T/live.json" >/dev/null ||
		fail "$c: status: $(cat "$T/live.json")"
	agent status > "$T/text"
	grep -q '^State: failed$' "$T/text" && grep -qF "Failed step: $step" "$T/text" &&
		grep -qF -- "$text" "$T/text" || fail "$c: appliance-status says: $(cat "$T/text")"
	[ -s "$R/app/etc/server.key.pem" ] && [ -s "$R/app/etc/server.cert.pem" ] || fail "$c: no TLS pair for the page"
	grep -q 'snippets/appliance-maintenance.conf' "$R/etc/nginx/sites-available/default" ||
		fail "$c: the nginx site was not rendered"
	page=$(https_page "$c")
	grep -qF "Step $step failed" <<<"$page" || fail "$c: the page does not name the step: $page"
	grep -qF -- "$(sed "s/'/\&#39;/g" <<<"$text")" <<<"$page" || grep -qF -- "$text" <<<"$page" ||
		fail "$c: the page does not give the reason: $page"
	echo "ok: $c ($step: $text)"
}

n=0
run_case() { # CASE STEP TEXT ENV [SETUP]
	make_root
	printf '%s\n' "$4" > "$R/app/env.yml"
	: > "$T/log"
	[ -z "${5:-}" ] || eval "$5"
	boot
	[ -z "${DEBUG_LOG:-}" ] || cat "$T/log" >&2
	expect "$1" "$2" "$3"
	n=$((n + 1))
}

run_case "env that is no YAML" prepare-env "Invalid env" "$(printf '#cloud-config\nappliance: [unclosed\n')"
run_case "bad env value" prepare-env "appliance:domain" "$(printf '#cloud-config\nappliance:\n  domain: "bad_domain!"\n')"
run_case "unknown owner" prepare-appliance "unknown owner 'nosuch:nogroup'" "$GOOD
  extra:
    files:
      - path: /etc/appliance/x.conf
        contents: x
        owner: nosuch:nogroup"
run_case "template that does not render" prepare-appliance "no such env key 'ecs:nothere'" "$GOOD" \
	'echo "listen {{ ecs:nothere }}" > "$R/usr/share/appliance/templates/app.conf";
	 printf "  - src: /usr/share/appliance/templates/app.conf\n    dest: /etc/appliance/app.conf\n" >> "$R/usr/share/appliance/profile.yml"'
run_case "unit that fails to start" appliance "Service 'web.service' failed to start" "$GOOD" \
	'echo web.service > "$T/failing-units"'
run_case "service never healthy" appliance "did not become healthy within 1 s" "$GOOD" \
	'sed -i "s#exec:/bin/true\"#exec:/bin/false\"#; s#timeout: 5#timeout: 1#" "$R/usr/share/appliance/profile.yml"'
run_case "full disk" prepare-appliance "No space left on device" "$GOOD
  extra:
    files:
      - path: /etc/appliance/big.conf
        contents: $(head -c 8192 /dev/zero | tr '\0' x)" \
	'mount -t tmpfs -o size=16k tmpfs "$R/etc/appliance"; head -c 16384 /dev/zero > "$R/etc/appliance/fill" 2>/dev/null || true'
grep -F " $R/" /proc/mounts | cut -d' ' -f2 | while read -r m; do umount "$m"; done

# The monitor: ready, then a failed flag from outside; ready never comes back while it exists.
make_root
printf '%s\n' "$GOOD" > "$R/app/env.yml"
agent prepare-env >/dev/null 2>&1 && agent prepare-storage >/dev/null 2>&1 && agent prepare-appliance >/dev/null 2>&1 ||
	fail "monitor: the steps on a good env"
agent appliance >"$T/mon.log" 2>&1 &
MON_PID=$!
for _ in $(seq 100); do [ -e "$R/run/appliance-ready" ] && break; sleep 0.1; done
[ -e "$R/run/appliance-ready" ] || fail "monitor: never ready"
agent fail "disk error reported by a test" >/dev/null 2>&1
for _ in $(seq 4); do
	sleep 1
	[ ! -e "$R/run/appliance-ready" ] || fail "monitor: ready again while failed"
done
jq -e '.state == "failed" and (.failed_reason | contains("disk error"))' "$R/run/appliance/www/status.json" >/dev/null ||
	fail "monitor: status.json $(cat "$R/run/appliance/www/status.json")"
grep -q 'disk error' "$R/run/appliance/www/503.html" || fail "monitor: the failure page was replaced"
kill "$MON_PID"
wait "$MON_PID" 2>/dev/null || true
MON_PID=
echo "ok: monitor keeps ready withdrawn while failed"
echo "OK: $n failure classes visible"
