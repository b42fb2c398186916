/**
 * The seed ISO writer: a small ISO 9660 writer for a flat root directory, with Rock Ridge (SUSP and
 * RRIP 1.10: SP, CE, ER, PX, TF, NM) and a Joliet supplementary volume (UCS-2, escape "%/E"). The
 * whole image but the file data is laid out in memory, then written once into an AtomicFile.
 *
 * Layout (2048-byte blocks): 0-15 system area (zeros), 16 primary descriptor, 17 Joliet descriptor,
 * 18 terminator, 19-22 the four path tables (primary L and M, Joliet L and M), then the primary
 * root directory, the Joliet root directory, the Rock Ridge continuation area holding the ER entry
 * (after the directories: libarchive's streaming reader refuses a CE that points backwards) and
 * the files, each from a block boundary. No padding at the end.
 *
 * Names: the primary tree has ISO 9660 level 1 names (8.3, upper case, d-characters, ";1"; made
 * unique with a number), the real name in Rock Ridge NM; the Joliet tree has the name in UCS-2.
 * Every date (descriptors, records, TF) is the one stamp, in UTC: with a fixed epoch the image is
 * the same byte for byte. Files are mode 0444, the root 0555, owned by 0:0.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cleanup.h"
#include "fileio.h"
#include "macro.h"
#include "reterr.h"
#include "seed/iso.h"
#include "unaligned.h"

#define SECTOR 2048U
#define LBA_PVD 16U
#define LBA_SVD 17U
#define LBA_TERM 18U
#define LBA_PATH 19U /* primary L, primary M, Joliet L, Joliet M */
#define LBA_ROOT 23U
#define PATH_TABLE_SIZE 10U
#define JOLIET_NAME_MAX 64

static const char er_id[] = "RRIP_1991A";
static const char er_des[] = "THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS";
static const char er_src[] = "PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN "
                             "PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.";
#define ER_LEN (8 + sizeof er_id - 1 + sizeof er_des - 1 + sizeof er_src - 1)

int seed_parse_epoch(const char *s, time_t *ret) {
        unsigned long long v = 0;

        if (isempty(s))
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                if (v > (9999999999ULL - (unsigned long long) (*p - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (unsigned long long) (*p - '0');
        }
        /* ISO 9660 dates have four-digit years: 9999-12-31 is 253402300799. */
        if (v > 253402300799ULL)
                return -ERANGE;
        *ret = (time_t) v;
        return 0;
}

static bool volume_id_valid(const char *v) {
        size_t n = strlen(v);

        /* d-characters (upper-cased for the primary descriptor); Joliet allows 16. */
        if (n == 0 || n > 16)
                return false;
        for (const char *p = v; *p; p++)
                if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
                        return false;
        return true;
}

static bool file_name_valid(const char *n) {
        size_t l = strlen(n);

        if (l == 0 || l > 64 || streq(n, ".") || streq(n, ".."))
                return false;
        for (const char *p = n; *p; p++)
                if (*p == '/' || (unsigned char) *p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

/* ECMA-119 7.2 and 7.3: little-endian, big-endian and both-byte orders. */

static void put_both16(uint8_t *p, uint16_t v) {
        put_le16(p, v);
        put_be16(p + 2, v);
}

static void put_both32(uint8_t *p, uint32_t v) {
        put_le32(p, v);
        put_be32(p + 4, v);
}

/* 9.1.5: years since 1900 (one byte: 1900-2155), month, day, hour, minute, second, GMT offset 0. */
static void date7(uint8_t d[static 7], const struct tm *tm) {
        int y = tm->tm_year;

        if (y > 255) {
                memcpy(d, (const uint8_t[]) { 255, 12, 31, 23, 59, 59, 0 }, 7);
                return;
        }
        d[0] = (uint8_t) MAX(y, 0);
        d[1] = (uint8_t) (tm->tm_mon + 1);
        d[2] = (uint8_t) tm->tm_mday;
        d[3] = (uint8_t) tm->tm_hour;
        d[4] = (uint8_t) tm->tm_min;
        d[5] = (uint8_t) tm->tm_sec;
        d[6] = 0;
}

/* 8.4.26.1: "YYYYMMDDHHMMSScc" and a GMT offset byte 0. */
static void date17(uint8_t d[static 17], const struct tm *tm) {
        char s[80];

        (void) snprintf(s, sizeof s, "%04d%02d%02d%02d%02d%02d00", tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday,
                 tm->tm_hour, tm->tm_min, tm->tm_sec);
        memcpy(d, s, 16);
        d[16] = 0;
}

typedef struct Entry {
        const SeedFile *file;
        char base[9], ext[4];        /* the level 1 name: base and extension */
        uint16_t joliet[JOLIET_NAME_MAX];
        size_t joliet_len;
        uint32_t lba;
} Entry;

static void level1_name(Entry *e) {
        const char *n = e->file->name, *dot = strrchr(n, '.');
        size_t bl = dot && dot != n ? (size_t) (dot - n) : strlen(n), i, k;

        for (i = 0, k = 0; i < bl && k < 8; i++, k++)
                e->base[k] = n[i] >= 'a' && n[i] <= 'z' ? (char) (n[i] - 'a' + 'A') :
                             (n[i] >= 'A' && n[i] <= 'Z') || (n[i] >= '0' && n[i] <= '9') ? n[i] : '_';
        e->base[k] = 0;
        k = 0;
        if (dot && dot != n)
                for (const char *p = dot + 1; *p && k < 3; p++, k++)
                        e->ext[k] = *p >= 'a' && *p <= 'z' ? (char) (*p - 'a' + 'A') :
                                    (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ? *p : '_';
        e->ext[k] = 0;
}

/* UTF-8 to UCS-2: a sequence that is not valid UTF-8, a character beyond the BMP and the characters
 * Joliet forbids (* / : ; ? \) become '_'. */
static void joliet_name(Entry *e) {
        const unsigned char *p = (const unsigned char *) e->file->name;
        size_t k = 0;

        while (*p && k < JOLIET_NAME_MAX) {
                uint32_t c = *p;
                unsigned more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
                bool bad = c >= 0x80 && c < 0xc0;

                if (more) {
                        c &= 0x3fU >> more;
                        for (unsigned i = 1; i <= more; i++) {
                                if ((p[i] & 0xc0) != 0x80) {
                                        bad = true;
                                        more = i - 1;
                                        break;
                                }
                                c = (c << 6) | (p[i] & 0x3fU);
                        }
                }
                p += 1 + more;
                if (bad || c > 0xffff || (c >= 0xd800 && c < 0xe000) || strchr("*/:;?\\", (int) c) || c < 0x20)
                        c = '_';
                e->joliet[k++] = (uint16_t) c;
        }
        e->joliet_len = k;
}

/* A name's character at i, as if padded with spaces. */
static int padded_at(const char *s, size_t i) {
        return i < strlen(s) ? (unsigned char) s[i] : ' ';
}

static int level1_cmp(const Entry *a, const Entry *b) {
        /* 9.3: names compared as if padded with spaces, the extension after the name. */
        for (size_t i = 0; i < 8; i++)
                if (padded_at(a->base, i) != padded_at(b->base, i))
                        return padded_at(a->base, i) - padded_at(b->base, i);
        for (size_t i = 0; i < 3; i++)
                if (padded_at(a->ext, i) != padded_at(b->ext, i))
                        return padded_at(a->ext, i) - padded_at(b->ext, i);
        return 0;
}

static int joliet_cmp(const Entry *a, const Entry *b) {
        for (size_t i = 0; i < MIN(a->joliet_len, b->joliet_len); i++)
                if (a->joliet[i] != b->joliet[i])
                        return (int) a->joliet[i] - (int) b->joliet[i];
        return (int) a->joliet_len - (int) b->joliet_len;
}

static bool name_taken(const Entry *v, size_t i, int (*cmp)(const Entry *, const Entry *)) {
        for (size_t j = 0; j < i; j++)
                if (cmp(&v[i], &v[j]) == 0)
                        return true;
        return false;
}

static void number_level1(Entry *e, unsigned seq) {
        char num[12];
        size_t nl = (size_t) snprintf(num, sizeof num, "%u", seq);

        memcpy(e->base + MIN(strlen(e->base), 8 - MIN(nl, (size_t) 8)), num, MIN(nl, (size_t) 8) + 1);
}

static void number_joliet(Entry *e, unsigned seq) {
        char num[12];
        size_t nl = (size_t) snprintf(num, sizeof num, "%u", seq), at = MIN(e->joliet_len, JOLIET_NAME_MAX - nl);

        for (size_t k = 0; k < nl; k++)
                e->joliet[at + k] = (uint16_t) num[k];
        e->joliet_len = at + nl;
}

/* Two files whose short (or Joliet) names coincide get a number in the last characters of the
 * later one's name. */
static void make_unique(Entry *v, size_t n) {
        for (size_t i = 1; i < n; i++) {
                for (unsigned seq = 1; name_taken(v, i, level1_cmp); seq++)
                        number_level1(&v[i], seq);
                for (unsigned seq = 1; name_taken(v, i, joliet_cmp); seq++)
                        number_joliet(&v[i], seq);
        }
}

static int level1_qsort(const void *a, const void *b) {
        return level1_cmp(*(Entry *const *) a, *(Entry *const *) b);
}

static int joliet_qsort(const void *a, const void *b) {
        return joliet_cmp(*(Entry *const *) a, *(Entry *const *) b);
}

/* System use entries (SUSP 5, RRIP 4.1). */
typedef struct Su {
        uint8_t b[255];
        size_t n;
} Su;

static uint8_t *su_add(Su *s, const char sig[static 2], size_t len) {
        uint8_t *p = s->b + s->n;

        assert(s->n + len <= sizeof s->b);
        p[0] = (uint8_t) sig[0];
        p[1] = (uint8_t) sig[1];
        p[2] = (uint8_t) len;
        p[3] = 1;
        s->n += len;
        return p;
}

static void su_px_tf(Su *s, mode_t mode, uint32_t nlink, const uint8_t d[static 7]) {
        uint8_t *p = su_add(s, "PX", 36);

        put_both32(p + 4, (uint32_t) mode);
        put_both32(p + 12, nlink);
        put_both32(p + 20, 0);
        put_both32(p + 28, 0);
        /* TF: modify, access and attribute change times, 7-byte form. */
        p = su_add(s, "TF", 5 + 3 * 7);
        p[4] = 0x0e;
        for (unsigned i = 0; i < 3; i++)
                memcpy(p + 5 + 7 * i, d, 7);
}

/* 9.1: a directory record; its length (even, at most 255). out NULL: the length only. */
static size_t dir_record(uint8_t *out, uint32_t lba, uint32_t size, bool dir, const uint8_t *id, size_t id_len,
                         const uint8_t d[static 7], const Su *su) {
        size_t len = 33 + id_len + !(id_len & 1) + (su ? su->n : 0);

        len += len & 1;
        assert(len <= 255);
        if (!out)
                return len;
        memset(out, 0, len);
        out[0] = (uint8_t) len;
        put_both32(out + 2, lba);
        put_both32(out + 10, size);
        memcpy(out + 18, d, 7);
        out[25] = dir ? 0x02 : 0;
        put_both16(out + 28, 1);
        out[32] = (uint8_t) id_len;
        memcpy(out + 33, id, id_len);
        if (su)
                memcpy(out + 33 + id_len + !(id_len & 1), su->b, su->n);
        return len;
}

/* Appends a record to a directory extent at *off: a record never crosses a block (6.8.1.1). */
static void dir_append(uint8_t *ext, size_t *off, size_t len, uint8_t *rec) {
        if (*off / SECTOR != (*off + len - 1) / SECTOR)
                *off = (*off / SECTOR + 1) * SECTOR;
        if (ext)
                memcpy(ext + *off, rec, len);
        *off += len;
}

typedef struct Layout {
        const Entry *const *by_level1, *const *by_joliet;
        size_t n;
        uint8_t date[7];
        time_t stamp;
        uint32_t ce_lba;
} Layout;

/* One root directory, primary (with Rock Ridge) or Joliet; ext NULL: only its size. Returns the
 * size in bytes, a multiple of SECTOR. */
static size_t root_dir(uint8_t *ext, const Layout *l, bool joliet, uint32_t self_lba, uint32_t self_size) {
        const uint8_t dot = 0, dotdot = 1;
        uint8_t rec[256];
        size_t off = 0, len;
        Su su = {};

        /* "." and "..": the root is its own parent. The primary "." opens with SP and points with
         * CE to the ER entry (SUSP 5.3, 5.1, 5.5). */
        if (!joliet) {
                uint8_t *p = su_add(&su, "SP", 7);
                p[4] = 0xbe;
                p[5] = 0xef;
                p[6] = 0;
                su_px_tf(&su, S_IFDIR | 0555, 2, l->date);
                p = su_add(&su, "CE", 28);
                put_both32(p + 4, l->ce_lba);
                put_both32(p + 12, 0);
                put_both32(p + 20, ER_LEN);
        }
        len = dir_record(ext ? rec : NULL, self_lba, self_size, true, &dot, 1, l->date, joliet ? NULL : &su);
        dir_append(ext, &off, len, rec);
        su.n = 0;
        if (!joliet)
                su_px_tf(&su, S_IFDIR | 0555, 2, l->date);
        len = dir_record(ext ? rec : NULL, self_lba, self_size, true, &dotdot, 1, l->date, joliet ? NULL : &su);
        dir_append(ext, &off, len, rec);

        for (size_t i = 0; i < l->n; i++) {
                const Entry *e = joliet ? l->by_joliet[i] : l->by_level1[i];
                uint8_t id[2 * JOLIET_NAME_MAX];
                size_t id_len;

                su.n = 0;
                if (joliet) {
                        for (size_t k = 0; k < e->joliet_len; k++)
                                put_be16(id + 2 * k, e->joliet[k]);
                        id_len = 2 * e->joliet_len;
                } else {
                        id_len = (size_t) snprintf((char *) id, sizeof id, "%s.%s;1", e->base, e->ext);
                        su_px_tf(&su, S_IFREG | 0444, 1, l->date);
                        size_t nl = strlen(e->file->name);
                        uint8_t *p = su_add(&su, "NM", 5 + nl);
                        p[4] = 0;
                        memcpy(p + 5, e->file->name, nl);
                }
                len = dir_record(ext ? rec : NULL, e->lba, (uint32_t) e->file->size, false, id, id_len, l->date,
                                 joliet ? NULL : &su);
                dir_append(ext, &off, len, rec);
        }
        return ALIGN_TO(off, SECTOR);
}

/* A text field: space-padded, in ASCII or (Joliet) UCS-2BE. */
static void text_field(uint8_t *p, size_t size, const char *s, bool ucs2, bool upper) {
        size_t n = strlen(s);

        for (size_t i = 0; i < size; i++)
                p[i] = ucs2 && !(i & 1) ? 0 : ' ';
        if (ucs2 && (size & 1))
                p[size - 1] = 0;
        for (size_t i = 0; i < n && (ucs2 ? 2 * i + 1 : i) < size; i++) {
                char c = upper && s[i] >= 'a' && s[i] <= 'z' ? (char) (s[i] - 'a' + 'A') : s[i];
                p[ucs2 ? 2 * i + 1 : i] = (uint8_t) c;
        }
}

static void path_table(uint8_t *p, uint32_t root_lba, bool big_endian) {
        p[0] = 1; /* the root's identifier: one byte 0x00 */
        if (big_endian) {
                put_be32(p + 2, root_lba);
                put_be16(p + 6, 1);
        } else {
                put_le32(p + 2, root_lba);
                put_le16(p + 6, 1);
        }
}

/* 8.4 and, for Joliet, the supplementary descriptor of 8.5 with escape "%/E" (UCS-2 level 3). */
static void volume_descriptor(uint8_t *vd, const Layout *l, bool joliet, const char *volume_id, uint32_t blocks,
                              uint32_t root_lba, uint32_t root_size) {
        struct tm tm;
        uint8_t dot = 0;

        vd[0] = joliet ? 2 : 1;
        memcpy(vd + 1, "CD001", 5);
        vd[6] = 1;
        text_field(vd + 8, 32, "LINUX", joliet, false);
        text_field(vd + 40, 32, volume_id, joliet, !joliet);
        put_both32(vd + 80, blocks);
        if (joliet)
                memcpy(vd + 88, "%/E", 3);
        put_both16(vd + 120, 1);
        put_both16(vd + 124, 1);
        put_both16(vd + 128, SECTOR);
        put_both32(vd + 132, PATH_TABLE_SIZE);
        put_le32(vd + 140, LBA_PATH + (joliet ? 2 : 0));
        put_be32(vd + 148, LBA_PATH + (joliet ? 3 : 1));
        (void) dir_record(vd + 156, root_lba, root_size, true, &dot, 1, l->date, NULL);
        text_field(vd + 190, 128, "", joliet, false);
        text_field(vd + 318, 128, "", joliet, false);
        text_field(vd + 446, 128, "", joliet, false);
        text_field(vd + 574, 128, "APPLIANCE-BUILDER", joliet, false);
        text_field(vd + 702, 37, "", joliet, false);
        text_field(vd + 739, 37, "", joliet, false);
        text_field(vd + 776, 37, "", joliet, false);
        (void) gmtime_r(&l->stamp, &tm);
        date17(vd + 813, &tm);
        date17(vd + 830, &tm);
        memcpy(vd + 847, "0000000000000000", 16);
        date17(vd + 864, &tm);
        vd[881] = 1;
}

static int write_image(int fd, const char *volume_id, const SeedFile *files, size_t n_files, time_t stamp) {
        _cleanup_free_ Entry *v = calloc(MAX(n_files, (size_t) 1), sizeof *v);
        _cleanup_free_ const Entry **by_level1 = calloc(MAX(n_files, (size_t) 1), sizeof *by_level1);
        _cleanup_free_ const Entry **by_joliet = calloc(MAX(n_files, (size_t) 1), sizeof *by_joliet);
        _cleanup_free_ uint8_t *meta = NULL;
        static const uint8_t zeros[SECTOR];
        Layout l = { .n = n_files, .stamp = stamp };
        uint32_t root_size, joliet_lba, joliet_size;
        uint64_t lba;
        struct tm tm;
        int r;

        if (!v || !by_level1 || !by_joliet)
                return -ENOMEM;
        if (!gmtime_r(&stamp, &tm))
                return -ERANGE;
        date7(l.date, &tm);

        for (size_t i = 0; i < n_files; i++) {
                v[i].file = &files[i];
                level1_name(&v[i]);
                joliet_name(&v[i]);
        }
        make_unique(v, n_files);
        for (size_t i = 0; i < n_files; i++)
                by_level1[i] = by_joliet[i] = &v[i];
        qsort(by_level1, n_files, sizeof *by_level1, level1_qsort);
        qsort(by_joliet, n_files, sizeof *by_joliet, joliet_qsort);
        l.by_level1 = by_level1;
        l.by_joliet = by_joliet;

        root_size = (uint32_t) root_dir(NULL, &l, false, 0, 0);
        joliet_lba = LBA_ROOT + root_size / SECTOR;
        joliet_size = (uint32_t) root_dir(NULL, &l, true, 0, 0);
        l.ce_lba = joliet_lba + joliet_size / SECTOR;
        lba = l.ce_lba + 1;
        for (size_t i = 0; i < n_files; i++) {
                /* An empty file has no extent: block 0 and size 0, as other writers do. */
                v[i].lba = files[i].size > 0 ? (uint32_t) lba : 0;
                lba += DIV_ROUND_UP(files[i].size, SECTOR);
                if (lba > UINT32_MAX)
                        return -EFBIG;
        }

        size_t meta_size = (size_t) (l.ce_lba + 1) * SECTOR;
        meta = calloc(1, meta_size);
        if (!meta)
                return -ENOMEM;
        volume_descriptor(meta + LBA_PVD * SECTOR, &l, false, volume_id, (uint32_t) lba, LBA_ROOT, root_size);
        volume_descriptor(meta + LBA_SVD * SECTOR, &l, true, volume_id, (uint32_t) lba, joliet_lba, joliet_size);
        uint8_t *term = meta + LBA_TERM * SECTOR;
        term[0] = 255;
        memcpy(term + 1, "CD001", 5);
        term[6] = 1;
        path_table(meta + (LBA_PATH + 0) * SECTOR, LBA_ROOT, false);
        path_table(meta + (LBA_PATH + 1) * SECTOR, LBA_ROOT, true);
        path_table(meta + (LBA_PATH + 2) * SECTOR, joliet_lba, false);
        path_table(meta + (LBA_PATH + 3) * SECTOR, joliet_lba, true);

        uint8_t *er = meta + (size_t) l.ce_lba * SECTOR;
        er[0] = 'E';
        er[1] = 'R';
        er[2] = (uint8_t) ER_LEN;
        er[3] = 1;
        er[4] = sizeof er_id - 1;
        er[5] = sizeof er_des - 1;
        er[6] = sizeof er_src - 1;
        er[7] = 1;
        memcpy(er + 8, er_id, sizeof er_id - 1);
        memcpy(er + 8 + sizeof er_id - 1, er_des, sizeof er_des - 1);
        memcpy(er + 8 + sizeof er_id - 1 + sizeof er_des - 1, er_src, sizeof er_src - 1);

        (void) root_dir(meta + LBA_ROOT * SECTOR, &l, false, LBA_ROOT, root_size);
        (void) root_dir(meta + (size_t) joliet_lba * SECTOR, &l, true, joliet_lba, joliet_size);

        r = loop_write(fd, meta, meta_size);
        for (size_t i = 0; r >= 0 && i < n_files; i++) {
                r = loop_write(fd, files[i].data, files[i].size);
                if (r >= 0 && files[i].size % SECTOR)
                        r = loop_write(fd, zeros, SECTOR - files[i].size % SECTOR);
        }
        return r;
}

int seed_iso_write(const char *path, const char *volume_id, const SeedFile *files, size_t n_files, time_t epoch,
                   mode_t mode, char **reterr) {
        AtomicFile f = { .fd = -EBADF };
        int r;

        if (!path || (n_files > 0 && !files))
                return -EINVAL;
        if (!volume_id)
                volume_id = "cidata";
        if (!volume_id_valid(volume_id))
                return reterr_printf(reterr, 0, "invalid volume id '%s' (1-16 characters A-Z a-z 0-9 _)", volume_id),
                       -EINVAL;
        for (size_t i = 0; i < n_files; i++) {
                if (!files[i].name || !file_name_valid(files[i].name))
                        return reterr_printf(reterr, 0, "invalid file name '%s' for the image root",
                                         strna(files[i].name)),
                               -EINVAL;
                if (files[i].size > 0 && !files[i].data)
                        return -EINVAL;
                if (files[i].size > UINT32_MAX)
                        return reterr_printf(reterr, 0, "'%s' is too large for a single ISO 9660 extent", files[i].name),
                               -EFBIG;
                for (size_t j = 0; j < i; j++)
                        if (streq(files[i].name, files[j].name))
                                return reterr_printf(reterr, 0, "file '%s' given twice", files[i].name), -EEXIST;
        }

        r = atomic_file_open(&f, AT_FDCWD, path, mode);
        if (r < 0)
                return reterr_printf(reterr, 0, "cannot create the file: %s", strerror(-r)), r;
        /* A seed is small and made again in a moment: its data is made durable before the rename,
         * the rename is left to the file system's next commit (no fsync of the directory). */
        f.data_sync_only = true;

        r = write_image(f.fd, volume_id, files, n_files, epoch != (time_t) -1 ? epoch : time(NULL));
        if (r == -EFBIG)
                reterr_printf(reterr, 0, "the files do not fit into an ISO 9660 image");
        else if (r < 0)
                reterr_printf(reterr, 0, "cannot write the image: %s", strerror(-r));
        else {
                r = atomic_file_commit(&f);
                if (r < 0)
                        reterr_printf(reterr, 0, "cannot commit the file: %s", strerror(-r));
        }
        atomic_file_done(&f);
        return r;
}
