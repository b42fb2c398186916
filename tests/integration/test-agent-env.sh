#!/bin/bash
# prepare-env against real seeds made by the usual tools: a cidata ISO (cloud-localds), a vfat
# CIDATA seed (cloud-localds -f vfat), an OpenStack config-2 ISO (xorriso), an EC2-compatible
# metadata service on 127.0.0.1; the source order, the recorded source (USERDATA_TYPE in
# /run/appliance/env-source, the env itself left as it was read), status --json, bad envs.
set -euo pipefail

: "${AGENT:?}"
for t in cloud-localds xorriso python3 mkfs.vfat mcopy; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done

T=$(mktemp -d /tmp/test-agent-env.XXXXXX)
HTTP_PID=
cleanup() {
	set +e
	[ -n "$HTTP_PID" ] && kill "$HTTP_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

make_root() {
	rm -rf "$T/root"
	mkdir -p "$T/root/dev/disk/by-label" "$T/root/app" "$T/root/etc"
	printf 'root:x:0:0:root:/root:/bin/sh\n' > "$T/root/etc/passwd"
	printf 'root:x:0:\n' > "$T/root/etc/group"
}

env_yml() {
	printf '#cloud-config\nappliance:\n  domain: %s\n' "$1"
}

agent() { "$AGENT" --root "$T/root" --metadata-url "http://127.0.0.1:1/latest/user-data" "$@"; }
active_domain() { sed -n 's/^  domain: //p' "$T/root/run/active-env.yml"; }
active_type() { (. "$T/root/run/appliance/env-source" && echo "$USERDATA_TYPE"); }

# 1. cidata ISO, found through /dev/disk/by-label.
make_root
env_yml iso.example.org > "$T/user-data"
printf 'instance-id: iid-test\n' > "$T/meta-data"
cloud-localds "$T/seed.iso" "$T/user-data" "$T/meta-data"
cp "$T/seed.iso" "$T/root/dev/disk/by-label/cidata"
agent prepare-env
[ "$(active_domain)" = iso.example.org ] || fail "cidata ISO not read"
[ "$(active_type)" = cidata ] || fail "USERDATA_TYPE is not cidata"
[ "$(stat -c %a "$T/root/run/active-env.yml")" = 600 ] || fail "active env mode"

# 2. The same ISO found by scanning /sys/class/block (no by-label link).
make_root
mkdir -p "$T/root/sys/class/block/sr0"
cp "$T/seed.iso" "$T/root/dev/sr0"
agent prepare-env
[ "$(active_domain)" = iso.example.org ] || fail "sysfs scan did not find the ISO"

# 3. /app/env.yml wins over the seed; $ENV_YML wins over both.
env_yml local.example.org > "$T/root/app/env.yml"
agent prepare-env
[ "$(active_domain)" = local.example.org ] || fail "/app/env.yml does not win"
[ "$(active_type)" = local ] || fail "USERDATA_TYPE is not local"
env_yml envvar.example.org > "$T/other.yml"
ENV_YML="$T/other.yml" agent prepare-env
[ "$(active_domain)" = envvar.example.org ] || fail "\$ENV_YML does not win"
cmp -s "$T/other.yml" "$T/root/run/active-env.yml" || fail "the active env is not the file as read"
! grep -q USERDATA_TYPE "$T/root/run/active-env.yml" || fail "USERDATA_TYPE written into the active env"
[ "$(. "$T/root/run/appliance/env-source" && echo "$USERDATA_ORIGIN")" = "$T/other.yml" ] || fail "origin"

# 4. vfat CIDATA seed (LFN names user-data, meta-data).
make_root
env_yml vfat.example.org > "$T/user-data"
cloud-localds -f vfat "$T/seed.img" "$T/user-data" "$T/meta-data"
cp "$T/seed.img" "$T/root/dev/disk/by-label/CIDATA"
agent prepare-env
[ "$(active_domain)" = vfat.example.org ] || fail "vfat seed not read"
[ "$(active_type)" = cidata ] || fail "vfat USERDATA_TYPE"

# 4b. A FAT32 seed with the file in a subdirectory-free root and a long name, found by sysfs scan
#     through its volume label.
make_root
mkdir -p "$T/root/sys/class/block/vdb"
rm -f "$T/fat32.img"
mkfs.vfat -F 32 -C -n CIDATA "$T/fat32.img" 40000 >/dev/null
env_yml fat32.example.org > "$T/user-data"
mcopy -i "$T/fat32.img" "$T/user-data" ::user-data
mcopy -i "$T/fat32.img" "$T/meta-data" ::meta-data
cp "$T/fat32.img" "$T/root/dev/vdb"
agent prepare-env
[ "$(active_domain)" = fat32.example.org ] || fail "FAT32 seed not found by label scan"

# 5. OpenStack config-2 (ISO), openstack/latest/user_data.
make_root
mkdir -p "$T/c2/openstack/latest"
env_yml configdrive.example.org > "$T/c2/openstack/latest/user_data"
echo '{"uuid": "x"}' > "$T/c2/openstack/latest/meta_data.json"
xorriso -as mkisofs -quiet -V config-2 -J -R -o "$T/c2.iso" "$T/c2" 2>/dev/null
cp "$T/c2.iso" "$T/root/dev/disk/by-label/config-2"
agent prepare-env
[ "$(active_domain)" = configdrive.example.org ] || fail "config-2 not read"
[ "$(active_type)" = config-2 ] || fail "config-2 USERDATA_TYPE"

# 6. EC2-compatible metadata service, only when the profile enables it.
make_root
mkdir -p "$T/md/latest" "$T/root/usr/share/appliance"
env_yml ec2.example.org > "$T/md/latest/user-data"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
(cd "$T/md" && exec python3 -m http.server --bind 127.0.0.1 "$port" >/dev/null 2>&1) &
HTTP_PID=$!
for _ in $(seq 50); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
	sleep 0.1
done
"$AGENT" --root "$T/root" --metadata-url "http://127.0.0.1:$port/latest/user-data" prepare-env 2>/dev/null
[ ! -e "$T/root/run/active-env.yml" ] || fail "metadata used although the profile does not enable it"
printf 'distribution: debian\nsuite: bookworm\npackages: [udev]\nfeatures:\n  ec2_metadata: true\n' > "$T/root/usr/share/appliance/profile.yml"
"$AGENT" --root "$T/root" --metadata-url "http://127.0.0.1:$port/latest/user-data" prepare-env
[ "$(active_domain)" = ec2.example.org ] || fail "metadata user-data not read"
[ "$(active_type)" = ec2 ] || fail "ec2 USERDATA_TYPE"
kill "$HTTP_PID"
wait "$HTTP_PID" 2>/dev/null || true
HTTP_PID=

# 6b. An IMDSv2-only service: user-data only with the session token from PUT /latest/api/token.
env_yml imdsv2.example.org > "$T/md/latest/user-data"
cat > "$T/imds.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_PUT(self):
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            self.send_response(200); self.end_headers(); self.wfile.write(b"tok123")
        else:
            self.send_response(400); self.end_headers()
    def do_GET(self):
        if self.headers.get("X-aws-ec2-metadata-token") != "tok123":
            self.send_response(401); self.end_headers(); return
        data = open(sys.argv[2], "rb").read()
        self.send_response(200); self.end_headers(); self.wfile.write(data)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
python3 "$T/imds.py" "$port" "$T/md/latest/user-data" &
HTTP_PID=$!
for _ in $(seq 50); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
	sleep 0.1
done
"$AGENT" --root "$T/root" --metadata-url "http://127.0.0.1:$port/latest/user-data" prepare-env
[ "$(active_domain)" = imdsv2.example.org ] || fail "IMDSv2 user-data not read"
"$AGENT" --root "$T/root" status --json > "$T/status.json"
python3 - "$T/status.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["state"] == "starting", s
assert s["env_source"].startswith("ec2:"), s
assert s["steps"][0]["name"] == "prepare-env" and s["steps"][0]["result"] in ("ok", "changed"), s
assert isinstance(s["steps"][0]["duration_usec"], int), s
EOF

# 7. Bad envs: readable reason in the failed flag, the previous active env untouched, exit 1.
make_root
env_yml good.example.org > "$T/root/app/env.yml"
agent prepare-env
cp "$T/root/run/active-env.yml" "$T/good-active.yml"
check_bad() {
	local want=$1
	set +e
	agent prepare-env 2>"$T/err"
	local rc=$?
	set -e
	[ "$rc" = 1 ] || fail "bad env ($want): exit $rc"
	grep -q -- "$want" "$T/root/run/appliance-failed" || fail "flag lacks '$want': $(cat "$T/root/run/appliance-failed")"
	[ -f "$T/root/run/appliance_failed" ] || fail "manual spelling of the flag missing"
	cmp -s "$T/good-active.yml" "$T/root/run/active-env.yml" || fail "active env changed by a bad env"
	set +e
	agent prepare-storage 2>/dev/null
	rc=$?
	set -e
	[ "$rc" = 1 ] || fail "prepare-storage did not refuse while failed"
	rm -f "$T/root/run/appliance-failed" "$T/root/run/appliance_failed"
}
printf 'appliance:\n  domain: x.org\n' > "$T/root/app/env.yml"; check_bad "cloud-config"
printf '#cloud-config\nappliance:\n\tdomain: x.org\n' > "$T/root/app/env.yml"; check_bad "Invalid env"
printf '#cloud-config\nappliance: {domain: "a b"}\n' > "$T/root/app/env.yml"; check_bad "not a valid host name"
printf '#cloud-config\ndisable_root: false\n' > "$T/root/app/env.yml"; check_bad "appliance: required key is missing"
printf '#cloud-config\nappliance: {domain: a.org}\n\0\n' > "$T/root/app/env.yml"; check_bad "NUL byte"
: > "$T/root/app/env.yml"; check_bad "empty"
printf '#cloud-config\nappliance:\n  domain: a.org\n  ssl: {key: "-----BEGIN PRIVATE KEY-----", cert: "x"}\n' > "$T/root/app/env.yml"
check_bad "must be a PEM certificate"
grep -q "Appliance Error" "$T/root/run/appliance/www/503.html" || fail "maintenance page does not show the error"
# No env anywhere: the unconfigured appliance, not a failure.
rm "$T/root/app/env.yml"
agent prepare-env || fail "prepare-env fails without an env"
[ ! -e "$T/root/run/appliance-failed" ] || fail "no env set the failed flag"
grep -q "No env found" "$T/root/run/appliance-unconfigured" || fail "no unconfigured reason"
grep -q "Appliance Unconfigured" "$T/root/run/appliance/www/503.html" || fail "the page does not say unconfigured"
[ "$(agent status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')" = unconfigured ] ||
	fail "status is not unconfigured"

echo "OK"
