#!/usr/bin/env python3
"""Writes cases.tsv, the table of tests/integration/test-hostile-corpus.sh: one hostile input a
line with its expected outcome (KIND|EXPECT|TEXT|INPUT, INPUT as printf %b text or a file of
KIND/). Run from this directory after changing the lists below; the table is committed."""
import os

rows = []


def add(kind, expect, text, inp):
    inp = inp.replace("\n", "\\n").replace("\t", "\\t")
    assert "|" not in inp and "|" not in text, inp
    rows.append(f"{kind}|{expect}|{text}|{inp}")


H = "#cloud-config\n"
D = "appliance:\n  domain: a.example.org\n"
# ---- envs: both programs, the same verdict. Structure first.
add("env", "refused", "the first line must be", D)
add("env", "refused", "document is empty", H)
add("env", "refused", "", "")
add("env", "refused", "did not find expected", H + "appliance: [unclosed\n")
add("env", "refused", "", H + 'appliance:\n  domain: "unterminated\n')
add("env", "refused", "", H + "appliance:\n\tdomain: a.example.org\n")
add("env", "refused", "", H + "- a\n- b\n")
add("env", "refused", "", H + "just a string\n")
add("env", "refused", "", H + "appliance: 42\n")
add("env", "refused", "", H + "appliance: [a, b]\n")
add("env", "refused", "", H + D + "---\nsecond: doc\n")
add("env", "refused", "", H + "a: &x [*x]\n")
# an alias bomb stays shared (bounded): only its unknown keys are reported
add("env", "ok", "unknown key", H + "a: &a [1,2]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n" + D)
add("env", "ok", "duplicate key 'domain'", H + "appliance:\n  domain: a.example.org\n  domain: b.example.org\n")
add("env", "refused", "", H + "? [complex, key]\n: value\n" + D)
add("env", "refused", "", H + "appliance: !!binary aGVsbG8=\n")
add("env", "refused", "", H + "\\x00\\x01\\x02\n")
add("env", "refused", "", H + "appliance:\n  domain: \\xff\\xfe\n")
add("env", "refused", "", H + "[" * 300 + "\n")
add("env", "refused", "", H + "".join("  " * i + f"k{i}:\n" for i in range(120)))
# values
for dom in ["bad_domain!", "-a.example.org", "a..example.org", "a" * 64 + ".org", "../../etc", '"a.example.org\\\\nx"',
            '""', '"*.example.org"', '"a b"', "[a, b]", "{a: b}", "null", "'a.example.org;rm -rf /'"]:
    add("env", "refused", "appliance:domain", H + "appliance:\n  domain: " + dom + "\n")
add("env", "refused", "appliance:domain", H + "appliance:\n  standby: false\n")
for k, v in [("standby", "maybe"), ("standby", "[1]"), ("storage", '"x"'), ("extra", "[1]"), ("ssl", '"x"')]:
    add("env", "refused", f"appliance:{k}", H + D + f"  {k}: {v}\n")
add("env", "refused", "appliance:ssl", H + D + '  ssl:\n    key: "-----BEGIN PRIVATE KEY-----\\\\nAAAA\\\\n-----END PRIVATE KEY-----"\n    cert: x\n')
add("env", "refused", "appliance:ssl", H + D + '  ssl:\n    cert: "-----BEGIN CERTIFICATE-----\\\\nMIIB\\\\n-----END CERTIFICATE-----"\n')
add("env", "refused", "appliance:dkim", H + D + "  dkim:\n    key: not a key\n")
add("env", "refused", "appliance:storage", H + D + "  storage:\n    ignore:\n      data: perhaps\n")
add("env", "refused", "appliance:extra:files", H + D + "  extra:\n    files:\n      - contents: x\n")
for path in ["relative/path", "/etc/../../x", '"/etc/a\\\\nb"', "/", '""']:
    add("env", "refused", "appliance:extra:files", H + D + "  extra:\n    files:\n      - path: " + path + "\n        contents: x\n")
for perm in ['"9999"', '"abc"', '"17777"', "[1]"]:
    add("env", "refused", "permissions", H + D + "  extra:\n    files:\n      - path: /etc/x\n        contents: x\n        permissions: " + perm + "\n")
add("env", "refused", "ssh_authorized_keys", H + 'ssh_authorized_keys: "not a list"\n' + D)
add("env", "refused", "ssh_authorized_keys", H + "ssh_authorized_keys:\n  - not a key\n" + D)
add("env", "refused", "ssh_authorized_keys", H + "ssh_authorized_keys:\n  - [nested]\n" + D)
add("env", "refused", "ecs:", H + D + "ecs:\n  database: x\n")
# accepted (warnings at most)
add("env", "ok", "", H + D)
add("env", "ok", "unknown key", H + D + "  nosuchkey: 1\n")
add("env", "ok", "unknown key", H + D + "nosuchtop: 1\n")
add("env", "ok", "", H + "appliance:\n  domain: A.Example.Org\n")
add("env", "ok", "", H + "appliance:\n  domain: " + ".".join(["a" * 63] * 3) + "\n")
add("env", "ok", "", H + D + "  standby: false\n")
add("env", "ok", "", H + "# comment\n" + D + "# trailing\n")
add("env", "ok", "", H + "appliance: {domain: a.example.org}\n")
add("env", "ok", "", H + D + "ssh_authorized_keys:\n  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN1YdxBpNlzxDqfJyw/QKow1F+wvG9hXGoqiysfJOn5Y a@b\n")
add("env", "refused", "NUL character", H + D + '  extra:\n    files:\n      - path: /etc/appliance/x.conf\n        contents: "nul \\\\0 and snowman \\\\u2603"\n')
add("env", "ok", "", H + D + '  extra:\n    files:\n      - path: /etc/appliance/x.conf\n        contents: "snowman \\\\u2603"\n')
# ---- user-data of a cidata seed without an env: the cloud-config subset, refused parts are notes
C = "#cloud-config\n"
add("userdata", "unconfigured", "", C + "hostname: h\n")
for body, text in [("users:\n  - name: ../../etc\n", "users:0"), ('users:\n  - name: "a\\\\nb"\n', "users:0"),
                   ("users:\n  - name: " + "a" * 40 + "\n", "users:0"), ("users:\n  - name: Root\n", "users:0"),
                   ("users:\n  - name: root\n    uid: 1000\n", "exists with uid 0, not 1000"), ("users:\n  - name: u1\n    shell: relative/sh\n", "users:0"),
                   ('users:\n  - name: u1\n    gecos: "a:b"\n', "users:0"), ('users:\n  - name: u1\n    sudo: "ALL\\\\nroot ALL=(ALL) ALL"\n', "users:0"),
                   ("users:\n  - name: u1\n    groups: [nosuchgroup]\n", "no group 'nosuchgroup'"), ("users:\n  - [1, 2]\n", "users:0"),
                   ("runcmd: [[rm, -rf, /]]\n", "runcmd"), ("write_files:\n  - path: /etc/shadow\n    content: x\n", "write_files"),
                   ("bootcmd: [reboot]\n", "bootcmd"), ('hostname: "../evil"\n', "hostname"), ('fqdn: "a b"\n', "fqdn"),
                   ("ssh_authorized_keys: [not a key]\n", "ssh_authorized_keys"), ("ssh_pwauth: true\n", "ssh_pwauth"),
                   ("disable_root: true\n", "disable_root"), ("growpart: {mode: off}\n", "growpart")]:
    add("userdata", "note", text, C + body)
add("userdata", "unconfigured", "", C + "users: [default]\n")
add("userdata", "unconfigured", "", C + 'users:\n  - name: deploy\n    groups: [adm, sudo]\n    sudo: "ALL=(ALL) NOPASSWD:ALL"\n    lock_passwd: true\n')
add("userdata", "unconfigured", "", C + "growpart: {mode: auto}\nresize_rootfs: true\n")
add("userdata", "unconfigured", "", "#!/bin/sh\nrm -rf /\n")
add("userdata", "unconfigured", "", 'Content-Type: multipart/mixed; boundary="x"\n\n--x\n--x--\n')
add("userdata", "refused", "the file is empty", "")
add("userdata", "unconfigured", "", C + "users:\n  - name: &n ok\n    groups: *n\n")
add("userdata", "unconfigured", "", "\\x1f\\x8b\\x08\\x00\\x00\\x00")
add("userdata", "refused", "Invalid env", C + "appliance: [unclosed\n")
add("userdata", "refused", "appliance:domain", C + 'appliance:\n  domain: "bad!"\n')
add("userdata", "ok", "", C + "appliance:\n  domain: seed.example.org\n")
add("userdata", "ok", "", C + "appliance:\n  domain: seed.example.org\nusers:\n  - name: ../x\n")
# ---- NoCloud meta-data next to a good env: never fails the boot
add("metadata", "ok", "", "instance-id: iid-1\nlocal-hostname: h\n")
add("metadata", "ok", "", "instance-id: iid-1\npublic-keys:\n  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN1YdxBpNlzxDqfJyw/QKow1F+wvG9hXGoqiysfJOn5Y a\n")
add("metadata", "ok", "", 'instance-id: iid-1\npublic-keys: "ssh-rsa AAAAB3NzaC1yc2E one"\n')
add("metadata", "ok", "", "instance-id: iid-1\npublic-keys:\n  k: [ssh-rsa AAAAB3NzaC1yc2E x]\n")
add("metadata", "ok", "", '{"instance-id": "i", "local-hostname": "json.example"}\n')
add("metadata", "ok", "", "")
for md in ["instance-id: [unclosed\n", "local-hostname: ../../etc\n", "local-hostname: [a, b]\n", "public-keys: {a: {b: {c: d}}}\n",
           "public-keys: [[nested]]\n", 'public-keys:\n  - "ssh-rsa AAAA\\\\nroot ALL"\n', "a: &x [*x]\n", "- a\n- b\n",
           'local-hostname: "' + "a" * 300 + '"\n', "\\x00\\xff\\xfe\n", "instance-id: i\ninstance-id: j\n",
           "public-keys: " + "[" * 200 + "\n", "local-hostname: !!binary aGVsbG8=\n", 'local-hostname: "a b"\n']:
    add("metadata", "ok", "", md)
# ---- config-2 meta_data.json alone (no user_data): keys and host name at most, never an env
for js in ['{"uuid": "u", "hostname": "c2.example", "public_keys": {"k": "ssh-rsa AAAAB3NzaC1yc2E k"}}',
           "{", "[]", '"string"', '{"hostname": ["a"]}', '{"hostname": "../../x"}', '{"hostname": "a\\\\nb"}',
           '{"public_keys": "x"}', '{"public_keys": {"a": ["x"], "b": {"c": 1}}}', '{"public_keys": {"a": "not a key"}}',
           '{"hostname": "a", "hostname": "b"}', "[" * 500, '{"hostname": "\\\\u0000evil"}', '{"a": 1e999999}',
           '\\xef\\xbb\\xbf{"hostname": "bom.example"}', '{"hostname": "' + "h" * 400 + '"}', "null", "",
           '{"keys": [{"type": "ssh", "data": "ssh-rsa AAAAB3NzaC1yc2E k"}]}', '{"meta": {"appliance": {"domain": "x"}}}']:
    add("config2", "unconfigured", "", js)
# ---- the image profile: a broken one fails prepare-env, naming the file
P = "distribution: debian\nsuite: bookworm\npackages: [udev]\n"
add("profile", "ok", "", P)
for body in ["distribution: [unclosed\n", "- a\n- b\n", P + "nosuchkey: 1\n", P + 'services: "x"\n',
             P + "services:\n  - health: tcp:1.2.3.4:1\n", P + 'services:\n  - unit: "a b.service"\n',
             P + "services:\n  - unit: ../x.service\n", P + "services:\n  - unit: x.service\n    timeout: -1\n",
             P + "services:\n  - unit: x.service\n    timeout: 99999999999999999999\n",
             P + 'services:\n  - unit: x.service\n    health: "ftp://x"\n', P + "templates:\n  - src: relative\n    dest: /etc/x\n",
             P + "templates:\n  - src: /a\n    dest: ../../etc/x\n", P + "templates:\n  - src: /a\n    dest: /etc/../../x\n",
             P + 'templates:\n  - src: /a\n    dest: /etc/x\n    mode: "99"\n', P + 'users:\n  - name: "../x"\n',
             P + "users:\n  - name: a\n    uid: -5\n", P + "users:\n  - name: a\n    home: relative\n",
             P + "volumes:\n  - label: other\n    place: disk\n", P + "features:\n  ec2_metadata: maybe\n",
             P + "env_keys: [1, [2]]\n", "a: &x [*x]\n", P + "suite: twice\n", "\\x00\\x01\n",
             "distribution: debian\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 100))]:
    add("profile", "refused", "profile.yml", body)
# ---- seed images (make-images.py). An ISO whose primary tree is damaged but whose Joliet tree is
# intact still gives its env; a FAT seed with a damaged chain, size or directory gives none.
images = {
    "iso": {"cidata-good.iso": "ok", "cidata-truncated.iso": "unconfigured", "cidata-no-pvd.iso": "unconfigured",
            "cidata-huge-size.iso": "ok", "cidata-extent-out.iso": "ok", "cidata-huge-root.iso": "ok",
            "config2-good.iso": "ok", "config2-loop.iso": "ok", "cidata-dotdot-name.iso": "ok"},
    "fat": {"cidata-good.img": "ok", "cidata-truncated.img": "unconfigured", "cidata-loop-chain.img": "unconfigured",
            "cidata-huge-size.img": "unconfigured", "cidata-cluster-out.img": "unconfigured",
            "cidata-zero-sector.img": "unconfigured", "config2-good.img": "ok", "config2-loop-dir.img": "unconfigured",
            "config2-dotdot.img": "unconfigured"},
}
for kind, files in images.items():
    assert set(files) == set(os.listdir(kind)), kind
    for f, expect in sorted(files.items()):
        add(kind, expect, "", f)
# ---- root tarballs: extracted, nothing outside the extraction directory, whatever they hold
for f in sorted(os.listdir("tarball")):
    add("tarball", "ok", "", f)
# ---- a symlink to the host planted before a step: never followed (the runner compares the host
# after each case); a step that must write through it fails, naming the link; one that can do
# without it (the ssh host keys, the step records) goes on and says why.
for step, path, expect, text in [
        ("prepare-env", "/run", "refused", "symbolic link"),
        ("prepare-env", "/run/appliance", "refused", "symbolic link"),
        ("prepare-env", "/etc", "ok", "symbolic link"),
        ("prepare-env", "/etc/ssh", "ok", "symbolic link"),
        ("prepare-env", "/root/.ssh", "ok", ""),
        ("prepare-storage", "/data", "refused", "symbolic link"),
        ("prepare-storage", "/volatile", "refused", "symbolic link"),
        ("prepare-storage", "/app/etc", "refused", "symbolic link"),
        ("prepare-storage", "/data/etc", "refused", "symbolic link"),
        ("prepare-storage", "/volatile/docker", "refused", "symbolic link"),
        ("prepare-storage", "/run/appliance", "ok", ""),
        ("prepare-storage", "/var/lib/postgresql", "refused", "symbolic link"),
        ("prepare-appliance", "/app/etc", "refused", "symbolic link"),
        ("prepare-appliance", "/data/etc", "refused", "symbolic link"),
        ("prepare-appliance", "/etc", "refused", "symbolic link"),
        ("prepare-appliance", "/root/.ssh", "refused", "symbolic link"),
        ("prepare-appliance", "/run/appliance/www", "ok", ""),
        ("prepare-appliance", "/etc/appliance", "refused", "symbolic link")]:
    add("plant", expect, text, f"{step} {path}")

with open("cases.tsv", "w") as f:
    f.write("# KIND|EXPECT|TEXT|INPUT: written by make-cases.py (see tests/integration/test-hostile-corpus.sh)\n")
    f.write("\n".join(rows) + "\n")
print(len(rows), "cases")
