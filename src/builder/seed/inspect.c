/**
 * Seed inspection through the common seed reader (seedfs), which shows the names the Linux isofs
 * driver shows: Rock Ridge if present, else Joliet, else the 8.3 names in lower case without ";1"
 * -- so a seed made without both extensions shows "user_dat" and is not found. A vfat seed is read
 * as the kernel's vfat does (names case-insensitive). The rules checked are those of ds-identify
 * and the NoCloud datasource; each problem starts with the rule's name.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chase.h"
#include "cleanup.h"
#include "json-util.h"
#include "macro.h"
#include "seed/inspect.h"
#include "seedfs.h"
#include "seed/userdata.h"
#include "strv.h"
#include "yaml-util.h"

void seed_inspection_done(SeedInspection *i) {
        if (!i)
                return;
        free(i->label);
        free(i->pvd_label);
        free(i->filesystem);
        for (size_t k = 0; k < i->n_files; k++)
                free(i->files[k].name);
        free(i->files);
        free(i->instance_id);
        free(i->local_hostname);
        strv_free(i->problems);
        strv_free(i->warnings);
        *i = (SeedInspection) {};
}

/* The root directory as Linux shows it, and the reader its files come from. */
typedef struct Tree {
        SeedFsEntry *entries;
        size_t n;
        SeedFs *fs;
} Tree;

static void tree_done(Tree *t) {
        seedfs_entries_free(t->entries, t->n);
        *t = (Tree) {};
}

static bool name_eq(const Tree *t, const char *a, const char *b) {
        return seedfs_type(t->fs) == FS_VFAT ? strcasecmp(a, b) == 0 : streq(a, b);
}

static const SeedFsEntry *tree_find(const Tree *t, const char *name) {
        for (size_t i = 0; i < t->n; i++)
                if (!t->entries[i].directory && name_eq(t, t->entries[i].name, name))
                        return &t->entries[i];
        return NULL;
}

/* A name that is "the same" file for a human but not for cloud-init: case and '-'/'_' differences,
 * or the 8.3 truncation ("user_dat"). */
static const SeedFsEntry *tree_find_alias(const Tree *t, const char *name) {
        for (size_t i = 0; i < t->n; i++) {
                const char *a = t->entries[i].name, *b = name;
                size_t k;

                if (t->entries[i].directory)
                        continue;
                for (k = 0; a[k] && b[k]; k++) {
                        char x = (char) tolower((unsigned char) a[k]), y = (char) tolower((unsigned char) b[k]);
                        if (x == '-')
                                x = '_';
                        if (y == '-')
                                y = '_';
                        if (x != y)
                                break;
                }
                if (a[k] == 0 && (b[k] == 0 || k >= 8) && k > 0)
                        return &t->entries[i];
                /* "USER_DAT.;1" / "USER_DATA;1" as seen without translation */
                if ((a[k] == '.' || a[k] == ';') && k >= 8)
                        return &t->entries[i];
        }
        return NULL;
}

static int check_required(SeedInspection *ins, const Tree *visible, const char *name) {
        const SeedFsEntry *alias;

        if (tree_find(visible, name))
                return 0;
        alias = tree_find_alias(visible, name);
        if (alias)
                return strv_extendf(&ins->problems,
                                "%s: not found under that exact name; the root has '%s', which cloud-init does "
                                "not look for (Rock Ridge or Joliet names are needed)",
                                name, alias->name);
        return strv_extendf(&ins->problems, "%s: missing from the root directory; NoCloud needs both user-data and "
                                        "meta-data", name);
}

/* Reads a visible file of the seed: 1 and its bytes if it is there and readable, 0 if it is absent
 * or unreadable (the latter noted as a problem), -ENOMEM. */
static int read_seed_file(SeedInspection *ins, const Tree *visible, const char *name, char **ret, size_t *ret_size) {
        int r;

        if (!tree_find(visible, name))
                return 0;
        r = seedfs_read_file(visible->fs, name, 0, SEEDFS_FILE_MAX, ret, ret_size);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return strv_extendf(&ins->problems, "%s: cannot be read: %s", name, strerror(-r));
        return 1;
}

static int check_user_data(SeedInspection *ins, const Tree *visible, const char *name, bool *has) {
        _cleanup_free_ char *data = NULL, *err = NULL;
        UserDataType t, inner;
        size_t size;
        int r;

        r = read_seed_file(ins, visible, name, &data, &size);
        if (r <= 0)
                return r;
        r = user_data_validate(name, data, size, &t, &inner, &err);
        if (r == -ENOMEM)
                return r;
        if (streq(name, "user-data")) {
                *has = true;
                ins->user_data_type = user_data_detect(data, size);
                ins->user_data_inner = r >= 0 ? inner : ins->user_data_type;
        }
        if (r < 0)
                return strv_extendf(&ins->problems, "%s", err ?: "user-data: invalid");
        return 0;
}

static int check_yaml_file(SeedInspection *ins, const Tree *visible, const char *name, bool meta) {
        _cleanup_free_ char *data = NULL, *err = NULL;
        size_t size;
        int r;

        r = read_seed_file(ins, visible, name, &data, &size);
        if (r <= 0)
                return r;
        r = yaml_check(name, data, size, YAML_CHECK_ROOT_MAPPING, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return strv_extendf(&ins->problems, "%s", err ?: "invalid YAML");
        if (!meta) {
                /* network-config: cloud-init's NoCloud renders versions 1 and 2 only */
                _cleanup_free_ char *version = NULL;

                r = yaml_lookup(data, size, (const char *const[]) { "version", NULL }, &version, NULL, NULL);
                if (r == 0)
                        r = yaml_lookup(data, size, (const char *const[]) { "network", "version", NULL }, &version,
                                        NULL, NULL);
                if (r < 0)
                        return r;
                if (r > 0 && !(version && (streq(version, "1") || streq(version, "2"))))
                        return strv_extendf(&ins->problems, "network-config: version '%s': NoCloud reads versions 1 and 2 only",
                                        version ?: "(not a scalar)");
                return 0;
        }

        r = yaml_lookup(data, size, (const char *const[]) { "instance-id", NULL }, &ins->instance_id, NULL, NULL);
        if (r < 0)
                return r;
        if (r == 0 || isempty(ins->instance_id)) {
                free(ins->instance_id);
                ins->instance_id = NULL;
                r = strv_extendf(&ins->warnings,
                             "meta-data: no instance-id; cloud-init falls back to 'nocloud' and will treat every "
                             "seed as the same instance");
                if (r < 0)
                        return r;
        }
        r = yaml_lookup(data, size, (const char *const[]) { "local-hostname", NULL }, &ins->local_hostname, NULL,
                        NULL);
        return r < 0 ? r : 0;
}

/* Fills *ins (owned by the caller); returns -errno only when nothing could be judged. */
static int inspect_into(int fd, SeedInspection *ins) {
        _cleanup_(seedfs_freep) SeedFs *fs = NULL;
        _cleanup_(tree_done) Tree visible = {};
        int r;

        r = seedfs_open(fd, &fs);
        if (r == -ENOMEM)
                return r;
        if (r == -EMEDIUMTYPE)
                /* Not fatal: the report says what the file is not. */
                return strv_extendf(&ins->problems, "filesystem: neither ISO 9660 nor vfat; cloud-init reads a "
                                                "seed from one of them");
        if (r < 0)
                return strv_extendf(&ins->problems, "filesystem: cannot read the volume: %s", strerror(-r));
        ins->filesystem = strdup(fs_type_to_string(seedfs_type(fs)));
        if (!ins->filesystem)
                return -ENOMEM;
        if (seedfs_label(fs)) {
                ins->label = strdup(seedfs_label(fs));
                if (!ins->label)
                        return -ENOMEM;
        }
        if (seedfs_iso_pvd_label(fs)) {
                ins->pvd_label = strdup(seedfs_iso_pvd_label(fs));
                if (!ins->pvd_label)
                        return -ENOMEM;
        }
        ins->rock_ridge = seedfs_iso_rock_ridge(fs);
        ins->joliet = seedfs_iso_joliet(fs);

        r = seedfs_list_root(fs, &visible.entries, &visible.n);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return strv_extendf(&ins->problems, "filesystem: cannot read the root directory: %s", strerror(-r));
        visible.fs = fs;

        ins->files = calloc(visible.n ?: 1, sizeof *ins->files);
        if (!ins->files)
                return -ENOMEM;
        for (size_t i = 0; i < visible.n; i++) {
                if (visible.entries[i].directory)
                        continue;
                ins->files[ins->n_files].name = strdup(visible.entries[i].name);
                if (!ins->files[ins->n_files].name)
                        return -ENOMEM;
                ins->files[ins->n_files++].size = visible.entries[i].size;
        }

        /* ds-identify: exactly "cidata" or "CIDATA" (blkid's label, i.e. Joliet's when present). */
        if (isempty(ins->label))
                r = strv_extendf(&ins->problems, "label: the volume has no label; NoCloud looks for 'cidata' or 'CIDATA'");
        else if (!streq(ins->label, "cidata") && !streq(ins->label, "CIDATA"))
                r = strv_extendf(&ins->problems,
                             "label: volume id is '%s'; ds-identify only finds 'cidata' or 'CIDATA' (exact case)",
                             ins->label);
        else
                r = 0;
        if (r < 0)
                return r;

        if (seedfs_type(fs) != FS_ISO9660)
                r = 0;
        else if (!ins->rock_ridge && !ins->joliet) {
                r = strv_extendf(&ins->problems, "names: neither Rock Ridge nor Joliet; Linux shows only 8.3 names, so "
                                            "'user-data' and 'meta-data' cannot exist");
                if (r < 0)
                        return r;
        } else if (!ins->joliet) {
                r = strv_extendf(&ins->warnings, "names: no Joliet tree; Windows guests (cloudbase-init) see 8.3 names");
                if (r < 0)
                        return r;
        }

        r = check_required(ins, &visible, "user-data");
        if (r >= 0)
                r = check_required(ins, &visible, "meta-data");
        if (r >= 0)
                r = check_user_data(ins, &visible, "user-data", &ins->has_user_data);
        if (r >= 0) {
                bool dummy = false;
                r = check_user_data(ins, &visible, "vendor-data", &dummy);
        }
        if (r >= 0)
                r = check_yaml_file(ins, &visible, "meta-data", true);
        if (r >= 0)
                r = check_yaml_file(ins, &visible, "network-config", false);
        return r < 0 ? r : 0;
}

int seed_inspect(const char *path, SeedInspection *ret) {
        _cleanup_(seed_inspection_done) SeedInspection ins = { .user_data_type = USER_DATA_EMPTY };
        int r;

        _cleanup_close_ int fd = -EBADF;

        /* Only a regular file or a block device (a FIFO or a socket would block the reader). */
        r = open_input(AT_FDCWD, path, INPUT_FOLLOW | INPUT_ALLOW_BLOCK, UINT64_MAX, &fd, NULL);
        if (r < 0)
                return r;

        r = inspect_into(fd, &ins);
        if (r < 0)
                return r;
        *ret = ins;
        ins = (SeedInspection) {};
        return 0;
}

static void json_strv(FILE *f, char *const *l) {
        bool first = true;

        fputc('[', f);
        STRV_FOREACH(s, l) {
                fputs(first ? "" : ", ", f);
                json_write_string(f, *s);
                first = false;
        }
        fputc(']', f);
}

void seed_inspection_print_json(const SeedInspection *i, FILE *f) {
        fputs("{\n  \"label\": ", f);
        json_write_string(f, i->label);
        fputs(",\n  \"filesystem\": ", f);
        json_write_string(f, i->filesystem);
        fprintf(f, ",\n  \"rock_ridge\": %s,\n  \"joliet\": %s,\n  \"files\": [", i->rock_ridge ? "true" : "false",
                i->joliet ? "true" : "false");
        for (size_t k = 0; k < i->n_files; k++) {
                fputs(k ? ", {\"name\": " : "{\"name\": ", f);
                json_write_string(f, i->files[k].name);
                fprintf(f, ", \"size\": %llu}", (unsigned long long) i->files[k].size);
        }
        fputs("],\n  \"instance_id\": ", f);
        json_write_string(f, i->instance_id);
        fputs(",\n  \"local_hostname\": ", f);
        json_write_string(f, i->local_hostname);
        fputs(",\n  \"user_data_type\": ", f);
        json_write_string(f, i->has_user_data ? user_data_type_to_string(i->user_data_type) : NULL);
        fputs(",\n  \"user_data_inner_type\": ", f);
        json_write_string(f, i->has_user_data ? user_data_type_to_string(i->user_data_inner) : NULL);
        fprintf(f, ",\n  \"ok\": %s,\n  \"problems\": ", seed_inspection_ok(i) ? "true" : "false");
        json_strv(f, i->problems);
        fputs(",\n  \"warnings\": ", f);
        json_strv(f, i->warnings);
        fputs("\n}\n", f);
}

void seed_inspection_print_text(const SeedInspection *i, FILE *f) {
        fprintf(f, "label:          %s\n", strna(i->label));
        if (i->filesystem)
                fprintf(f, "filesystem:     %s (Rock Ridge: %s, Joliet: %s)\n", i->filesystem,
                        i->rock_ridge ? "yes" : "no", i->joliet ? "yes" : "no");
        else
                fprintf(f, "filesystem:     unknown\n");
        fprintf(f, "files:\n");
        for (size_t k = 0; k < i->n_files; k++)
                fprintf(f, "  %-14s %llu bytes\n", i->files[k].name, (unsigned long long) i->files[k].size);
        fprintf(f, "instance-id:    %s\n", strna(i->instance_id));
        if (i->local_hostname)
                fprintf(f, "local-hostname: %s\n", i->local_hostname);
        if (i->has_user_data) {
                if (i->user_data_type == USER_DATA_GZIP)
                        fprintf(f, "user-data type: gzip (%s)\n", user_data_type_to_string(i->user_data_inner));
                else
                        fprintf(f, "user-data type: %s\n", user_data_type_to_string(i->user_data_type));
        }
        STRV_FOREACH(w, i->warnings)
                fprintf(f, "warning:        %s\n", *w);
        STRV_FOREACH(p, i->problems)
                fprintf(f, "problem:        %s\n", *p);
        fprintf(f, "result:         %s\n",
                seed_inspection_ok(i) ? "ok, cloud-init's NoCloud datasource would use this seed"
                                      : "REJECTED, cloud-init would not use this seed");
}
