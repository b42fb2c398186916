#!/bin/bash
# The agent's steps against trees with planted symlinks: /run, /etc, /root/.ssh, /app/etc, /data/etc,
# /data/ecs-ca, /volatile/docker, the PostgreSQL target and an extra file's directory, each pointing
# at a directory outside the root ("the host"); by-label links pointing out of the root at a seed
# that holds an env; a FIFO as the env; a link as the last component of a file written (replaced). Each step must fail with the reason naming the link (or
# ignore the seed, or refuse the FIFO without hanging), and a snapshot of the host side (paths,
# types, modes, owners, sizes, link targets, sha256 of every file) must be the same before and
# after. Everything runs twice: through openat2() and through the user-space walk.
set -euo pipefail

: "${AGENT:?}"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (owners of the layout)"; exit 77; }

T=$(mktemp -d /tmp/test-agent-hostile.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

H="$T/host"
R="$T/root"
KEY='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostileHostileHostileHostileHostileHostil test@example'

mkdir -p "$H"
for d in run etc ssh appetc dataetc ca docker pg extra; do
	mkdir -p "$H/$d"
	printf 'host %s\n' "$d" > "$H/$d/precious"
	chmod 0640 "$H/$d/precious"
done
printf 'host key\n' > "$H/etc/server.key.pem"
printf 'host name\n' > "$H/etc/hostname"
printf 'existing keys\n' > "$H/ssh/authorized_keys"

snapshot() {
	(cd "$H" && find . -printf '%p %y %m %U:%G %s %l\n' | LC_ALL=C sort &&
		find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2)
}
BEFORE=$(snapshot)
host_unchanged() {
	[ "$(snapshot)" = "$BEFORE" ] || { diff <(echo "$BEFORE") <(snapshot) >&2 || true; fail "$1: the host side changed"; }
}

make_root() {
	rm -rf "$R"
	mkdir -p "$R/etc" "$R/app" "$R/root" "$R/dev/disk/by-label" "$R/var/lib/postgresql/15/main"
	printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1001:1001::/app:/bin/sh\npostgres:x:115:120::/var/lib/postgresql:/bin/sh\n' \
		> "$R/etc/passwd"
	printf 'root:x:0:\napp:x:1001:\npostgres:x:120:\nadm:x:4:\n' > "$R/etc/group"
	echo 15 > "$R/var/lib/postgresql/15/main/PG_VERSION"
	cat > "$R/app/env.yml" <<-EOF
	#cloud-config
	ssh_authorized_keys:
	  - $KEY
	appliance:
	  domain: hostile.example.org
	  extra:
	    files:
	      - path: /etc/appliance/extra.conf
	        contents: extra
	        owner: app:adm
	        permissions: "0640"
	EOF
}

agent() { timeout 60 "$AGENT" --root "$R" --systemctl=true --metadata-url "http://127.0.0.1:1/latest/user-data" "$@"; }

# expect_fail CASE STEP TEXT: the step exits non-zero, its messages hold TEXT, the host is unchanged.
expect_fail() {
	local rc=0
	agent "$2" > "$T/out" 2>&1 || rc=$?
	[ "$rc" != 0 ] || { cat "$T/out" >&2; fail "$1: $2 succeeded"; }
	[ "$rc" != 124 ] || fail "$1: $2 hung"
	grep -qF -- "$3" "$T/out" || { cat "$T/out" >&2; fail "$1: $2 did not say: $3"; }
	host_unchanged "$1"
}

# A clean tree up to (not including) the step a case attacks.
ready_for() {
	make_root
	agent prepare-env > /dev/null 2>&1 || fail "$1: prepare-env on a clean tree"
	if [ "$2" = prepare-appliance ]; then
		agent prepare-storage > /dev/null 2>&1 || fail "$1: prepare-storage on a clean tree"
	fi
}

clear_failed() { rm -f "$R/run/appliance-failed" "$R/run/appliance_failed"; }

for walk in 0 1; do
	export CHASE_FORCE_WALK=$walk
	echo "== CHASE_FORCE_WALK=$walk"

	# The control: a clean tree passes every step, and the appliance's own links are followed.
	make_root
	agent prepare-env > /dev/null 2>&1 || fail "control: prepare-env"
	agent prepare-storage > /dev/null 2>&1 || fail "control: prepare-storage"
	agent prepare-appliance > /dev/null 2>&1 || fail "control: prepare-appliance"
	[ "$(readlink "$R/app/etc")" = ../data/etc ] || fail "control: /app/etc link"
	[ -s "$R/data/etc/server.key.pem" ] || fail "control: the TLS key is not on /data/etc"
	[ "$(stat -c '%a %U' "$R/data/etc/server.key.pem")" = "600 root" ] || fail "control: TLS key mode"
	grep -qF "$KEY" "$R/root/.ssh/authorized_keys" || fail "control: authorized_keys"
	[ "$(stat -c '%a %u:%g' "$R/etc/appliance/extra.conf")" = "640 1001:4" ] || fail "control: extra file"

	# /run
	make_root
	rm -rf "$R/run"
	ln -s "$H/run" "$R/run"
	expect_fail run prepare-env "'/run' is a symbolic link (to '$H/run'), refused"

	# /run/appliance/steps replaced by a link after prepare-env: the next step's record is refused,
	# and said (the step's own work is not undone by it)
	ready_for steps prepare-storage
	rm -rf "$R/run/appliance/steps"
	ln -s "$H/run" "$R/run/appliance/steps"
	agent prepare-storage > "$T/out" 2>&1 || true
	grep -qF "Failed to record the step in '/run/appliance/steps/prepare-storage': '/run/appliance/steps' is a symbolic link (to '$H/run'), refused" "$T/out" ||
		{ cat "$T/out" >&2; fail "steps: the refused record is not said"; }
	host_unchanged steps

	# /etc (hostname, hosts)
	ready_for etc prepare-appliance
	mv "$R/etc" "$R/etc.real"
	ln -s "$H/etc" "$R/etc"
	expect_fail etc prepare-appliance "'/etc' is a symbolic link (to '$H/etc'), refused"

	# A link in the last component of a file the agent writes (as nginx ships sites-enabled/default):
	# replaced by the new file, never written through.
	ready_for last-link prepare-appliance
	ln -sf "$H/etc/hostname" "$R/etc/hostname"
	agent prepare-appliance > "$T/out" 2>&1 || { cat "$T/out" >&2; fail "last-link: prepare-appliance"; }
	[ -f "$R/etc/hostname" ] && [ ! -L "$R/etc/hostname" ] || fail "last-link: /etc/hostname still a link"
	[ "$(cat "$R/etc/hostname")" = hostile.example.org ] || fail "last-link: /etc/hostname content"
	host_unchanged last-link

	# /root/.ssh
	ready_for ssh prepare-appliance
	ln -s "$H/ssh" "$R/root/.ssh"
	expect_fail root-ssh prepare-appliance "'/root/.ssh' is a symbolic link (to '$H/ssh'), refused"

	# /app/etc: a link the appliance did not make, in both steps that use it
	ready_for app-etc prepare-appliance
	rm "$R/app/etc"
	ln -s "$H/appetc" "$R/app/etc"
	expect_fail app-etc prepare-appliance "'/app/etc' is a symbolic link (to '$H/appetc'), refused"
	clear_failed
	expect_fail app-etc prepare-storage "'/app/etc' is a symbolic link to '$H/appetc', not the appliance's '../data/etc': refused"

	# /data/etc behind the appliance's own /app/etc link
	ready_for data-etc prepare-appliance
	rm -rf "$R/data/etc"
	ln -s "$H/dataetc" "$R/data/etc"
	expect_fail data-etc prepare-appliance "'/data/etc' is a symbolic link (to '$H/dataetc'), refused"
	clear_failed
	expect_fail data-etc prepare-storage "'/data/etc' is a symbolic link (to '$H/dataetc'), refused"

	# /data/ecs-ca, /volatile/docker, the PostgreSQL target: planted in the volumes before the layout
	for c in "data/ecs-ca ca" "volatile/docker docker" "data/postgresql pg"; do
		set -- $c
		ready_for "$1" prepare-storage
		mkdir -p "$R/$(dirname "$1")"
		ln -s "$H/$2" "$R/$1"
		expect_fail "$1" prepare-storage "'/$1' is a symbolic link (to '$H/$2'), refused"
	done
	# ... and a relative escape of the PostgreSQL target
	ready_for pg-relative prepare-storage
	mkdir -p "$R/data"
	ln -s "../../../../../../../../../../..$H/pg" "$R/data/postgresql"
	expect_fail pg-relative prepare-storage "'/data/postgresql' is a symbolic link"
	[ -e "$R/var/lib/postgresql/15/main/PG_VERSION" ] || fail "pg-relative: the PostgreSQL data moved"

	# An extra file's directory
	ready_for extra prepare-appliance
	ln -s "$H/extra" "$R/etc/appliance"
	expect_fail extra prepare-appliance \
		"appliance:extra:files:0: cannot write '/etc/appliance/extra.conf': '/etc/appliance' is a symbolic link (to '$H/extra'), refused"

	# A FIFO as the env: refused at once, never read
	make_root
	rm "$R/app/env.yml"
	mkfifo "$R/app/env.yml"
	expect_fail fifo prepare-env "Failed to read env '/app/env.yml': not a regular file"

	# by-label links out of the root at a seed holding an env: never followed, nothing activated
	if command -v cloud-localds > /dev/null; then
		printf '#cloud-config\nappliance:\n  domain: outside.example.org\n' > "$T/user-data"
		printf 'instance-id: iid-hostile\n' > "$T/meta-data"
		[ -e "$T/seed.iso" ] || cloud-localds "$T/seed.iso" "$T/user-data" "$T/meta-data"
		make_root
		rm "$R/app/env.yml"
		ln -s "$T/seed.iso" "$R/dev/disk/by-label/cidata"
		ln -s "../../../../../../../../../..$T/seed.iso" "$R/dev/disk/by-label/CIDATA"
		agent prepare-env > "$T/out" 2>&1 || { cat "$T/out" >&2; fail "by-label: prepare-env"; }
		[ ! -e "$R/run/active-env.yml" ] || fail "by-label: an env was activated from outside the root"
		grep -q '^RESULT=unconfigured$' "$R/run/appliance/steps/prepare-env" || fail "by-label: not unconfigured"
		if grep -rq outside.example.org "$R"; then fail "by-label: the outside env reached the tree"; fi
		# The same seed inside the root, through a relative link like udev's, is read.
		cp "$T/seed.iso" "$R/dev/sr0"
		rm "$R/dev/disk/by-label/cidata" "$R/dev/disk/by-label/CIDATA"
		ln -s ../../sr0 "$R/dev/disk/by-label/cidata"
		agent prepare-env > /dev/null 2>&1 || fail "by-label: the seed inside the root"
		grep -q 'domain: outside.example.org' "$R/run/active-env.yml" || fail "by-label: the seed inside not read"
	else
		echo "NOTE: no cloud-localds, the by-label case is not run"
	fi
	host_unchanged "end of pass $walk"
done
echo "OK"
