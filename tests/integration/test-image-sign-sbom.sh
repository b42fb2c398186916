#!/bin/bash
# Signed checksums and the SBOM: an image built with --sign-key (a throw-away key in a private
# GNUPGHOME) has SHA256SUMS.gpg that gpg --verify accepts (and rejects once SHA256SUMS changes),
# and sbom.spdx.json, an SPDX 2.3 document of the image's dpkg packages, listed in SHA256SUMS.
set -eu -o pipefail
. "$SRCDIR/tests/integration/image-common.sh"

image_build_setup qemu-img jq gpg python3

tmp=$(mktemp -d)
export GNUPGHOME="$tmp/gnupg"
trap 'gpgconf --kill all >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
mkdir -m 0700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key 'Image Signer <signer@test.invalid>' ed25519 sign never 2>/dev/null
keyid=$(gpg --batch --with-colons --list-keys signer@test.invalid | awk -F: '$1 == "fpr" { print $10; exit }')
[ -n "$keyid" ]

printf 'name: sign-test\ndistribution: debian\nsuite: bookworm\narchitecture: amd64\npackages:\n  - linux-image-cloud-amd64\n' \
        >"$tmp/p.yml"
mkdir "$tmp/scratch"
TMPDIR="$tmp/scratch" "$BUILDER" image --profile "$tmp/p.yml" --base "$rootfs" --size 900M --format raw \
        --source-date-epoch 1700000000 --sign-key "$keyid" -o "$tmp/out" >/dev/null
ls "$tmp/out"
out="$tmp/out"

echo "== signature"
gpg --batch --status-fd 1 --verify "$out/SHA256SUMS.gpg" "$out/SHA256SUMS" 2>/dev/null | tee "$tmp/status" |
        grep -E 'GOODSIG|VALIDSIG'
grep -q "VALIDSIG $keyid" "$tmp/status"
(cd "$out" && sha256sum -c SHA256SUMS)
grep -q '  sbom.spdx.json$' "$out/SHA256SUMS"
cp "$out/SHA256SUMS" "$tmp/sums" && echo "0000  extra" >>"$tmp/sums"
if gpg --batch --verify "$out/SHA256SUMS.gpg" "$tmp/sums" 2>/dev/null; then
        echo "FAIL: a changed SHA256SUMS verifies"; exit 1
fi
# A key that is not there: the build fails and names it.
if "$BUILDER" image --profile "$tmp/p.yml" --base "$rootfs" --size 900M --format raw --sign-key 0000DEADBEEF \
        -o "$tmp/out2" 2>"$tmp/err" >/dev/null; then
        echo "FAIL: an unknown key signed"; exit 1
fi
grep -q '0000DEADBEEF' "$tmp/err"

echo "== SBOM"
python3 - "$out/sbom.spdx.json" "$out/manifest.json" <<'PY'
import hashlib, json, re, sys
doc = json.load(open(sys.argv[1]))
man = json.load(open(sys.argv[2]))
def need(cond, what):
    if not cond:
        sys.exit("FAIL: sbom: " + what)
for k in ("spdxVersion", "dataLicense", "SPDXID", "name", "documentNamespace", "creationInfo", "packages",
          "relationships"):
    need(k in doc, "no " + k)
need(doc["spdxVersion"] == "SPDX-2.3", "spdxVersion")
need(doc["dataLicense"] == "CC0-1.0" and doc["SPDXID"] == "SPDXRef-DOCUMENT", "document header")
need(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", doc["creationInfo"]["created"]), "created")
need(doc["creationInfo"]["created"] == "2023-11-14T22:13:20Z", "created is not the epoch")
need(any(c.startswith("Tool: appliance-builder") for c in doc["creationInfo"]["creators"]), "creators")
pk = doc["packages"]
need(len(pk) == len(man["packages"]) and len(pk) > 50, "%d packages, the manifest has %d" % (len(pk), len(man["packages"])))
ids = [p["SPDXID"] for p in pk]
need(len(set(ids)) == len(ids) and all(re.match(r"^SPDXRef-[A-Za-z0-9.-]+$", i) for i in ids), "SPDXIDs")
need(sorted(p["name"] + " " + p["versionInfo"] for p in pk) == sorted(man["packages"]), "names and versions")
for p in pk:
    for k in ("name", "versionInfo", "downloadLocation", "licenseConcluded", "licenseDeclared", "sourceInfo"):
        need(k in p, "%s: no %s" % (p.get("name"), k))
    need(p["filesAnalyzed"] is False, "filesAnalyzed")
    ref = p["externalRefs"][0]
    need(ref["referenceType"] == "purl" and ref["referenceLocator"].startswith("pkg:deb/debian/%s@" % p["name"]), "purl")
    need(re.search(r"\?arch=(amd64|all)$", ref["referenceLocator"]), "purl arch: " + ref["referenceLocator"])
lic = [p for p in pk if "licenseComments" in p]
need(len(lic) > len(pk) // 2, "licences for only %d of %d packages" % (len(lic), len(pk)))
need(any(p["name"] == "libc6" and "glibc" in p["sourceInfo"] for p in pk), "libc6's source")
rel = doc["relationships"]
need(len(rel) == len(pk) and all(r["relationshipType"] == "DESCRIBES" and r["relatedSpdxElement"] in ids for r in rel),
     "relationships")
lines = "".join("%s %s %s\n" % (p["name"], p["versionInfo"], p["externalRefs"][0]["referenceLocator"].rsplit("=", 1)[1])
                for p in sorted(pk, key=lambda p: p["name"]))
digest = hashlib.sha256(lines.encode()).hexdigest()
need(digest in doc["comment"] and digest in doc["documentNamespace"], "package list checksum")
print("sbom: %d packages, %d with licences, list sha256 %s" % (len(pk), len(lic), digest[:16]))
PY
echo "PASS"
