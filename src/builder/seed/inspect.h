/**
 * Reading a seed image back and judging it by cloud-init's NoCloud rules: label cidata/CIDATA,
 * user-data and meta-data in the root under exactly those names as Linux sees them (Rock Ridge
 * first, then Joliet), user-data with a header cloud-init handles, YAML that parses.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "seed/userdata.h"

typedef struct SeedInspectFile {
        char *name;
        uint64_t size;
} SeedInspectFile;

typedef struct SeedInspection {
        char *label;      /* as blkid shows it: the Joliet volume id if there is one, else the primary */
        char *pvd_label;  /* the primary volume descriptor's id (upper case by the standard) */
        char *filesystem; /* "iso9660", or NULL if the file is not ISO 9660 */
        bool rock_ridge;
        bool joliet;
        SeedInspectFile *files; /* root directory, names as Linux shows them */
        size_t n_files;
        char *instance_id;
        char *local_hostname;
        bool has_user_data;
        UserDataType user_data_type;  /* outer type (gzip stays gzip) */
        UserDataType user_data_inner; /* type after decompression */
        char **problems;              /* "RULE: explanation"; any problem means cloud-init would not use the seed */
        char **warnings;
} SeedInspection;

/* Inspects the image or device at path. Returns 0 with the findings in *ret (problems included),
 * or -errno if path cannot be read at all. */
int seed_inspect(const char *path, SeedInspection *ret);
void seed_inspection_done(SeedInspection *i);

static inline bool seed_inspection_ok(const SeedInspection *i) {
        return !i->problems || !i->problems[0];
}

/* Stable JSON: label, filesystem, rock_ridge, joliet, files [{name,size}], instance_id,
 * local_hostname, user_data_type, ok, problems [strings], warnings [strings]. */
void seed_inspection_print_json(const SeedInspection *i, FILE *f);
void seed_inspection_print_text(const SeedInspection *i, FILE *f);
