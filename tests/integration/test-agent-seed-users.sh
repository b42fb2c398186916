#!/bin/bash
# Keys and users from any seed, against seeds made by the real tools: our own `seed --preset
# vagrant` (users with sudo and the insecure keys), cloud-localds with only an ssh key in meta-data
# or in user-data, an OpenStack config-2 drive with meta_data.json public_keys, an EC2-compatible
# meta-data service on 127.0.0.1; hostile users refused with the reason; keys outside the subset
# listed in status; the profile's app user; the Vagrant insecure keys removed once a real key is in.
set -euo pipefail

: "${AGENT:?}" "${BUILDER:?}" "${TESTDATA:?}"
for t in cloud-localds xorriso python3 jq ssh-keygen; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done

T=$(mktemp -d /tmp/test-agent-seed-users.XXXXXX)
HTTP_PID=
cleanup() {
	set +e
	[ -n "$HTTP_PID" ] && kill "$HTTP_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

ssh-keygen -q -t ed25519 -N '' -C seed-test -f "$T/key"
KEY=$(cat "$T/key.pub")
SEED_DIR=$(dirname "$TESTDATA")/../seed

make_root() {
	rm -rf "$T/root"
	mkdir -p "$T/root/dev/disk/by-label" "$T/root/etc/ssh" "$T/root/usr/share/appliance"
	printf 'root:x:0:0:root:/root:/bin/sh\n' > "$T/root/etc/passwd"
	printf 'root:x:0:\nsudo:x:27:\n' > "$T/root/etc/group"
	printf 'root:!:19000:0:99999:7:::\n' > "$T/root/etc/shadow"
	printf 'image\n' > "$T/root/etc/hostname"
	cp "$(dirname "$TESTDATA")/../profiles/minimal.yml" "$T/root/usr/share/appliance/profile.yml"
}
agent() { "$AGENT" --root "$T/root" --metadata-url "${MD_URL:-http://127.0.0.1:1/latest/user-data}" "$@"; }
status() { agent status --json; }
has_key() { # USER-HOME KEYFILE
	grep -qF "$(awk '{print $2}' "$2")" "$T/root$1/.ssh/authorized_keys"
}

# 1. Our vagrant preset: a cloud-config without an env. The vagrant user with passwordless sudo and
#    both insecure keys; the appliance stays unconfigured; the profile's app user exists.
make_root
"$BUILDER" seed --preset vagrant --instance-id iid-vagrant -o "$T/vagrant.iso" >/dev/null
cp "$T/vagrant.iso" "$T/root/dev/disk/by-label/cidata"
agent prepare-env
grep -q '^vagrant:x:1001:1001:Vagrant:/home/vagrant:/bin/bash$' "$T/root/etc/passwd" || fail "no vagrant user: $(cat "$T/root/etc/passwd")"
grep -q '^app:x:1000:1000::/app:/bin/bash$' "$T/root/etc/passwd" || fail "no app user"
grep -q '^vagrant ALL=(ALL) NOPASSWD:ALL$' "$T/root/etc/sudoers.d/90-appliance-vagrant" || fail "no sudo rule"
[ "$(stat -c %a "$T/root/etc/sudoers.d/90-appliance-vagrant")" = 440 ] || fail "sudoers mode"
if command -v visudo >/dev/null; then
	visudo -cqf "$T/root/etc/sudoers.d/90-appliance-vagrant" || fail "visudo rejects the sudo rule"
fi
has_key /home/vagrant "$SEED_DIR/vagrant.pub" || fail "no RSA insecure key"
has_key /home/vagrant "$SEED_DIR/vagrant.pub.ed25519" || fail "no ed25519 insecure key"
[ "$(stat -c '%a %u' "$T/root/home/vagrant/.ssh")" = "700 1001" ] || fail ".ssh mode/owner"
[ "$(stat -c '%a %u' "$T/root/home/vagrant/.ssh/authorized_keys")" = "600 1001" ] || fail "authorized_keys mode/owner"
status > "$T/s.json"
jq -e '.state == "unconfigured"' "$T/s.json" >/dev/null || fail "not unconfigured: $(cat "$T/s.json")"
[ ! -e "$T/root/run/active-env.yml" ] || fail "the vagrant cloud-config became an env"
# A second boot changes nothing.
cp "$T/root/etc/passwd" "$T/passwd.1"
agent prepare-env
cmp -s "$T/passwd.1" "$T/root/etc/passwd" || fail "a second boot changed passwd"

#    Vagrant puts its own key in and removes the RSA insecure one: the ed25519 one goes too.
grep -vF "$(awk '{print $2}' "$SEED_DIR/vagrant.pub")" "$T/root/home/vagrant/.ssh/authorized_keys" > "$T/ak" || true
echo "$KEY" >> "$T/ak"
cp "$T/ak" "$T/root/home/vagrant/.ssh/authorized_keys"
agent insecure-keys
if has_key /home/vagrant "$SEED_DIR/vagrant.pub.ed25519"; then fail "the ed25519 insecure key stayed"; fi
has_key /home/vagrant "$T/key.pub" || fail "Vagrant's own key was removed"

# 2. cloud-localds, only an ssh key in meta-data: root gets it (and app); unconfigured.
make_root
printf 'instance-id: iid-md\nlocal-hostname: hoster-vm\npublic-keys:\n  - %s\n' "$KEY" > "$T/meta-data"
printf '#cloud-config\n{}\n' > "$T/user-data"
cloud-localds "$T/md.iso" "$T/user-data" "$T/meta-data"
cp "$T/md.iso" "$T/root/dev/disk/by-label/cidata"
agent prepare-env
has_key /root "$T/key.pub" || fail "meta-data key not for root"
has_key /app "$T/key.pub" || fail "meta-data key not for app"
[ "$(cat "$T/root/etc/hostname")" = hoster-vm ] || fail "local-hostname not applied"
status | jq -e '.state == "unconfigured"' >/dev/null || fail "not unconfigured"

# 3. cloud-localds, only an ssh key in user-data (top-level ssh_authorized_keys).
make_root
printf 'instance-id: iid-ud\n' > "$T/meta-data"
printf '#cloud-config\nssh_authorized_keys:\n  - %s\n' "$KEY" > "$T/user-data"
cloud-localds "$T/ud.iso" "$T/user-data" "$T/meta-data"
cp "$T/ud.iso" "$T/root/dev/disk/by-label/cidata"
agent prepare-env
has_key /root "$T/key.pub" || fail "user-data key not for root"

# 4. OpenStack config-2: meta_data.json public_keys and hostname, no user_data.
make_root
mkdir -p "$T/c2/openstack/latest"
printf '{"uuid": "u-1", "hostname": "c2-vm.novalocal", "public_keys": {"mykey": "%s"}}\n' "$KEY" \
	> "$T/c2/openstack/latest/meta_data.json"
xorriso -as mkisofs -quiet -V config-2 -J -R -o "$T/c2.iso" "$T/c2" 2>/dev/null
cp "$T/c2.iso" "$T/root/dev/disk/by-label/config-2"
agent prepare-env
has_key /root "$T/key.pub" || fail "config-2 public_keys not for root"
[ "$(cat "$T/root/etc/hostname")" = c2-vm.novalocal ] || fail "config-2 hostname not applied"

# 5. EC2-compatible meta-data service (IMDSv1 here), with the profile's switch.
make_root
sed -i 's/^  ec2_metadata: false/  ec2_metadata: true/' "$T/root/usr/share/appliance/profile.yml"
cat > "$T/md.py" <<'EOF'
import http.server, sys
items = {"/latest/meta-data/public-keys/": "0=mykey\n", "/latest/meta-data/public-keys/0/openssh-key": sys.argv[2] + "\n",
         "/latest/meta-data/local-hostname": "ip-10-1-2-3.ec2.internal"}
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = items.get(self.path)
        self.send_response(200 if body else 404)
        self.end_headers()
        if body: self.wfile.write(body.encode())
    def do_PUT(self):
        self.send_response(405); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
python3 "$T/md.py" "$port" "$KEY" &
HTTP_PID=$!
for _ in $(seq 50); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
	sleep 0.1
done
MD_URL="http://127.0.0.1:$port/latest/user-data" agent prepare-env
kill "$HTTP_PID"; HTTP_PID=
has_key /root "$T/key.pub" || fail "EC2 public key not for root"
[ "$(cat "$T/root/etc/hostname")" = ip-10-1-2-3.ec2.internal ] || fail "EC2 local-hostname not applied"

# 6. Hostile users are refused with the reason; keys outside the subset are listed; nothing fails.
make_root
long=$(printf 'a%.0s' $(seq 300))
cat > "$T/user-data" <<EOF
#cloud-config
users:
  - name: ../x
  - name: root
    uid: 1000
  - name: $long
  - name: ok
    shell: /bin/sh
    sudo: "ALL=(ALL) ALL\\nok ALL=NOPASSWD: ALL"
runcmd: [touch /tmp/pwned]
packages: [nginx]
EOF
printf 'instance-id: iid-bad\n' > "$T/meta-data"
cloud-localds "$T/bad.iso" "$T/user-data" "$T/meta-data"
cp "$T/bad.iso" "$T/root/dev/disk/by-label/cidata"
agent prepare-env 2> "$T/journal"
status > "$T/s.json"
jq -e '.state == "unconfigured"' "$T/s.json" >/dev/null || fail "hostile seed: $(cat "$T/s.json")"
for want in "users:0: refused: '../x' is not a valid user name" "user 'root': refused: user 'root' exists with uid 0, not 1000" \
	"users:2: refused: user name 'aaaa" "users:3: refused: user 'ok': sudo rule" "runcmd: not supported" "packages: not supported"; do
	jq -e --arg w "$want" '[.notes[] | select(contains($w))] | length == 1' "$T/s.json" >/dev/null ||
		fail "status notes lack '$want': $(jq -c .notes "$T/s.json")"
	grep -qF -- "$want" "$T/journal" || fail "the log lacks '$want'"
done
agent status | grep -q '^Notes (not supported by this image, or refused):$' || fail "status text has no notes"
[ "$(cut -d: -f1 "$T/root/etc/passwd" | sort | tr '\n' ' ')" = "app root " ] || fail "a hostile user was created: $(cat "$T/root/etc/passwd")"
grep -q '^root:x:0:0:' "$T/root/etc/passwd" || fail "root changed"

# 7. A cloud-config baked into the image (image --format box: the vagrant user), no seed at all.
make_root
mkdir -p "$T/root/usr/share/appliance/cloud-config.d"
printf '#cloud-config\nusers:\n  - name: vagrant\n    sudo: "ALL=(ALL) NOPASSWD:ALL"\n    ssh_authorized_keys: ["%s"]\n' \
	"$KEY" > "$T/root/usr/share/appliance/cloud-config.d/90-image.cfg"
agent prepare-env
grep -q '^vagrant:x:1001:1001::/home/vagrant:/bin/sh$' "$T/root/etc/passwd" || fail "the baked cloud-config made no vagrant user"
has_key /home/vagrant "$T/key.pub" || fail "the baked key is not installed"
status | jq -e '.state == "unconfigured"' >/dev/null || fail "not unconfigured with a baked cloud-config"

echo "OK"
