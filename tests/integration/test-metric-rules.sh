#!/bin/bash
# The Prometheus files of the appliance (appliance:metric:server): the alert rules
# (src/agent/rootfs/usr/share/appliance/prometheus/appliance-rules.yml) pass `promtool check
# rules` and hold the manual's alerts; the server's configuration rendered from the template as
# prepare-appliance renders it (appliance-agent --root) passes `promtool check config`, binds
# nothing but 127.0.0.1 and carries the domain as the site label.
set -euo pipefail
: "${AGENT:?}" "${SRCDIR:?}"
command -v promtool >/dev/null || { echo "promtool (Debian package prometheus) not installed, skipping"; exit 77; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
rules=$SRCDIR/src/agent/rootfs/usr/share/appliance/prometheus/appliance-rules.yml
promtool check rules "$rules"
for alert in NodeRebootsTooOften NodeFilesystemFreeLow NodeFilesystemFreeCritical NodeMemoryUsageHigh NodeLoadHigh \
	BackupMissed BackupFailed; do
	grep -q "alert: $alert\$" "$rules" || { echo "FAIL: no alert $alert"; exit 1; }
done

# Render the template with the agent's renderer: a root with the profile's template entry.
R=$T/root
mkdir -p "$R/usr/share/appliance/templates" "$R/usr/share/appliance/prometheus" "$R/etc/prometheus" "$R/run" "$R/app"
cp "$SRCDIR/src/agent/rootfs/usr/share/appliance/templates/prometheus.yml" "$R/usr/share/appliance/templates/"
cp "$rules" "$R/usr/share/appliance/prometheus/"
cat >"$T/profile.yml" <<'YML'
name: t
distribution: debian
suite: bookworm
packages: [systemd-sysv]
templates:
  - src: /usr/share/appliance/templates/prometheus.yml
    dest: /etc/prometheus/prometheus.yml
    mode: "0644"
YML
cat >"$R/app/env.yml" <<'YML'
#cloud-config
appliance:
  domain: metrics.example.org
  metric: {exporter: true, server: true}
YML
"$AGENT" --root "$R" --profile "$T/profile.yml" --systemctl=true prepare-env >"$T/env.log" 2>&1 || { cat "$T/env.log"; exit 1; }
"$AGENT" --root "$R" --profile "$T/profile.yml" --systemctl=true prepare-appliance >"$T/app.log" 2>&1 || { cat "$T/app.log"; exit 1; }
conf=$R/etc/prometheus/prometheus.yml
grep -q 'site: "metrics.example.org"' "$conf" || { echo "FAIL: no site label"; cat "$conf"; exit 1; }
# promtool resolves rule_files as written: point them at the copy.
sed "s|/usr/share/appliance/prometheus/|$R/usr/share/appliance/prometheus/|" "$conf" >"$T/prometheus.yml"
promtool check config "$T/prometheus.yml"
if grep -E 'targets:' "$conf" | grep -v '127\.0\.0\.1:' ; then echo "FAIL: a target off the loopback"; exit 1; fi
[ -e "$R/run/appliance/metric-exporter" ] && [ -e "$R/run/appliance/metric-server" ] ||
	{ echo "FAIL: the metric flags were not written"; exit 1; }
echo "metric rules and config: ok"
