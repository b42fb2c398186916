/**
 * Labels and seed files without blkid or mount.
 *
 * ISO 9660: the primary volume descriptor at sector 16 ("CD001", volume id at byte 40); a Joliet
 * supplementary descriptor (escape "%/@", "%/C" or "%/E") carries the label in UCS-2BE and wins, as
 * with blkid. FAT: the BPB is sanity-checked, then the volume-label entry of the root directory wins
 * over the boot sector's BS_VolLab (util-linux reports the latter as LABEL_FATBOOT). ext2/3/4: the
 * superblock at 1024 (magic 0xEF53 at +56, s_volume_name at +120).
 *
 * The FAT reader walks directories (fixed root region on FAT12/16, cluster chains elsewhere),
 * assembling VFAT long names from their LFN entries (checked against the 8.3 checksum).
 */
#include <cdio/iso9660.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-path.h"
#include "chase.h"
#include "cleanup.h"
#include "fileio.h"
#include "probe.h"

static const char *const fs_type_table[_FS_TYPE_MAX] = {
        [FS_UNKNOWN] = "unknown",
        [FS_ISO9660] = "iso9660",
        [FS_VFAT] = "vfat",
        [FS_EXT] = "ext4",
};

const char *fs_type_to_string(FsType t) {
        if (t < 0 || t >= _FS_TYPE_MAX)
                return NULL;
        return fs_type_table[t];
}

#define IN_SET_BPS(b) ((b) == 512 || (b) == 1024 || (b) == 2048 || (b) == 4096)

static uint16_t le16(const uint8_t *p) {
        return (uint16_t) (p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static char *trimmed_copy(const char *s, size_t n) {
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == 0))
                n--;
        char *out;

        /* The source is a fixed-size field, not a C string: copy by length. */
        if (n == 0 || !(out = malloc(n + 1)))
                return NULL;
        memcpy(out, s, n);
        out[n] = 0;
        return out;
}

static int pread_full(int fd, void *buf, size_t len, off_t off) {
        size_t done = 0;

        while (done < len) {
                ssize_t n = pread(fd, (char *) buf + done, len - done, off + (off_t) done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;   /* short device or image */
                done += (size_t) n;
        }
        return 0;
}

/* ---- ISO 9660 ---- */

static int probe_iso(int fd, char **ret_label) {
        uint8_t vd[2048];
        char *joliet = NULL, *pvd = NULL;

        for (unsigned sector = 16; sector < 32; sector++) {
                if (pread_full(fd, vd, sizeof vd, (off_t) sector * 2048) < 0)
                        break;
                if (memcmp(vd + 1, "CD001", 5) != 0)
                        break;
                if (vd[0] == 255)
                        break;
                if (vd[0] == 1 && !pvd)
                        pvd = trimmed_copy((const char *) vd + 40, 32);
                if (vd[0] == 2 && !joliet && vd[88] == '%' && vd[89] == '/' &&
                    (vd[90] == '@' || vd[90] == 'C' || vd[90] == 'E')) {
                        char buf[17] = {};
                        size_t n = 0;
                        for (size_t i = 0; i < 16; i++) {
                                uint16_t c = (uint16_t) (vd[40 + 2 * i] << 8 | vd[41 + 2 * i]);
                                buf[n++] = c < 0x80 ? (char) c : '?';
                        }
                        joliet = trimmed_copy(buf, n);
                }
        }
        if (!pvd && !joliet) {
                if (pread_full(fd, vd, 8, 16 * 2048) < 0 || memcmp(vd + 1, "CD001", 5) != 0)
                        return 0;
        }
        if (joliet) {
                free(pvd);
                *ret_label = joliet;
        } else
                *ret_label = pvd;
        return 1;
}

int iso_read_file(const char *image, const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_free_ char *p = NULL, *buf = NULL;
        iso9660_stat_t *st;
        iso9660_t *iso;
        size_t blocks, size;
        long n;

        /* Verify readability first: libiso9660 does not tell "missing" from "not ISO". */
        {
                int fd = open(image, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return -errno;
                close(fd);
        }
        iso = iso9660_open_ext(image, ISO_EXTENSION_ALL);
        if (!iso)
                return -EMEDIUMTYPE;
        if (asprintf(&p, "/%s", path[0] == '/' ? path + 1 : path) < 0) {
                iso9660_close(iso);
                return -ENOMEM;
        }
        st = iso9660_ifs_stat_translate(iso, p);
        if (!st)
                st = iso9660_ifs_stat(iso, p);
        if (!st || st->type != _STAT_FILE) {
                if (st)
                        iso9660_stat_free(st);
                iso9660_close(iso);
                return -ENOENT;
        }
        size = st->size;
        if (size > max) {
                iso9660_stat_free(st);
                iso9660_close(iso);
                return -EFBIG;
        }
        blocks = DIV_ROUND_UP(size, (size_t) ISO_BLOCKSIZE);
        buf = calloc(blocks + 1, ISO_BLOCKSIZE);
        if (!buf) {
                iso9660_stat_free(st);
                iso9660_close(iso);
                return -ENOMEM;
        }
        n = blocks > 0 ? iso9660_iso_seek_read(iso, buf, st->lsn, (long) blocks) : 0;
        iso9660_stat_free(st);
        iso9660_close(iso);
        if (n < 0 || (size_t) n < size)
                return -EIO;
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

/* ---- FAT ---- */

typedef struct Fat {
        int fd;
        unsigned bits;              /* 12, 16, 32 */
        uint32_t bytes_per_sector;
        uint32_t cluster_size;      /* bytes */
        uint64_t fat_offset;        /* bytes */
        uint64_t root_offset;       /* FAT12/16 fixed root region */
        uint32_t root_entries;
        uint32_t root_cluster;      /* FAT32 */
        uint64_t data_offset;
        uint32_t clusters;
        char label[12];
} Fat;

static int fat_open(int fd, Fat *ret) {
        uint8_t bs[512];
        uint32_t bps, spc, reserved, nfats, root_entries, total, fatsz, root_sectors, data_sectors;
        Fat f = { .fd = fd };
        int r;

        r = pread_full(fd, bs, sizeof bs, 0);
        if (r < 0)
                return r == -EIO ? -EMEDIUMTYPE : r;
        if (bs[510] != 0x55 || bs[511] != 0xAA)
                return -EMEDIUMTYPE;
        bps = le16(bs + 11);
        spc = bs[13];
        reserved = le16(bs + 14);
        nfats = bs[16];
        root_entries = le16(bs + 17);
        total = le16(bs + 19) ?: le32(bs + 32);
        fatsz = le16(bs + 22) ?: le32(bs + 36);
        if (!IN_SET_BPS(bps) || spc == 0 || (spc & (spc - 1)) != 0 || reserved == 0 || nfats == 0 || nfats > 4 ||
            fatsz == 0 || total == 0)
                return -EMEDIUMTYPE;
        if (memcmp(bs + 54, "FAT", 3) != 0 && memcmp(bs + 82, "FAT", 3) != 0)
                return -EMEDIUMTYPE;

        root_sectors = (root_entries * 32 + bps - 1) / bps;
        if ((uint64_t) reserved + (uint64_t) nfats * fatsz + root_sectors >= total)
                return -EMEDIUMTYPE;
        data_sectors = total - reserved - nfats * fatsz - root_sectors;
        f.clusters = data_sectors / spc;
        f.bits = f.clusters < 4085 ? 12 : f.clusters < 65525 ? 16 : 32;
        if (le16(bs + 22) == 0)
                f.bits = 32;
        f.bytes_per_sector = bps;
        f.cluster_size = bps * spc;
        f.fat_offset = (uint64_t) reserved * bps;
        f.root_offset = f.fat_offset + (uint64_t) nfats * fatsz * bps;
        f.root_entries = root_entries;
        f.data_offset = f.root_offset + (uint64_t) root_sectors * bps;
        f.root_cluster = f.bits == 32 ? le32(bs + 44) : 0;
        if (f.bits == 32 ? bs[66] == 0x29 : bs[38] == 0x29) {
                const char *l = (const char *) bs + (f.bits == 32 ? 71 : 43);
                _cleanup_free_ char *t = trimmed_copy(l, 11);
                if (t && !streq(t, "NO NAME"))
                        strncpy(f.label, t, sizeof f.label - 1);
        }
        *ret = f;
        return 0;
}

static int fat_next_cluster(const Fat *f, uint32_t c, uint32_t *ret) {
        uint8_t b[4];
        uint64_t off;
        int r;

        if (f->bits == 12) {
                off = f->fat_offset + c + c / 2;
                r = pread_full(f->fd, b, 2, (off_t) off);
                if (r < 0)
                        return r;
                uint16_t v = le16(b);
                v = (c & 1) ? v >> 4 : v & 0xFFF;
                *ret = v >= 0xFF8 ? UINT32_MAX : v;
        } else if (f->bits == 16) {
                r = pread_full(f->fd, b, 2, (off_t) (f->fat_offset + (uint64_t) c * 2));
                if (r < 0)
                        return r;
                uint16_t v = le16(b);
                *ret = v >= 0xFFF8 ? UINT32_MAX : v;
        } else {
                r = pread_full(f->fd, b, 4, (off_t) (f->fat_offset + (uint64_t) c * 4));
                if (r < 0)
                        return r;
                uint32_t v = le32(b) & 0x0FFFFFFF;
                *ret = v >= 0x0FFFFFF8 ? UINT32_MAX : v;
        }
        if (*ret != UINT32_MAX && (*ret < 2 || *ret >= f->clusters + 2))
                return -EBADMSG;
        return 0;
}

/* Reads a cluster chain (or the fixed root when first == 0 on FAT12/16), at most max bytes. */
static int fat_read_chain(const Fat *f, uint32_t first, size_t max, uint8_t **ret, size_t *ret_len) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0;
        int r;

        if (first == 0 && f->bits != 32) {
                len = (size_t) f->root_entries * 32;
                buf = malloc(len ?: 1);
                if (!buf)
                        return -ENOMEM;
                r = pread_full(f->fd, buf, len, (off_t) f->root_offset);
                if (r < 0)
                        return r;
        } else {
                uint32_t c = first;
                size_t steps = 0;

                while (c != UINT32_MAX) {
                        uint8_t *nb;

                        if (c < 2 || c >= f->clusters + 2 || ++steps > f->clusters)
                                return -EBADMSG;   /* out of range or a loop */
                        if (len >= max)
                                return -EFBIG;
                        nb = realloc(buf, len + f->cluster_size);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        r = pread_full(f->fd, buf + len, f->cluster_size,
                                       (off_t) (f->data_offset + (uint64_t) (c - 2) * f->cluster_size));
                        if (r < 0)
                                return r;
                        len += f->cluster_size;
                        r = fat_next_cluster(f, c, &c);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

static uint8_t lfn_checksum(const uint8_t *shortname) {
        uint8_t s = 0;
        for (size_t i = 0; i < 11; i++)
                s = (uint8_t) (((s & 1) << 7) + (s >> 1) + shortname[i]);
        return s;
}

typedef struct FatEntry {
        char name[256];
        uint8_t attr;
        uint32_t cluster;
        uint32_t size;
} FatEntry;

/* Finds name in a directory buffer; also reports the volume label entry through label. */
static int fat_dir_find(const uint8_t *dir, size_t len, const char *name, FatEntry *ret, char *label) {
        char lfn[256] = {};
        int lfn_valid = 0;
        uint8_t lfn_sum = 0;

        for (size_t off = 0; off + 32 <= len; off += 32) {
                const uint8_t *e = dir + off;
                uint8_t attr = e[11];

                if (e[0] == 0)
                        break;
                if (e[0] == 0xE5) {
                        lfn_valid = 0;
                        continue;
                }
                if ((attr & 0x3F) == 0x0F) {
                        unsigned seq = e[0] & 0x1F;
                        static const uint8_t pos[13] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };

                        if (seq == 0 || seq > 20) {
                                lfn_valid = 0;
                                continue;
                        }
                        if (e[0] & 0x40) {
                                memset(lfn, 0, sizeof lfn);
                                lfn_valid = 1;
                                lfn_sum = e[13];
                        } else if (!lfn_valid || e[13] != lfn_sum) {
                                lfn_valid = 0;
                                continue;
                        }
                        for (size_t i = 0; i < 13; i++) {
                                uint16_t c = le16(e + pos[i]);
                                size_t idx = (seq - 1) * 13 + i;
                                if (idx >= sizeof lfn - 1)
                                        break;
                                if (c == 0 || c == 0xFFFF)
                                        continue;
                                lfn[idx] = c < 0x80 ? (char) c : '?';
                        }
                        continue;
                }
                if (attr & 0x08) {
                        if (label && !(attr & 0x10)) {
                                _cleanup_free_ char *t = trimmed_copy((const char *) e, 11);
                                if (t)
                                        snprintf(label, 12, "%s", t);
                        }
                        lfn_valid = 0;
                        continue;
                }

                char shortname[13];
                size_t n = 0;
                for (size_t i = 0; i < 8 && e[i] != ' '; i++)
                        shortname[n++] = (char) (i == 0 && e[0] == 0x05 ? 0xE5 : e[i]);
                if (e[8] != ' ') {
                        shortname[n++] = '.';
                        for (size_t i = 8; i < 11 && e[i] != ' '; i++)
                                shortname[n++] = (char) e[i];
                }
                shortname[n] = 0;

                /* LFN characters are scattered; collapse the gaps of unused slots. */
                char longname[256];
                size_t ln = 0;
                if (lfn_valid && lfn_sum == lfn_checksum(e))
                        for (size_t i = 0; i < sizeof lfn - 1; i++)
                                if (lfn[i])
                                        longname[ln++] = lfn[i];
                longname[ln] = 0;
                lfn_valid = 0;

                if (name && (strcasecmp(name, shortname) == 0 || (ln > 0 && strcasecmp(name, longname) == 0))) {
                        snprintf(ret->name, sizeof ret->name, "%s", ln > 0 ? longname : shortname);
                        ret->attr = attr;
                        ret->cluster = (uint32_t) le16(e + 26) | (uint32_t) le16(e + 20) << 16;
                        ret->size = le32(e + 28);
                        return 1;
                }
        }
        return 0;
}

int fat_read_file(int fd, const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_free_ uint8_t *dir = NULL;
        _cleanup_free_ char *copy = strdup(path);
        uint32_t cluster;
        size_t dirlen;
        Fat f;
        int r;

        if (!copy)
                return -ENOMEM;
        r = fat_open(fd, &f);
        if (r < 0)
                return r;
        cluster = f.bits == 32 ? f.root_cluster : 0;
        r = fat_read_chain(&f, cluster, 4 * 1024 * 1024, &dir, &dirlen);
        if (r < 0)
                return r;

        char *save = NULL;
        for (char *comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
                FatEntry e;
                bool last = !save || !*save || strspn(save, "/") == strlen(save);

                if (fat_dir_find(dir, dirlen, comp, &e, NULL) <= 0)
                        return -ENOENT;
                if (!last) {
                        if (!(e.attr & 0x10))
                                return -ENOENT;
                        free(dir);
                        dir = NULL;
                        if (e.cluster == 0 && f.bits != 32)
                                return -EBADMSG;
                        r = fat_read_chain(&f, e.cluster, 4 * 1024 * 1024, &dir, &dirlen);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (e.attr & 0x10)
                        return -EISDIR;
                if (e.size > max)
                        return -EFBIG;

                _cleanup_free_ uint8_t *data = NULL;
                size_t dlen = 0;
                if (e.size > 0) {
                        r = fat_read_chain(&f, e.cluster, (size_t) e.size + f.cluster_size, &data, &dlen);
                        if (r < 0)
                                return r;
                        if (dlen < e.size)
                                return -EBADMSG;
                }
                char *out = malloc((size_t) e.size + 1);
                if (!out)
                        return -ENOMEM;
                if (e.size > 0)
                        memcpy(out, data, e.size);
                out[e.size] = 0;
                *ret = out;
                if (ret_size)
                        *ret_size = e.size;
                return 0;
        }
        return -ENOENT;
}

static int probe_fat(int fd, char **ret_label) {
        _cleanup_free_ uint8_t *dir = NULL;
        char label[12] = {};
        size_t dirlen;
        Fat f;

        if (fat_open(fd, &f) < 0)
                return 0;
        if (fat_read_chain(&f, f.bits == 32 ? f.root_cluster : 0, 1024 * 1024, &dir, &dirlen) >= 0)
                (void) fat_dir_find(dir, dirlen, NULL, NULL, label);
        if (label[0])
                *ret_label = strdup(label);
        else if (f.label[0])
                *ret_label = strdup(f.label);
        else
                *ret_label = NULL;
        return 1;
}

/* ---- ext2/3/4 ---- */

static int probe_ext(int fd, char **ret_label) {
        uint8_t sb[256];

        if (pread_full(fd, sb, sizeof sb, 1024) < 0)
                return 0;
        if (le16(sb + 56) != 0xEF53)
                return 0;
        *ret_label = trimmed_copy((const char *) sb + 120, 16);
        return 1;
}

int probe_fd(int fd, FsType *ret_type, char **ret_label) {
        char *label = NULL;

        if (probe_iso(fd, &label) > 0)
                *ret_type = FS_ISO9660;
        else if (probe_ext(fd, &label) > 0)
                *ret_type = FS_EXT;
        else if (probe_fat(fd, &label) > 0)
                *ret_type = FS_VFAT;
        else
                *ret_type = FS_UNKNOWN;
        *ret_label = label;
        return 0;
}

int probe_path(const char *path, FsType *ret_type, char **ret_label) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = open_input(AT_FDCWD, path, INPUT_FOLLOW | INPUT_ALLOW_BLOCK, UINT64_MAX, &fd, NULL);
        if (r < 0)
                return r;
        return probe_fd(fd, ret_type, ret_label);
}

static bool label_matches(const char *label, const char *const *labels) {
        for (const char *const *l = labels; label && *l; l++)
                if (strcasecmp(label, *l) == 0)
                        return true;
        return false;
}

/* Opens path below the root (links followed, but below it: a by-label link pointing out of the root
 * leads to ROOT/..., not to the host), accepts only a block device or an image file and probes it.
 * *ret_real: the node's path as the process sees it, for readers and mount(), which take paths. */
static int probe_in_root(const Agent *a, const char *path, FsType *ret_type, char **ret_label, char **ret_real) {
        _cleanup_close_ int fd = -EBADF;
        char proc[64], real[PATH_MAX];
        size_t rl = strlen(a->root);
        ssize_t n;
        int r;

        r = open_input(a->root_fd, path, INPUT_IN_ROOT | INPUT_FOLLOW | INPUT_ALLOW_BLOCK, UINT64_MAX, &fd, NULL);
        if (r < 0)
                return r;
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        n = readlink(proc, real, sizeof real - 1);
        if (n < 0)
                return -errno;
        real[n] = 0;
        if (!agent_is_host_root(a) && (!strneq(real, a->root, rl) || real[rl] != '/'))
                return -EXDEV;  /* the root was moved meanwhile */
        r = probe_fd(fd, ret_type, ret_label);
        if (r < 0)
                return r;
        *ret_real = strdup(real);
        return *ret_real ? 0 : -ENOMEM;
}

int probe_find_label(const Agent *a, const char *const *labels, char **ret_path, FsType *ret_type) {
        _cleanup_close_ int sys_fd = -EBADF;
        DIR *d;

        for (const char *const *l = labels; *l; l++) {
                _cleanup_free_ char *rel = NULL, *p = NULL, *label = NULL;
                FsType t;

                if (asprintf(&rel, "/dev/disk/by-label/%s", *l) < 0)
                        return -ENOMEM;
                if (probe_in_root(a, rel, &t, &label, &p) < 0)
                        continue;
                /* udev's link is trusted for the label; the type decides the reader. */
                *ret_path = TAKE_PTR(p);
                *ret_type = t;
                return 0;
        }

        if (agent_open_image(a, "/sys/class/block", O_RDONLY | O_DIRECTORY, &sys_fd) < 0)
                return -ENOENT;
        d = fdopendir(sys_fd);
        if (!d)
                return -ENOENT;
        TAKE_FD(sys_fd);
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *rel = NULL, *p = NULL, *label = NULL;
                FsType t;

                if (de->d_name[0] == '.' || startswith(de->d_name, "ram") || startswith(de->d_name, "loop"))
                        continue;
                if (asprintf(&rel, "/dev/%s", de->d_name) < 0) {
                        closedir(d);
                        return -ENOMEM;
                }
                if (probe_in_root(a, rel, &t, &label, &p) < 0 || t == FS_UNKNOWN || !label_matches(label, labels))
                        continue;
                closedir(d);
                *ret_path = TAKE_PTR(p);
                *ret_type = t;
                return 0;
        }
        closedir(d);
        return -ENOENT;
}
