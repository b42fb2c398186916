#!/usr/bin/env python3
"""Writes the hostile seed images and base tarballs of tests/data/hostile (and the fuzz corpora's
copies) into OUTDIR/{iso,fat,tarball}: good ones, truncated ones, directories that loop, huge
sizes, ".." names, and tarballs with ".." members, absolute paths and symlinks, device nodes and
hard links out. Needs genisoimage, mkfs.vfat and mcopy. Run again only to change the set; the
files are committed."""
import io, os, struct, subprocess, sys, tarfile, tempfile

out = sys.argv[1]
for d in ("iso", "fat", "tarball"):
    os.makedirs(os.path.join(out, d), exist_ok=True)

ENV = b"#cloud-config\nappliance:\n  domain: hostile.example.org\n"
META = b"instance-id: iid-hostile\nlocal-hostname: hostile\n"
C2 = b'{"uuid": "u", "hostname": "c2.example", "public_keys": {"k": "ssh-rsa AAAAB3NzaC1yc2E k"}}'


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def iso(files, label="cidata"):
    with tempfile.TemporaryDirectory() as t:
        for name, data in files.items():
            p = os.path.join(t, "tree", name)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            write(p, data)
        img = os.path.join(t, "x.iso")
        subprocess.run(["genisoimage", "-quiet", "-no-pad", "-o", img, "-V", label, "-J", "-r", os.path.join(t, "tree")],
                       check=True)
        return bytearray(open(img, "rb").read())


def iso_records(img, lba, size):
    """(offset, record) of every directory record of the directory at lba."""
    off, end = lba * 2048, lba * 2048 + size
    while off < end:
        n = img[off]
        if n == 0:
            off = (off // 2048 + 1) * 2048
            continue
        yield off, img[off:off + n]
        off += n


def iso_root(img):
    r = 16 * 2048 + 156
    return struct.unpack_from("<I", img, r + 2)[0], struct.unpack_from("<I", img, r + 10)[0]


def iso_find(img, name):
    lba, size = iso_root(img)
    for off, rec in iso_records(img, lba, size):
        ln = rec[32]
        ident = bytes(rec[33:33 + ln]).split(b";")[0].rstrip(b".").lower()
        if ident and name.lower().startswith(ident) and len(ident) >= 6:
            return off
    raise KeyError(name)


def set_both(img, off, field, value):
    struct.pack_into("<I", img, off + field, value)
    struct.pack_into(">I", img, off + field + 4, value)


good = iso({"user-data": ENV, "meta-data": META})
write(f"{out}/iso/cidata-good.iso", good)
write(f"{out}/iso/cidata-truncated.iso", good[:17 * 2048 + 100])
write(f"{out}/iso/cidata-no-pvd.iso", good[:16 * 2048])
img = bytearray(good)
set_both(img, iso_find(img, b"user_dat"), 10, 0xFFFFFFF0)   # huge size
write(f"{out}/iso/cidata-huge-size.iso", img)
img = bytearray(good)
set_both(img, iso_find(img, b"user_dat"), 2, 0x7FFFFFF0)    # extent beyond the image
write(f"{out}/iso/cidata-extent-out.iso", img)
img = bytearray(good)
lba, size = iso_root(img)
set_both(img, 16 * 2048 + 156, 10, 0xFFFFF800)              # root directory of 4 GiB
write(f"{out}/iso/cidata-huge-root.iso", img)
c2 = iso({"openstack/latest/meta_data.json": C2, "openstack/latest/user_data": ENV}, "config-2")
write(f"{out}/iso/config2-good.iso", c2)
img = bytearray(c2)
# openstack/ points back at the root: a directory that loops.
off = iso_find(img, b"openstack")
rl, rs = iso_root(img)
set_both(img, off, 2, rl)
set_both(img, off, 10, rs)
write(f"{out}/iso/config2-loop.iso", img)
img = bytearray(good)
off = iso_find(img, b"user_dat")
# Rename the Rock Ridge name of user-data to "..".
rec = img[off:off + img[off]]
i = rec.find(b"NM")
if i >= 0:
    ln = rec[i + 2]
    name_len = ln - 5
    img[off + i + 5:off + i + 5 + name_len] = (b".." + b"\0" * name_len)[:name_len]
write(f"{out}/iso/cidata-dotdot-name.iso", img)


def fat(files, size_kib=128):
    with tempfile.TemporaryDirectory() as t:
        img = os.path.join(t, "x.img")
        subprocess.run(["mkfs.vfat", "-C", "-n", "CIDATA", img, str(size_kib)], check=True, stdout=subprocess.DEVNULL)
        for name, data in files.items():
            p = os.path.join(t, "f")
            write(p, data)
            parts = name.split("/")
            for k in range(1, len(parts)):
                subprocess.run(["mmd", "-D", "s", "-i", img, "::" + "/".join(parts[:k])], stderr=subprocess.DEVNULL)
            subprocess.run(["mcopy", "-i", img, p, "::" + name], check=True)
        return bytearray(open(img, "rb").read())


def fat_geometry(img):
    bps, spc, res, nfats, roots = struct.unpack_from("<HBHBH", img, 11)
    fatsz = struct.unpack_from("<H", img, 22)[0]
    root_off = (res + nfats * fatsz) * bps
    data_off = root_off + roots * 32
    return bps, spc, res * bps, root_off, roots, data_off


def fat_entry(img, name83):
    bps, spc, fat_off, root_off, roots, data_off = fat_geometry(img)
    for i in range(roots):
        e = root_off + i * 32
        if img[e:e + 11] == name83:
            return e
    raise KeyError(name83)


big = ENV + b"#" + b"x" * 9000 + b"\n"
good = fat({"user-data": big, "meta-data": META})
write(f"{out}/fat/cidata-good.img", good)
write(f"{out}/fat/cidata-truncated.img", good[:4096])
img = bytearray(good)
e = fat_entry(img, b"USER-D~1   ")
first = struct.unpack_from("<H", img, e + 26)[0]
bps, spc, fat_off, *_ = fat_geometry(img)
# FAT12 entry of the first cluster -> itself (a chain that loops).
o = fat_off + first * 3 // 2
v = struct.unpack_from("<H", img, o)[0]
v = (v & 0x000F) | (first << 4) if first & 1 else (v & 0xF000) | first
struct.pack_into("<H", img, o, v)
write(f"{out}/fat/cidata-loop-chain.img", img)
img = bytearray(good)
struct.pack_into("<I", img, fat_entry(img, b"USER-D~1   ") + 28, 0xFFFFFFFF)
write(f"{out}/fat/cidata-huge-size.img", img)
img = bytearray(good)
struct.pack_into("<H", img, fat_entry(img, b"USER-D~1   ") + 26, 0xFF0)
write(f"{out}/fat/cidata-cluster-out.img", img)
img = bytearray(good)
struct.pack_into("<H", img, 11, 0)   # zero bytes per sector
write(f"{out}/fat/cidata-zero-sector.img", img)
c2 = fat({"openstack/latest/meta_data.json": C2, "openstack/latest/user_data": ENV})
write(f"{out}/fat/config2-good.img", c2)
img = bytearray(c2)
e = fat_entry(img, b"OPENST~1   ")
struct.pack_into("<H", img, e + 26, 0)   # openstack/ -> cluster 0: the root directory again
write(f"{out}/fat/config2-loop-dir.img", img)
img = bytearray(c2)
e = fat_entry(img, b"OPENST~1   ")
img[e:e + 11] = b"..         "
write(f"{out}/fat/config2-dotdot.img", img)


def tar(members, compression=""):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w" + (":" + compression if compression else ""), format=tarfile.GNU_FORMAT) as t:
        for m in members:
            ti = tarfile.TarInfo(m["name"])
            ti.type = m.get("type", tarfile.REGTYPE)
            ti.mode = m.get("mode", 0o644)
            ti.linkname = m.get("link", "")
            ti.devmajor, ti.devminor = m.get("dev", (0, 0))
            data = m.get("data", b"")
            ti.size = len(data) if ti.type == tarfile.REGTYPE else 0
            t.addfile(ti, io.BytesIO(data) if ti.type == tarfile.REGTYPE else None)
    return buf.getvalue()


D = tarfile.DIRTYPE
base = [{"name": "etc", "type": D, "mode": 0o755}, {"name": "etc/hostname", "data": b"base\n"}]
cases = {
    "good": base,
    "dotdot-member": base + [{"name": "../escaped", "data": b"out\n"}],
    "dotdot-inner": base + [{"name": "etc/../../escaped", "data": b"out\n"}],
    "absolute-member": base + [{"name": "/tmp/hostile-absolute", "data": b"out\n"}],
    "abs-symlink-then-file": base + [{"name": "etc/out", "type": tarfile.SYMTYPE, "link": "/tmp"},
                                      {"name": "etc/out/hostile-through-link", "data": b"out\n"}],
    "rel-symlink-out-then-file": base + [{"name": "etc/up", "type": tarfile.SYMTYPE, "link": "../../.."},
                                          {"name": "etc/up/hostile-through-up", "data": b"out\n"}],
    "hardlink-out": base + [{"name": "etc/passwd-link", "type": tarfile.LNKTYPE, "link": "../../etc/passwd"}],
    "hardlink-abs": base + [{"name": "etc/shadow-link", "type": tarfile.LNKTYPE, "link": "/etc/shadow"}],
    "device-node": base + [{"name": "dev", "type": D, "mode": 0o755},
                           {"name": "dev/sda-copy", "type": tarfile.BLKTYPE, "dev": (8, 0), "mode": 0o666}],
    "char-device": base + [{"name": "dev", "type": D}, {"name": "dev/mem-copy", "type": tarfile.CHRTYPE, "dev": (1, 1)}],
    "setuid": base + [{"name": "etc/suid", "data": b"#!/bin/sh\n", "mode": 0o4755}],
    "abs-symlink-kept": base + [{"name": "etc/localtime", "type": tarfile.SYMTYPE, "link": "/usr/share/zoneinfo/UTC"}],
}
for name, members in cases.items():
    write(f"{out}/tarball/{name}.tar", tar(members))
write(f"{out}/tarball/good.tar.gz", tar(base, "gz"))
write(f"{out}/tarball/truncated.tar", tar(base)[:700])
write(f"{out}/tarball/truncated.tar.gz", tar(base, "gz")[:40])
write(f"{out}/tarball/not-a-tar.tar", b"this is not an archive\n" * 20)
write(f"{out}/tarball/empty.tar", b"")
