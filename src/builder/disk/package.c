/**
 * Vagrant boxes (libvirt and VirtualBox), their catalog, and the OVA (package.h). The archives are
 * written through lib/archive.h in the order the importers expect; the OVA's disk is converted anew with
 * the vmdk descriptor fields vSphere and AWS VM import check.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include "cleanup.h"
#include "crypto.h"
#include "disk/package.h"
#include "escape.h"
#include "fileio.h"
#include "json-util.h"
#include "lib/archive.h"
#include "log.h"
#include "macro.h"
#include "reterr.h"
#include "spawn.h"
#include "strv.h"

#define GIB ((uint64_t) 1 << 30)

/* One archive member: a file of the output directory (path) or text. */
typedef struct Member {
        const char *name;
        const char *path;       /* NULL: text */
        const char *text;
} Member;

static int archive_add(ArWriter *w, const Member *m, uint64_t mtime, char **reterr) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL, *err = NULL;
        struct stat st = {};
        ssize_t n;
        int r;

        if (m->path) {
                fd = open(m->path, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || fstat(fd, &st) < 0)
                        return reterr_printf(reterr, -errno, "cannot read '%s': %m", m->path);
        } else
                st.st_size = (off_t) strlen(m->text);
        const ArMember am = {
                .name = m->name,
                .size = (uint64_t) st.st_size,
                .perm = 0644,
                .mtime = (int64_t) mtime,
                .uname = "root",
                .gname = "root",
        };
        r = ar_writer_begin(w, &am, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return reterr_printf(reterr, -EIO, "archive member '%s': %s", m->name, strna(err));
        if (!m->path) {
                if (ar_writer_data(w, m->text, (size_t) st.st_size, &err) < 0)
                        return reterr_printf(reterr, -EIO, "archive member '%s': %s", m->name, strna(err));
                return 0;
        }
        buf = malloc(1 << 20);
        if (!buf)
                return -ENOMEM;
        while ((n = read(fd, buf, 1 << 20)) > 0)
                if (ar_writer_data(w, buf, (size_t) n, &err) < 0)
                        return reterr_printf(reterr, -EIO, "archive member '%s': %s", m->name, strna(err));
        if (n < 0)
                return reterr_printf(reterr, -errno, "cannot read '%s': %m", m->path);
        return 0;
}

/* Writes the tar name in the output directory, members in this order; adds name to *written. */
static int write_tar(const PackageInput *in, const char *name, bool ustar, const Member *members, size_t n,
                     char ***written, char **reterr) {
        _cleanup_close_ int dirfd = open(in->output_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_(ar_writer_freep) ArWriter *w = NULL;
        _cleanup_free_ char *err = NULL;
        AtomicFile f;
        int r;

        if (dirfd < 0)
                return reterr_printf(reterr, -errno, "cannot open '%s': %m", in->output_dir);
        r = atomic_file_open(&f, dirfd, name, output_mode(in->secret));
        if (r < 0)
                return reterr_printf(reterr, r, "cannot create '%s': %s", name, strerror(-r));
        r = ar_writer_new(ustar ? AR_USTAR : AR_PAX, 0, &w, &err);
        if (r >= 0)
                r = ar_writer_open_fd(w, f.fd, &err);
        if (r < 0 && r != -ENOMEM)
                r = reterr_printf(reterr, -EIO, "'%s': %s", name, strna(err));
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = archive_add(w, &members[i], in->mtime, reterr);
        if (w) {
                int k = ar_writer_close(w, &err);
                if (k < 0 && r >= 0)
                        r = reterr_printf(reterr, -EIO, "'%s': %s", name, strna(err));
                w = ar_writer_free(w);
        }
        if (r >= 0) {
                r = atomic_file_commit(&f);
                if (r < 0)
                        (void) reterr_printf(reterr, r, "cannot commit '%s': %s", name, strerror(-r));
        }
        atomic_file_done(&f);
        if (r >= 0 && strv_extend(written, name) < 0)
                r = -ENOMEM;
        if (r >= 0)
                log_info("Wrote %s/%s.", in->output_dir, name);
        return r;
}

static char *out_path(const PackageInput *in, const char *name) {
        char *p;
        return asprintf(&p, "%s/%s", in->output_dir, name) < 0 ? NULL : p;
}

void package_mac(const char *name, char ret[13]) {
        uint32_t h = 2166136261U;   /* FNV-1a of the name */

        for (const char *c = name; *c; c++)
                h = (h ^ (uint8_t) *c) * 16777619U;
        snprintf(ret, 13, "080027%06X", (unsigned) (h & 0xffffff));
}

/* An OVF 1.0 descriptor for one disk (names escaped with html_escape(): its entities, &#39; included,
 * are XML's): CPU, memory, an LSI Logic SCSI controller with the disk, an
 * E1000 NIC on NAT with mac. */
static char *ovf_make(const PackageInput *in, const char *vmdk_name, uint64_t vmdk_size, const char *mac) {
        _cleanup_free_ char *name = html_escape(in->name), *desc = html_escape(in->description ?: in->name),
                           *href = html_escape(vmdk_name), *out = NULL;
        char macc[18];

        if (!name || !desc || !href)
                return NULL;
        snprintf(macc, sizeof macc, "%.2s:%.2s:%.2s:%.2s:%.2s:%.2s", mac, mac + 2, mac + 4, mac + 6, mac + 8, mac + 10);
        if (asprintf(&out,
                     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<Envelope ovf:version=\"1.0\" xml:lang=\"en-US\" xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\"\n"
                     "    xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\"\n"
                     "    xmlns:rasd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData\"\n"
                     "    xmlns:vssd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData\"\n"
                     "    xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
                     "  <References>\n"
                     "    <File ovf:id=\"file1\" ovf:href=\"%s\" ovf:size=\"%" PRIu64 "\"/>\n"
                     "  </References>\n"
                     "  <DiskSection>\n"
                     "    <Info>Virtual disk information</Info>\n"
                     "    <Disk ovf:capacity=\"%" PRIu64 "\" ovf:capacityAllocationUnits=\"byte\" ovf:diskId=\"vmdisk1\" "
                     "ovf:fileRef=\"file1\" ovf:format=\"http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized\"/>\n"
                     "  </DiskSection>\n"
                     "  <NetworkSection>\n"
                     "    <Info>The list of logical networks</Info>\n"
                     "    <Network ovf:name=\"NAT\">\n      <Description>The NAT network</Description>\n    </Network>\n"
                     "  </NetworkSection>\n"
                     "  <VirtualSystem ovf:id=\"%s\">\n"
                     "    <Info>A virtual machine</Info>\n"
                     "    <Name>%s</Name>\n"
                     "    <AnnotationSection>\n      <Info>A human-readable annotation</Info>\n"
                     "      <Annotation>%s</Annotation>\n    </AnnotationSection>\n"
                     "    <OperatingSystemSection ovf:id=\"96\">\n"
                     "      <Info>The kind of installed guest operating system</Info>\n"
                     "      <Description>Debian_64</Description>\n"
                     "    </OperatingSystemSection>\n"
                     "    <VirtualHardwareSection>\n"
                     "      <Info>Virtual hardware requirements</Info>\n"
                     "      <System>\n"
                     "        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>\n"
                     "        <vssd:InstanceID>0</vssd:InstanceID>\n"
                     "        <vssd:VirtualSystemIdentifier>%s</vssd:VirtualSystemIdentifier>\n"
                     "        <vssd:VirtualSystemType>vmx-10</vssd:VirtualSystemType>\n"
                     "      </System>\n"
                     "      <Item>\n"
                     "        <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>\n"
                     "        <rasd:Description>Number of Virtual CPUs</rasd:Description>\n"
                     "        <rasd:ElementName>%u virtual CPU(s)</rasd:ElementName>\n"
                     "        <rasd:InstanceID>1</rasd:InstanceID>\n"
                     "        <rasd:ResourceType>3</rasd:ResourceType>\n"
                     "        <rasd:VirtualQuantity>%u</rasd:VirtualQuantity>\n"
                     "      </Item>\n"
                     "      <Item>\n"
                     "        <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>\n"
                     "        <rasd:Description>Memory Size</rasd:Description>\n"
                     "        <rasd:ElementName>%u MB of memory</rasd:ElementName>\n"
                     "        <rasd:InstanceID>2</rasd:InstanceID>\n"
                     "        <rasd:ResourceType>4</rasd:ResourceType>\n"
                     "        <rasd:VirtualQuantity>%u</rasd:VirtualQuantity>\n"
                     "      </Item>\n"
                     "      <Item>\n"
                     "        <rasd:Address>0</rasd:Address>\n"
                     "        <rasd:Description>SCSI Controller</rasd:Description>\n"
                     "        <rasd:ElementName>SCSI Controller 0</rasd:ElementName>\n"
                     "        <rasd:InstanceID>3</rasd:InstanceID>\n"
                     "        <rasd:ResourceSubType>lsilogic</rasd:ResourceSubType>\n"
                     "        <rasd:ResourceType>6</rasd:ResourceType>\n"
                     "      </Item>\n"
                     "      <Item>\n"
                     "        <rasd:AddressOnParent>0</rasd:AddressOnParent>\n"
                     "        <rasd:ElementName>Hard Disk 1</rasd:ElementName>\n"
                     "        <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource>\n"
                     "        <rasd:InstanceID>4</rasd:InstanceID>\n"
                     "        <rasd:Parent>3</rasd:Parent>\n"
                     "        <rasd:ResourceType>17</rasd:ResourceType>\n"
                     "      </Item>\n"
                     "      <Item>\n"
                     "        <rasd:Address>%s</rasd:Address>\n"
                     "        <rasd:AddressOnParent>7</rasd:AddressOnParent>\n"
                     "        <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>\n"
                     "        <rasd:Connection>NAT</rasd:Connection>\n"
                     "        <rasd:Description>E1000 ethernet adapter on NAT</rasd:Description>\n"
                     "        <rasd:ElementName>Ethernet 1</rasd:ElementName>\n"
                     "        <rasd:InstanceID>5</rasd:InstanceID>\n"
                     "        <rasd:ResourceSubType>E1000</rasd:ResourceSubType>\n"
                     "        <rasd:ResourceType>10</rasd:ResourceType>\n"
                     "      </Item>\n"
                     "    </VirtualHardwareSection>\n"
                     "  </VirtualSystem>\n"
                     "</Envelope>\n",
                     href, vmdk_size, in->disks[0].virtual_size, name, name, desc, name, in->cpus, in->cpus,
                     in->memory_mib, in->memory_mib, macc) < 0)
                return NULL;
        return TAKE_PTR(out);
}

static uint64_t file_size(const char *path) {
        struct stat st;
        return stat(path, &st) < 0 ? 0 : (uint64_t) st.st_size;
}

static const char vagrantfile_libvirt[] =
        "# Defaults of this box, merged under the user's Vagrantfile. The appliance comes up unconfigured\n"
        "# (vagrant ssh works); configure it as the manual says: env-create.sh DOMAIN DIR on the box,\n"
        "# copy DIR/env.yml to /app/env.yml, reboot (or attach a seed made by `appliance-builder seed`).\n"
        "Vagrant.configure(\"2\") do |config|\n"
        "  config.vm.synced_folder \".\", \"/vagrant\", disabled: true\n"
        "  config.vm.provider :libvirt do |libvirt|\n"
        "    libvirt.disk_bus = \"virtio\"\n"
        "    libvirt.nic_model_type = \"virtio\"\n"
        "    libvirt.memory = %u\n"
        "    libvirt.cpus = %u\n"
        "  end\n"
        "end\n";

static const char vagrantfile_virtualbox[] =
        "# Defaults of this box, merged under the user's Vagrantfile (see the libvirt box for the manual's\n"
        "# configuration steps).\n"
        "Vagrant.configure(\"2\") do |config|\n"
        "  config.vm.base_mac = \"%s\"\n"
        "  config.vm.synced_folder \".\", \"/vagrant\", disabled: true\n"
        "  config.vm.provider :virtualbox do |vb|\n"
        "    vb.memory = %u\n"
        "    vb.cpus = %u\n"
        "  end\n"
        "end\n";

/* qemu writes "CID=%x" with a random value, so the line is 1 to 8 hex digits long. The CID becomes
 * 8 digits derived from the seed; a shorter one moves the rest of the descriptor text into the
 * zero padding of its sectors (descriptorOffset and descriptorSize of the sparse header). */
int package_vmdk_fix_cid(int fd, const char *seed, const char *name, char **reterr) {
        _cleanup_free_ char *what = NULL;
        char buf[65536 + 1], hex[65];
        uint64_t desc_offset, desc_size, area_end;
        size_t len, shift;
        ssize_t n;
        char *p, *e;

        n = pread(fd, buf, sizeof buf - 1, 0);
        if (n < 0)
                return reterr_printf(reterr, -errno, "cannot read '%s': %m", name);
        buf[n] = 0;
        if (n < 44 || memcmp(buf, "KDMV", 4) != 0)
                return reterr_printf(reterr, -EBADMSG, "'%s': not a sparse vmdk (no KDMV header)", name);
        memcpy(&desc_offset, buf + 28, 8); /* little-endian, as the host */
        memcpy(&desc_size, buf + 36, 8);
        if (desc_offset == 0 || desc_size == 0 || desc_offset > (uint64_t) n / 512 ||
            desc_size > (uint64_t) n / 512 - desc_offset)
                return reterr_printf(reterr, -EBADMSG, "'%s': the vmdk descriptor is not in its first 64 KiB", name);
        area_end = (desc_offset + desc_size) * 512;
        for (p = buf + desc_offset * 512; p + 6 < buf + area_end; p++)
                if (memcmp(p, "\nCID=", 5) == 0)
                        break;
        len = p + 6 < buf + area_end ? strspn(p + 5, "0123456789abcdef") : 0;
        if (len == 0 || len > 8 || p[5 + len] != '\n')
                return reterr_printf(reterr, -EBADMSG, "'%s': no CID= line in the vmdk descriptor", name);
        e = memchr(p, 0, buf + area_end - p);
        shift = 8 - len;
        if (!e || (size_t) (buf + area_end - e) < shift + 1)
                return reterr_printf(reterr, -EBADMSG, "'%s': no room in the vmdk descriptor for an 8-digit CID", name);
        if (asprintf(&what, "%s\nvmdk cid %s", seed, name) < 0 || sha256_hex(what, strlen(what), hex) < 0)
                return -ENOMEM;
        memmove(p + 5 + 8, p + 5 + len, e - (p + 5 + len));
        memcpy(p + 5, hex, 8);
        if (memcmp(p + 5, "ffffffff", 8) == 0) /* means "no parent" */
                p[12] = 'e';
        if (pwrite(fd, p + 5, e + shift - (p + 5), (p + 5) - buf) != e + shift - (p + 5))
                return reterr_printf(reterr, -EIO, "cannot write the CID of '%s': %m", name);
        return 0;
}

int package_sign_sums(const char *output_dir, const char *keyid, char **reterr) {
        _cleanup_free_ char *sums = NULL, *sig = NULL, *tmp = NULL, *out = NULL;
        int r;

        if (asprintf(&sums, "%s/SHA256SUMS", output_dir) < 0 || asprintf(&sig, "%s/SHA256SUMS.gpg", output_dir) < 0 ||
            asprintf(&tmp, "%s/.SHA256SUMS.gpg.%d", output_dir, (int) getpid()) < 0)
                return -ENOMEM;
        r = spawn_capture((char *[]) { (char *) "gpg", (char *) "--batch", (char *) "--yes", (char *) "--no-tty",
                                       (char *) "--local-user", (char *) keyid, (char *) "--detach-sign",
                                       (char *) "--output", tmp, sums, NULL },
                          NULL, 0, SPAWN_STDERR_TO_STDOUT, &out, NULL);
        if (r == -ENOENT)
                return reterr_printf(reterr, r, "--sign-key needs gpg (apt install gnupg)");
        if (r != 0) {
                (void) unlink(tmp);
                return reterr_printf(reterr, r < 0 ? r : -EIO, "gpg could not sign '%s' with key '%s': %s", sums, keyid,
                                     out ?: strerror(r < 0 ? -r : EIO));
        }
        if (rename(tmp, sig) < 0) {
                r = -errno;
                (void) unlink(tmp);
                return reterr_printf(reterr, r, "cannot write '%s': %s", sig, strerror(-r));
        }
        return 0;
}

int package_vagrant_boxes(const PackageInput *in, char ***written, char **reterr) {
        _cleanup_free_ char *libvirt_name = NULL, *vbox_name = NULL, *catalog_name = NULL, *meta = NULL,
                           *vf = NULL, *vf2 = NULL, *ovf = NULL, *catalog = NULL, *abs_dir = NULL;
        _cleanup_strv_free_ char **paths = NULL, **names = NULL;
        Member members[3 + 8];
        size_t n = 0, len = 0;
        char mac[13], sum_l[65], sum_v[65];
        FILE *f;
        int r;

        if (in->n_disks == 0 || in->n_disks > 8 || !in->disks[0].qcow2 || !in->disks[0].vmdk)
                return reterr_printf(reterr, -EINVAL, "a box needs the root disk as qcow2 and vmdk");
        if (asprintf(&libvirt_name, "%s-libvirt.box", in->name) < 0 ||
            asprintf(&vbox_name, "%s-virtualbox.box", in->name) < 0 ||
            asprintf(&catalog_name, "%s.box.json", in->name) < 0)
                return -ENOMEM;

        /* libvirt: metadata.json first (Vagrant reads it to know the provider). */
        f = open_memstream(&meta, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, "{\n  \"provider\": \"libvirt\",\n  \"format\": \"qcow2\",\n  \"virtual_size\": %" PRIu64 ",\n"
                "  \"disks\": [", DIV_ROUND_UP(in->disks[0].virtual_size, GIB));
        for (size_t i = 0; i < in->n_disks; i++) {
                _cleanup_free_ char *member = NULL, *path = NULL;

                if (asprintf(&member, i == 0 ? "box.img" : "%s.img", in->disks[i].label) < 0)
                        {
                        fclose(f);
                        return -ENOMEM;
                }
                fprintf(f, "%s\n    { \"path\": ", i ? "," : "");
                json_write_string(f, member);
                if (i > 0) {
                        fputs(", \"name\": ", f);
                        json_write_string(f, in->disks[i].label);
                }
                fprintf(f, ", \"format\": \"qcow2\", \"virtual_size\": %" PRIu64 " }",
                        DIV_ROUND_UP(in->disks[i].virtual_size, GIB));
                path = out_path(in, in->disks[i].qcow2);
                if (!path || strv_consume(&names, TAKE_PTR(member)) < 0 || strv_consume(&paths, TAKE_PTR(path)) < 0)
                        {
                        fclose(f);
                        return -ENOMEM;
                }
        }
        fputs("\n  ]\n}\n", f);
        if (fclose(f) != 0)
                return -ENOMEM;
        if (asprintf(&vf, vagrantfile_libvirt, in->memory_mib, in->cpus) < 0)
                return -ENOMEM;
        members[n++] = (Member) { .name = "metadata.json", .text = meta };
        members[n++] = (Member) { .name = "Vagrantfile", .text = vf };
        for (size_t i = 0; i < in->n_disks; i++)
                members[n++] = (Member) { .name = names[i], .path = paths[i] };
        r = write_tar(in, libvirt_name, false, members, n, written, reterr);
        if (r < 0)
                return r;

        /* VirtualBox: box.ovf with the root disk (VirtualBox has no use for the volume qcow2s). */
        {
                _cleanup_free_ char *vmdk = out_path(in, in->disks[0].vmdk);
                if (!vmdk)
                        return -ENOMEM;
                package_mac(in->name, mac);
                ovf = ovf_make(in, "box-disk001.vmdk", file_size(vmdk), mac);
                if (!ovf || asprintf(&vf2, vagrantfile_virtualbox, mac, in->memory_mib, in->cpus) < 0)
                        return -ENOMEM;
                Member vb[] = {
                        { .name = "metadata.json", .text = "{\"provider\": \"virtualbox\"}\n" },
                        { .name = "box.ovf", .text = ovf },
                        { .name = "box-disk001.vmdk", .path = vmdk },
                        { .name = "Vagrantfile", .text = vf2 },
                };
                r = write_tar(in, vbox_name, false, vb, ELEMENTSOF(vb), written, reterr);
                if (r < 0)
                        return r;
        }

        /* The catalog: "vagrant box add NAME.box.json" checks the sha256 of the provider's file. */
        {
                _cleanup_free_ char *pl = out_path(in, libvirt_name), *pv = out_path(in, vbox_name);
                _cleanup_close_ int dirfd = -EBADF;

                abs_dir = realpath(in->output_dir, NULL);
                if (!pl || !pv || !abs_dir)
                        return -ENOMEM;
                r = sha256_file_hex(pl, sum_l);
                if (r >= 0)
                        r = sha256_file_hex(pv, sum_v);
                if (r < 0)
                        return reterr_printf(reterr, r, "cannot checksum the boxes: %s", strerror(-r));
                f = open_memstream(&catalog, &len);
                if (!f)
                        return -ENOMEM;
                fputs("{\n  \"name\": ", f);
                json_write_string(f, in->name);
                fputs(",\n  \"description\": ", f);
                json_write_string(f, in->description ?: in->name);
                fputs(",\n  \"versions\": [\n    {\n      \"version\": ", f);
                json_write_string(f, in->version);
                fputs(",\n      \"providers\": [", f);
                for (int i = 0; i < 2; i++) {
                        _cleanup_free_ char *url = NULL;
                        if (asprintf(&url, "file://%s/%s", abs_dir, i == 0 ? libvirt_name : vbox_name) < 0)
                                {
                        fclose(f);
                        return -ENOMEM;
                }
                        fprintf(f, "%s\n        { \"name\": \"%s\", \"url\": ", i ? "," : "", i == 0 ? "libvirt" : "virtualbox");
                        json_write_string(f, url);
                        fprintf(f, ", \"checksum_type\": \"sha256\", \"checksum\": \"%s\" }", i == 0 ? sum_l : sum_v);
                }
                fputs("\n      ]\n    }\n  ]\n}\n", f);
                if (fclose(f) != 0)
                        return -ENOMEM;
                dirfd = open(in->output_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dirfd < 0)
                        return reterr_printf(reterr, -errno, "cannot open '%s': %m", in->output_dir);
                r = write_file_atomic_at(dirfd, catalog_name, catalog, strlen(catalog), 0644);
                if (r < 0)
                        return reterr_printf(reterr, r, "cannot write '%s': %s", catalog_name, strerror(-r));
                if (strv_extend(written, catalog_name) < 0)
                        return -ENOMEM;
                log_info("Wrote %s/%s (vagrant box add %s/%s).", in->output_dir, catalog_name, in->output_dir,
                         catalog_name);
        }
        return 0;
}

int package_ova(const PackageInput *in, char ***written, char **reterr) {
        _cleanup_free_ char *ova = NULL, *ovf_name = NULL, *mf_name = NULL, *vmdk_name = NULL, *src = NULL,
                           *ovf = NULL, *mf = NULL, *out = NULL, *tmp = NULL;
        char mac[13], sum_ovf[65], sum_vmdk[65];
        int r;

        if (in->n_disks == 0 || !in->disks[0].qcow2)
                return reterr_printf(reterr, -EINVAL, "an OVA needs the root disk as qcow2");
        if (asprintf(&ova, "%s.ova", in->name) < 0 || asprintf(&ovf_name, "%s.ovf", in->name) < 0 ||
            asprintf(&mf_name, "%s.mf", in->name) < 0 || asprintf(&vmdk_name, "%s-disk1.vmdk", in->name) < 0)
                return -ENOMEM;
        src = out_path(in, in->disks[0].qcow2);
        if (!src)
                return -ENOMEM;
        /* The disk for VMware and AWS, converted in scratch space (it lives only in the OVA). */
        if (asprintf(&tmp, "%s/%s", in->tmpdir, vmdk_name) < 0)
                return -ENOMEM;
        (void) unlink(tmp);
        r = create_output_file(tmp, output_mode(in->secret));
        if (r < 0)
                return reterr_printf(reterr, r, "cannot create '%s': %s", tmp, strerror(-r));
        r = spawn_capture((char *[]) { (char *) "qemu-img", (char *) "convert", (char *) "-f", (char *) "qcow2",
                                       (char *) "-O", (char *) "vmdk", (char *) "-o",
                                       (char *) "subformat=streamOptimized,adapter_type=lsilogic,hwversion=10,"
                                                "toolsversion=2147483647",
                                       src, tmp, NULL },
                          NULL, 0, SPAWN_STDERR_TO_STDOUT, &out, NULL);
        if (r != 0) {
                (void) unlink(tmp);
                return reterr_printf(reterr, r < 0 ? r : -EIO, "qemu-img convert for the OVA failed: %s",
                                     out ?: strerror(r < 0 ? -r : EIO));
        }
        if (in->ids_seed) {
                _cleanup_close_ int fd = open(tmp, O_RDWR | O_CLOEXEC);
                if (fd < 0)
                        r = reterr_printf(reterr, -errno, "cannot open '%s': %m", tmp);
                else
                        r = package_vmdk_fix_cid(fd, in->ids_seed, vmdk_name, reterr);
                if (r < 0) {
                        (void) unlink(tmp);
                        return r;
                }
        }
        package_mac(in->name, mac);
        ovf = ovf_make(in, vmdk_name, file_size(tmp), mac);
        if (!ovf) {
                (void) unlink(tmp);
                return -ENOMEM;
        }
        if (sha256_hex(ovf, strlen(ovf), sum_ovf) < 0) {
                (void) unlink(tmp);
                return -ENOMEM;
        }
        r = sha256_file_hex(tmp, sum_vmdk);
        if (r < 0 || asprintf(&mf, "SHA256(%s)= %s\nSHA256(%s)= %s\n", ovf_name, sum_ovf, vmdk_name, sum_vmdk) < 0) {
                (void) unlink(tmp);
                return r < 0 ? reterr_printf(reterr, r, "cannot checksum the OVA disk: %s", strerror(-r)) : -ENOMEM;
        }
        Member m[] = {
                { .name = ovf_name, .text = ovf },
                { .name = mf_name, .text = mf },
                { .name = vmdk_name, .path = tmp },
        };
        r = write_tar(in, ova, true, m, ELEMENTSOF(m), written, reterr);
        (void) unlink(tmp);
        return r;
}

int package_append_sums(const char *output_dir, char *const *names, char **reterr) {
        _cleanup_free_ char *path = NULL, *old = NULL, *text = NULL;
        size_t len = 0;
        FILE *f;
        int r;

        if (asprintf(&path, "%s/SHA256SUMS", output_dir) < 0)
                return -ENOMEM;
        r = read_full_file(path, &old, NULL, 16 * 1024 * 1024);
        if (r < 0 && r != -ENOENT)
                return reterr_printf(reterr, r, "cannot read '%s': %s", path, strerror(-r));
        f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        fputs(old ?: "", f);
        STRV_FOREACH(n, names) {
                _cleanup_free_ char *p = NULL;
                char sum[65];

                if (asprintf(&p, "%s/%s", output_dir, *n) < 0) {
                        fclose(f);
                        return -ENOMEM;
                }
                r = sha256_file_hex(p, sum);
                if (r < 0) {
                        fclose(f);
                        return reterr_printf(reterr, r, "cannot checksum '%s': %s", p, strerror(-r));
                }
                fprintf(f, "%s  %s\n", sum, *n);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        r = write_file_atomic(path, text, strlen(text), 0644);
        return r < 0 ? reterr_printf(reterr, r, "cannot write '%s': %s", path, strerror(-r)) : 0;
}
