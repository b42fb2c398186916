/**
 * The seed filesystem reader: ISO 9660 and FAT, parsed directly with bounds on everything.
 *
 * ISO 9660: volume descriptors from sector 16 ("CD001"; 1 primary, 2 supplementary, 255 the end).
 * A supplementary descriptor with the escape "%/@", "%/C" or "%/E" is Joliet (UCS-2BE names). Rock
 * Ridge is present when the root's "." record carries a SUSP "SP" entry (or RRIP entries); its names
 * come from "NM" entries, following "CE" continuation areas. The names are those the Linux isofs
 * driver shows: Rock Ridge if present, else Joliet, else the 8.3 names in lower case without ";1"
 * and a trailing '.'; so a seed made without either extension shows "user_dat" and lacks
 * "user-data", as cloud-init would find.
 *
 * FAT: the BPB is sanity-checked; directories are the fixed root region on FAT12/16 and cluster
 * chains elsewhere; VFAT long names are assembled from their LFN entries (checked against the 8.3
 * checksum). The root's volume-label entry wins over the boot sector's BS_VolLab (util-linux reports
 * the latter as LABEL_FATBOOT). ext2/3/4 is only probed: the superblock at 1024 (magic 0xEF53 at +56,
 * s_volume_name at +120).
 */
#include <ctype.h>
#include <errno.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "macro.h"
#include "seedfs.h"
#include "unaligned.h"

#define ISO_SECTOR 2048U
#define ISO_VD_FIRST 16U
#define ISO_VD_MAX 64U              /* descriptors looked at before giving up on a terminator */
#define DIR_BYTES_MAX (32U << 20)   /* one directory's extent or cluster chain */
#define CE_HOPS_MAX 16U             /* Rock Ridge continuation areas per record */
#define PATH_DEPTH_MAX 32U

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

/* One directory entry, whatever the filesystem: loc is the first sector (ISO) or cluster (FAT). */
typedef struct Node {
        char *name;
        char *alt; /* FAT: the 8.3 name when a long name exists */
        uint64_t size;
        uint64_t loc;
        bool directory;
        bool readable; /* ISO: not multi-extent, not interleaved */
} Node;

typedef struct Fat {
        unsigned bits; /* 12, 16, 32 */
        uint32_t cluster_size;
        uint64_t fat_offset;
        uint64_t root_offset; /* FAT12/16 fixed root region */
        uint32_t root_entries;
        uint32_t root_cluster; /* FAT32 */
        uint64_t data_offset;
        uint32_t clusters;
        char boot_label[12];
} Fat;

struct SeedFs {
        int fd;
        uint64_t size;
        FsType type;
        char *label, *pvd_label;
        bool rock_ridge, joliet;
        Node root; /* ISO: the tree Linux uses */
        unsigned susp_skip;
        Fat fat;
};

static char *trimmed_copy(const char *s, size_t n) {
        char *out;

        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == 0))
                n--;
        /* The source is a fixed-size field, not a C string: copy by length. */
        if (n == 0 || !(out = malloc(n + 1)))
                return NULL;
        memcpy(out, s, n);
        out[n] = 0;
        return out;
}

/* Reads exactly len bytes at off; -EBADMSG if the image ends first. */
static int pread_full(int fd, void *buf, size_t len, uint64_t off) {
        size_t done = 0;

        if (off > (uint64_t) INT64_MAX - len)
                return -EBADMSG;
        while (done < len) {
                ssize_t n = pread(fd, (char *) buf + done, len - done, (off_t) (off + done));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EBADMSG;
                done += (size_t) n;
        }
        return 0;
}

static int image_size(int fd, uint64_t *ret) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISBLK(st.st_mode))
                return ioctl(fd, BLKGETSIZE64, ret) < 0 ? -errno : 0;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        *ret = (uint64_t) st.st_size;
        return 0;
}

/* A name that may be shown and matched: not empty, ".", "..", nor holding '/' or a control byte. */
static bool name_ok(const char *s) {
        if (isempty(s) || streq(s, ".") || streq(s, ".."))
                return false;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p == '/' || *p < 0x20)
                        return false;
        return true;
}

static void nodes_free(Node *n, size_t k) {
        for (size_t i = 0; i < k; i++) {
                free(n[i].name);
                free(n[i].alt);
        }
        free(n);
}

typedef struct NodeList {
        Node *v;
        size_t n, allocated;
} NodeList;

static void node_list_done(NodeList *l) {
        nodes_free(l->v, l->n);
        *l = (NodeList) {};
}

/* Takes name and alt (also on failure). */
static int node_list_add(NodeList *l, char *name, char *alt, uint64_t size, uint64_t loc, bool dir, bool readable) {
        if (!name_ok(name) || (alt && !name_ok(alt))) {
                free(name);
                free(alt);
                return 0;
        }
        if (l->n >= SEEDFS_DIR_ENTRIES_MAX) {
                free(name);
                free(alt);
                return -E2BIG;
        }
        if (l->n == l->allocated) {
                size_t a = MAX((size_t) 16, l->allocated * 2);
                Node *v = reallocarray(l->v, a, sizeof *v);
                if (!v) {
                        free(name);
                        free(alt);
                        return -ENOMEM;
                }
                l->v = v;
                l->allocated = a;
        }
        l->v[l->n++] = (Node) { name, alt, size, loc, dir, readable };
        return 0;
}

/* ---- ISO 9660 ---- */

static char *ucs2be_to_utf8(const uint8_t *p, size_t bytes) {
        char *out = malloc(bytes / 2 * 3 + 1), *o = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i + 1 < bytes; i += 2) {
                uint16_t c = (uint16_t) (p[i] << 8 | p[i + 1]);
                if (c < 0x80)
                        *o++ = (char) c;
                else if (c < 0x800) {
                        *o++ = (char) (0xC0 | c >> 6);
                        *o++ = (char) (0x80 | (c & 0x3F));
                } else if (c >= 0xD800 && c < 0xE000)
                        *o++ = '?';
                else {
                        *o++ = (char) (0xE0 | c >> 12);
                        *o++ = (char) (0x80 | ((c >> 6) & 0x3F));
                        *o++ = (char) (0x80 | (c & 0x3F));
                }
                if (c == 0)
                        break; /* an embedded NUL ends the name; name_ok() then sees it short */
        }
        *o = 0;
        return out;
}

/* ";1" and a trailing '.' go, as in Linux's isofs (Joliet and plain names alike). */
static void strip_version(char *s, bool lower) {
        char *semi = strrchr(s, ';');
        size_t n;

        if (semi && semi[1] && strspn(semi + 1, "0123456789") == strlen(semi + 1))
                *semi = 0;
        n = strlen(s);
        if (n > 1 && s[n - 1] == '.')
                s[--n] = 0;
        if (lower)
                for (size_t k = 0; k < n; k++)
                        s[k] = (char) tolower((unsigned char) s[k]);
}

/* The record's SUSP area: after the name and its padding byte, past the SP entry's skip. */
static void susp_area(const SeedFs *fs, const uint8_t *rec, const uint8_t **ret, size_t *ret_len) {
        size_t len = rec[0], namelen = rec[32];
        size_t start = 33 + namelen + (namelen % 2 == 0 ? 1 : 0) + fs->susp_skip;

        *ret = rec + start;
        *ret_len = start < len ? len - start : 0;
}

typedef struct RockName {
        char buf[256 * 4];
        size_t len;
        bool found, special, rock;
} RockName;

/* Walks SUSP entries (and CE continuations, at most CE_HOPS_MAX) collecting the NM name. */
static int rock_parse(const SeedFs *fs, const uint8_t *p, size_t len, RockName *rn) {
        uint8_t ce[ISO_SECTOR];

        for (unsigned hops = 0;; hops++) {
                uint64_t ce_block = 0, ce_off = 0, ce_len = 0;

                while (len >= 4) {
                        size_t el = p[2];

                        if (el < 4 || el > len)
                                break;
                        if (p[0] == 'N' && p[1] == 'M' && el >= 5) {
                                uint8_t flags = p[4];
                                size_t n = el - 5;

                                rn->rock = rn->found = true;
                                if (flags & 0x06)
                                        rn->special = true; /* "." or ".." */
                                if (rn->len + n >= sizeof rn->buf)
                                        return -EBADMSG;
                                memcpy(rn->buf + rn->len, p + 5, n);
                                rn->len += n;
                                rn->buf[rn->len] = 0;
                        } else if (p[0] == 'C' && p[1] == 'E' && el >= 28) {
                                ce_block = get_le32(p + 4);
                                ce_off = get_le32(p + 12);
                                ce_len = get_le32(p + 20);
                        } else if ((p[0] == 'P' && p[1] == 'X') || (p[0] == 'R' && p[1] == 'R') ||
                                   (p[0] == 'S' && p[1] == 'P'))
                                rn->rock = true;
                        else if (p[0] == 'S' && p[1] == 'T')
                                break;
                        p += el;
                        len -= el;
                }
                if (ce_len == 0)
                        return 0;
                if (hops >= CE_HOPS_MAX || ce_off + ce_len > ISO_SECTOR ||
                    ce_block * ISO_SECTOR + ISO_SECTOR > fs->size)
                        return -EBADMSG;
                int r = pread_full(fs->fd, ce, ISO_SECTOR, ce_block * ISO_SECTOR);
                if (r < 0)
                        return r;
                p = ce + ce_off;
                len = ce_len;
        }
}

/* Reads an extent of at most limit bytes, checked against the image's end. */
static int iso_read_extent(const SeedFs *fs, uint64_t lba, uint64_t len, uint64_t limit, uint8_t **ret) {
        _cleanup_free_ uint8_t *buf = NULL;
        int r;

        if (len > limit)
                return -EFBIG;
        if (lba > fs->size / ISO_SECTOR || lba * ISO_SECTOR + len > fs->size)
                return -EBADMSG; /* truncated image or a bogus extent */
        buf = malloc(len + 1);
        if (!buf)
                return -ENOMEM;
        r = pread_full(fs->fd, buf, len, lba * ISO_SECTOR);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

static int iso_read_dir(const SeedFs *fs, const Node *dir, NodeList *ret) {
        _cleanup_(node_list_done) NodeList l = {};
        _cleanup_free_ uint8_t *buf = NULL;
        bool joliet = fs->joliet && !fs->rock_ridge;
        size_t len = dir->size;
        int r;

        r = iso_read_extent(fs, dir->loc, dir->size, DIR_BYTES_MAX, &buf);
        if (r == -EFBIG)
                return -EBADMSG;
        if (r < 0)
                return r;

        for (size_t off = 0; off < len;) {
                const uint8_t *rec = buf + off;
                size_t reclen = rec[0], namelen;
                char *name;

                if (reclen == 0) {
                        /* records never cross a sector: the rest of this one is padding */
                        off = (off / ISO_SECTOR + 1) * ISO_SECTOR;
                        continue;
                }
                if (reclen < 34 || off + reclen > len || off % ISO_SECTOR + reclen > ISO_SECTOR)
                        return -EBADMSG;
                namelen = rec[32];
                if (33 + namelen > reclen)
                        return -EBADMSG;
                off += reclen;

                uint8_t flags = rec[25];
                if (namelen == 1 && (rec[33] == 0 || rec[33] == 1))
                        continue; /* "." and ".." */
                if (flags & 0x04)
                        continue; /* associated file, hidden by Linux */

                bool rr_name = false;
                if (joliet)
                        name = ucs2be_to_utf8(rec + 33, namelen);
                else {
                        RockName rn = {};
                        const uint8_t *su;
                        size_t sulen;

                        if (fs->rock_ridge) {
                                susp_area(fs, rec, &su, &sulen);
                                r = rock_parse(fs, su, sulen, &rn);
                                if (r < 0)
                                        return r;
                                if (rn.special)
                                        continue;
                        }
                        rr_name = rn.found;
                        name = rn.found ? strndup(rn.buf, rn.len) : strndup((const char *) rec + 33, namelen);
                }
                if (!name)
                        return -ENOMEM;
                /* Rock Ridge names are taken as they are; the others lose ";1" (plain ones are
                 * also shown in lower case, as isofs' map=normal does). */
                if (!rr_name)
                        strip_version(name, !joliet);
                uint64_t xattr = rec[1];
                bool readable = !(flags & 0x80) && rec[26] == 0 && rec[27] == 0;
                r = node_list_add(&l, name, NULL, get_le32(rec + 10), get_le32(rec + 2) + xattr, flags & 0x02, readable);
                if (r < 0)
                        return r;
        }
        *ret = l;
        l = (NodeList) {};
        return 0;
}

static int iso_read_node(const SeedFs *fs, const Node *n, size_t max, char **ret, size_t *ret_size) {
        uint8_t *buf = NULL;
        int r;

        if (!n->readable)
                return -EFBIG; /* multi-extent (over 4 GiB) or interleaved: never a seed file */
        r = iso_read_extent(fs, n->loc, n->size, max, &buf);
        if (r < 0)
                return r;
        buf[n->size] = 0;
        *ret = (char *) buf;
        *ret_size = n->size;
        return 0;
}

/* Returns 1 if fd holds ISO 9660 ("CD001" at sector 16), with what the descriptors say; 0 if not. */
static int iso_descriptors(int fd, char **ret_label, char **ret_pvd_label, Node *ret_pvd_root, Node *ret_joliet_root) {
        _cleanup_free_ char *joliet = NULL, *pvd = NULL;
        Node pvd_root = {}, joliet_root = {};
        uint8_t vd[ISO_SECTOR];
        bool iso = false;

        for (unsigned sector = ISO_VD_FIRST; sector < ISO_VD_FIRST + ISO_VD_MAX; sector++) {
                if (pread_full(fd, vd, sizeof vd, (uint64_t) sector * ISO_SECTOR) < 0)
                        break;
                if (memcmp(vd + 1, "CD001", 5) != 0 || vd[0] == 255)
                        break;
                iso = true;
                /* the root directory record at 156: extent at +2, length at +10; blocks of 2048 only */
                bool block_ok = get_le16(vd + 128) == ISO_SECTOR;
                if (vd[0] == 1 && !pvd_root.size) {
                        free(pvd);
                        pvd = trimmed_copy((const char *) vd + 40, 32);
                        if (block_ok)
                                pvd_root = (Node) { .loc = get_le32(vd + 158), .size = get_le32(vd + 166), .directory = true };
                }
                if (vd[0] == 2 && !joliet_root.size && vd[88] == '%' && vd[89] == '/' &&
                    (vd[90] == '@' || vd[90] == 'C' || vd[90] == 'E')) {
                        char *l = ucs2be_to_utf8(vd + 40, 32);
                        if (!l)
                                return -ENOMEM;
                        free(joliet);
                        joliet = trimmed_copy(l, strlen(l));
                        free(l);
                        if (block_ok)
                                joliet_root = (Node) { .loc = get_le32(vd + 158), .size = get_le32(vd + 166), .directory = true };
                }
        }
        if (!iso)
                return 0;
        if (ret_pvd_label)
                *ret_pvd_label = pvd ? strdup(pvd) : NULL;
        *ret_label = TAKE_PTR(joliet) ?: TAKE_PTR(pvd);
        if (ret_pvd_root)
                *ret_pvd_root = pvd_root;
        if (ret_joliet_root)
                *ret_joliet_root = joliet_root;
        return 1;
}

static int iso_open(SeedFs *fs) {
        Node pvd_root, joliet_root;
        _cleanup_free_ uint8_t *first = NULL;
        int r;

        r = iso_descriptors(fs->fd, &fs->label, &fs->pvd_label, &pvd_root, &joliet_root);
        if (r <= 0)
                return r < 0 ? r : -EMEDIUMTYPE;
        if (pvd_root.size < 34)
                return -EBADMSG;
        fs->type = FS_ISO9660;
        fs->joliet = joliet_root.size >= 34;

        /* Rock Ridge: the root's "." record (the first) holds "SP" (check bytes BE EF, skip length). */
        r = iso_read_extent(fs, pvd_root.loc, MIN(pvd_root.size, (uint64_t) ISO_SECTOR), ISO_SECTOR, &first);
        if (r < 0)
                return r;
        if (first[0] >= 34 && first[0] <= MIN(pvd_root.size, (uint64_t) ISO_SECTOR) && 33 + first[32] <= first[0]) {
                const uint8_t *su;
                size_t sulen;
                RockName rn = {};

                susp_area(fs, first, &su, &sulen);
                if (sulen >= 7 && su[0] == 'S' && su[1] == 'P' && su[4] == 0xBE && su[5] == 0xEF)
                        fs->susp_skip = su[6];
                if (rock_parse(fs, su, sulen, &rn) >= 0 && rn.rock)
                        fs->rock_ridge = true;
        }
        fs->root = fs->joliet && !fs->rock_ridge ? joliet_root : pvd_root;
        return 0;
}

/* ---- FAT ---- */

#define IN_SET_BPS(b) ((b) == 512 || (b) == 1024 || (b) == 2048 || (b) == 4096)

static int fat_parse_bpb(int fd, uint64_t size, Fat *ret) {
        uint8_t bs[512];
        uint32_t bps, spc, reserved, nfats, root_entries, total, fatsz, root_sectors, data_sectors;
        Fat f = {};

        if (pread_full(fd, bs, sizeof bs, 0) < 0)
                return -EMEDIUMTYPE;
        if (bs[510] != 0x55 || bs[511] != 0xAA)
                return -EMEDIUMTYPE;
        bps = get_le16(bs + 11);
        spc = bs[13];
        reserved = get_le16(bs + 14);
        nfats = bs[16];
        root_entries = get_le16(bs + 17);
        total = get_le16(bs + 19) ?: get_le32(bs + 32);
        fatsz = get_le16(bs + 22) ?: get_le32(bs + 36);
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
        if (get_le16(bs + 22) == 0)
                f.bits = 32;
        f.cluster_size = bps * spc;
        f.fat_offset = (uint64_t) reserved * bps;
        f.root_offset = f.fat_offset + (uint64_t) nfats * fatsz * bps;
        f.root_entries = root_entries;
        f.data_offset = f.root_offset + (uint64_t) root_sectors * bps;
        f.root_cluster = f.bits == 32 ? get_le32(bs + 44) : 0;
        /* A FAT that claims more clusters than the image holds is cut to what is there (mkfs.vfat
         * -C images are sparse but whole; a truncated copy then fails on the clusters it lacks). */
        if (f.data_offset >= size)
                f.clusters = 0;
        else
                f.clusters = (uint32_t) MIN((uint64_t) f.clusters, (size - f.data_offset) / f.cluster_size);
        if (f.bits == 32 ? bs[66] == 0x29 : bs[38] == 0x29) {
                _cleanup_free_ char *t = trimmed_copy((const char *) bs + (f.bits == 32 ? 71 : 43), 11);
                if (t && !streq(t, "NO NAME"))
                        snprintf(f.boot_label, sizeof f.boot_label, "%s", t);
        }
        *ret = f;
        return 0;
}

static int fat_next_cluster(const SeedFs *fs, uint32_t c, uint32_t *ret) {
        const Fat *f = &fs->fat;
        uint8_t b[4];
        int r;

        if (f->bits == 12) {
                r = pread_full(fs->fd, b, 2, f->fat_offset + c + c / 2);
                if (r < 0)
                        return r;
                uint16_t v = get_le16(b);
                v = (c & 1) ? v >> 4 : v & 0xFFF;
                *ret = v >= 0xFF8 ? UINT32_MAX : v;
        } else if (f->bits == 16) {
                r = pread_full(fs->fd, b, 2, f->fat_offset + (uint64_t) c * 2);
                if (r < 0)
                        return r;
                uint16_t v = get_le16(b);
                *ret = v >= 0xFFF8 ? UINT32_MAX : v;
        } else {
                r = pread_full(fs->fd, b, 4, f->fat_offset + (uint64_t) c * 4);
                if (r < 0)
                        return r;
                uint32_t v = get_le32(b) & 0x0FFFFFFF;
                *ret = v >= 0x0FFFFFF8 ? UINT32_MAX : v;
        }
        return 0;
}

/* Reads a cluster chain (the fixed root when first == 0 on FAT12/16), at most max bytes. Every
 * cluster is range-checked, and a chain longer than the FAT has clusters is a loop. */
static int fat_read_chain(const SeedFs *fs, uint32_t first, size_t max, uint8_t **ret, size_t *ret_len) {
        const Fat *f = &fs->fat;
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0;
        int r;

        if (first == 0 && f->bits != 32) {
                len = (size_t) f->root_entries * 32;
                buf = malloc(len ?: 1);
                if (!buf)
                        return -ENOMEM;
                r = pread_full(fs->fd, buf, len, f->root_offset);
                if (r < 0)
                        return r;
        } else {
                size_t steps = 0;

                for (uint32_t c = first; c != UINT32_MAX;) {
                        uint8_t *nb;

                        if (c < 2 || c >= f->clusters + 2 || ++steps > f->clusters)
                                return -EBADMSG;
                        if (len >= max)
                                return -EFBIG;
                        nb = realloc(buf, len + f->cluster_size);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        r = pread_full(fs->fd, buf + len, f->cluster_size,
                                       f->data_offset + (uint64_t) (c - 2) * f->cluster_size);
                        if (r < 0)
                                return r;
                        len += f->cluster_size;
                        r = fat_next_cluster(fs, c, &c);
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

/* Parses a directory buffer into l; the volume label entry (root only) goes to label[12]. */
static int fat_parse_dir(const uint8_t *dir, size_t len, NodeList *l, char *label) {
        static const uint8_t pos[13] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };
        char lfn[256] = {};
        bool lfn_valid = false;
        uint8_t lfn_sum = 0;
        int r;

        for (size_t off = 0; off + 32 <= len; off += 32) {
                const uint8_t *e = dir + off;
                uint8_t attr = e[11];

                if (e[0] == 0)
                        break;
                if (e[0] == 0xE5) {
                        lfn_valid = false;
                        continue;
                }
                if ((attr & 0x3F) == 0x0F) {
                        unsigned seq = e[0] & 0x1F;

                        if (seq == 0 || seq > 20) {
                                lfn_valid = false;
                                continue;
                        }
                        if (e[0] & 0x40) {
                                memset(lfn, 0, sizeof lfn);
                                lfn_valid = true;
                                lfn_sum = e[13];
                        } else if (!lfn_valid || e[13] != lfn_sum) {
                                lfn_valid = false;
                                continue;
                        }
                        for (size_t i = 0; i < 13; i++) {
                                uint16_t c = get_le16(e + pos[i]);
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
                        lfn_valid = false;
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
                lfn_valid = false;

                char *name = strdup(ln > 0 ? longname : shortname), *alt = ln > 0 ? strdup(shortname) : NULL;
                if (!name || (ln > 0 && !alt)) {
                        free(name);
                        free(alt);
                        return -ENOMEM;
                }
                uint32_t cluster = (uint32_t) get_le16(e + 26) | (uint32_t) get_le16(e + 20) << 16;
                r = node_list_add(l, name, alt, get_le32(e + 28), cluster, attr & 0x10, true);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int fat_read_dir(const SeedFs *fs, const Node *dir, NodeList *ret, char *label) {
        _cleanup_(node_list_done) NodeList l = {};
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        int r;

        if (dir && dir->loc == 0 && fs->fat.bits != 32)
                return -EBADMSG; /* only the root lives in the fixed region */
        r = fat_read_chain(fs, dir ? (uint32_t) dir->loc : fs->fat.bits == 32 ? fs->fat.root_cluster : 0,
                           DIR_BYTES_MAX, &buf, &len);
        if (r == -EFBIG)
                return -EBADMSG;
        if (r < 0)
                return r;
        r = fat_parse_dir(buf, len, &l, label);
        if (r < 0)
                return r;
        *ret = l;
        l = (NodeList) {};
        return 0;
}

static int fat_read_node(const SeedFs *fs, const Node *n, size_t max, char **ret, size_t *ret_size) {
        _cleanup_free_ uint8_t *data = NULL;
        size_t dlen = 0;
        char *out;
        int r;

        if (n->size > max)
                return -EFBIG;
        if (n->size > 0) {
                r = fat_read_chain(fs, (uint32_t) n->loc, (size_t) n->size + fs->fat.cluster_size, &data, &dlen);
                if (r == -EFBIG)
                        return -EBADMSG; /* the chain is longer than the size says */
                if (r < 0)
                        return r;
                if (dlen < n->size)
                        return -EBADMSG;
        }
        out = malloc((size_t) n->size + 1);
        if (!out)
                return -ENOMEM;
        if (n->size > 0)
                memcpy(out, data, n->size);
        out[n->size] = 0;
        *ret = out;
        *ret_size = n->size;
        return 0;
}

static int fat_open(SeedFs *fs) {
        _cleanup_(node_list_done) NodeList root = {};
        char label[12] = {};
        int r;

        r = fat_parse_bpb(fs->fd, fs->size, &fs->fat);
        if (r < 0)
                return r;
        fs->type = FS_VFAT;
        if (fat_read_dir(fs, NULL, &root, label) < 0)
                label[0] = 0; /* a broken root still has its boot sector's label */
        if (label[0] || fs->fat.boot_label[0]) {
                fs->label = strdup(label[0] ? label : fs->fat.boot_label);
                if (!fs->label)
                        return -ENOMEM;
        }
        return 0;
}

/* ---- both ---- */

static int read_dir(const SeedFs *fs, const Node *dir, NodeList *ret) {
        if (fs->type == FS_ISO9660)
                return iso_read_dir(fs, dir ?: &fs->root, ret);
        return fat_read_dir(fs, dir, ret, NULL);
}

static const Node *find(const SeedFs *fs, const NodeList *l, const char *name) {
        for (size_t i = 0; i < l->n; i++) {
                const Node *n = &l->v[i];
                if (fs->type == FS_ISO9660 ? streq(n->name, name)
                                           : strcasecmp(n->name, name) == 0 || (n->alt && strcasecmp(n->alt, name) == 0))
                        return n;
        }
        return NULL;
}

static int read_node(const SeedFs *fs, const Node *n, size_t max, char **ret, size_t *ret_size) {
        if (fs->type == FS_ISO9660)
                return iso_read_node(fs, n, max, ret, ret_size);
        return fat_read_node(fs, n, max, ret, ret_size);
}

int seedfs_open(int fd, SeedFs **ret) {
        _cleanup_(seedfs_freep) SeedFs *fs = NULL;
        int r;

        if (fd < 0 || !ret)
                return -EINVAL;
        fs = calloc(1, sizeof *fs);
        if (!fs)
                return -ENOMEM;
        fs->fd = fd;
        r = image_size(fd, &fs->size);
        if (r < 0)
                return r;
        r = iso_open(fs);
        if (r == -EMEDIUMTYPE)
                r = fat_open(fs);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(fs);
        return 0;
}

SeedFs *seedfs_free(SeedFs *fs) {
        if (fs) {
                free(fs->label);
                free(fs->pvd_label);
                free(fs);
        }
        return NULL;
}

FsType seedfs_type(const SeedFs *fs) {
        return fs->type;
}

const char *seedfs_label(const SeedFs *fs) {
        return fs->label;
}

const char *seedfs_iso_pvd_label(const SeedFs *fs) {
        return fs->pvd_label;
}

bool seedfs_iso_rock_ridge(const SeedFs *fs) {
        return fs->rock_ridge;
}

bool seedfs_iso_joliet(const SeedFs *fs) {
        return fs->joliet;
}

int seedfs_list_root(SeedFs *fs, SeedFsEntry **ret, size_t *ret_n) {
        _cleanup_(node_list_done) NodeList l = {};
        SeedFsEntry *e;
        int r;

        r = read_dir(fs, NULL, &l);
        if (r < 0)
                return r;
        e = calloc(l.n ?: 1, sizeof *e);
        if (!e)
                return -ENOMEM;
        for (size_t i = 0; i < l.n; i++)
                e[i] = (SeedFsEntry) { .name = TAKE_PTR(l.v[i].name), .size = l.v[i].size, .directory = l.v[i].directory };
        *ret = e;
        *ret_n = l.n;
        return 0;
}

void seedfs_entries_free(SeedFsEntry *e, size_t n) {
        for (size_t i = 0; e && i < n; i++)
                free(e[i].name);
        free(e);
}

int seedfs_read_file(SeedFs *fs, const char *path, SeedFsFlags flags, size_t max, char **ret, size_t *ret_size) {
        _cleanup_(node_list_done) NodeList dir = {};
        _cleanup_free_ char *copy = NULL;
        char *comps[PATH_DEPTH_MAX];
        size_t n_comps = 0, size;
        Node sub = {};
        int r;

        if (!fs || !path || !ret)
                return -EINVAL;
        copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        for (char *save = NULL, *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (!name_ok(c) || n_comps >= ELEMENTSOF(comps))
                        return -EINVAL;
                comps[n_comps++] = c;
        }
        if (n_comps == 0)
                return -EINVAL;

        r = read_dir(fs, NULL, &dir);
        if (r < 0)
                return r;
        for (size_t i = 0; i + 1 < n_comps; i++) {
                const Node *d = find(fs, &dir, comps[i]);

                if (!d || !d->directory)
                        return -ENOENT;
                sub = (Node) { .size = d->size, .loc = d->loc, .directory = true };
                node_list_done(&dir);
                r = read_dir(fs, &sub, &dir);
                if (r < 0)
                        return r;
        }

        /* The name itself, then "user_data", then "USER_DATA". */
        const char *last = comps[n_comps - 1];
        char alias[2][256];
        size_t ln = strlen(last);
        const char *candidates[3] = { last };
        size_t n_candidates = 1;
        if ((flags & SEEDFS_ALIASES) && ln < sizeof alias[0]) {
                for (size_t i = 0; i <= ln; i++) {
                        alias[0][i] = last[i] == '-' ? '_' : last[i];
                        alias[1][i] = (char) toupper((unsigned char) alias[0][i]);
                }
                candidates[n_candidates++] = alias[0];
                candidates[n_candidates++] = alias[1];
        }
        for (size_t i = 0; i < n_candidates; i++) {
                const Node *f = find(fs, &dir, candidates[i]);

                if (!f)
                        continue;
                if (f->directory)
                        return -EISDIR;
                r = read_node(fs, f, max, ret, &size);
                if (r < 0)
                        return r;
                if (ret_size)
                        *ret_size = size;
                return 0;
        }
        return -ENOENT;
}

/* ---- probing ---- */

static int probe_ext(int fd, char **ret_label) {
        uint8_t sb[256];

        if (pread_full(fd, sb, sizeof sb, 1024) < 0)
                return 0;
        if (get_le16(sb + 56) != 0xEF53)
                return 0;
        *ret_label = trimmed_copy((const char *) sb + 120, 16);
        return 1;
}

int fs_probe_fd(int fd, FsType *ret_type, char **ret_label) {
        char *label = NULL;
        int r;

        r = iso_descriptors(fd, &label, NULL, NULL, NULL);
        if (r < 0)
                return r;
        if (r > 0)
                *ret_type = FS_ISO9660;
        else if (probe_ext(fd, &label) > 0)
                *ret_type = FS_EXT;
        else {
                _cleanup_(seedfs_freep) SeedFs *fs = calloc(1, sizeof *fs);

                if (!fs)
                        return -ENOMEM;
                fs->fd = fd;
                *ret_type = FS_UNKNOWN;
                if (image_size(fd, &fs->size) >= 0 && fat_open(fs) >= 0) {
                        *ret_type = FS_VFAT;
                        label = TAKE_PTR(fs->label);
                }
        }
        *ret_label = label;
        return 0;
}
