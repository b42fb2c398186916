/**
 * Sizing from the manual's chapter "Choosing the right values for Cores, Memory, Harddisk & Backup".
 *
 * All sizes are bytes, computed with 1024-based units as the manual prescribes ("1 GB = 1024 MB").
 * The formulas are the manual's, for a horizon of `years` (the manual's tables use 10):
 *   system       5 GB                         (the root filesystem)
 *   temporary    30 GB                        (the ecs-volatile workspace)
 *   base+temp    50 GB                        (the tables' "Base & Temp" row; see README)
 *   database     studies / 12.5 GB            per 10 years
 *   documents    120 * studies * 17 MB        per 10 years (120 months)
 *   disk         base+temp + database + documents
 *   backup       2 * documents + database + 2 months of document growth
 *   cores        2 (<= 20), 4 (<= 40), 6 (<= 100), 8 (above)   the tables' recommendations
 *   memory       2 GB + 1 GB per core + database, rounded up to 0.5 GB
 * studies_per_month == 0 gives the manual's "Test Instance" (1-2 cores, 4 GB, 20-40 GB).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define SIZING_MAX_STUDIES 250U /* "The current ecs implementation can sustain 250 Studies per Month" */

typedef struct Sizing {
        unsigned studies_per_month;
        unsigned years;
        bool test_instance;
        bool beyond_limit;          /* more studies than the manual says the ecs sustains */
        uint64_t system_bytes;      /* root filesystem */
        uint64_t temp_bytes;        /* ecs-volatile */
        uint64_t base_temp_bytes;   /* the tables' "Base & Temp" */
        uint64_t database_bytes;
        uint64_t documents_bytes;
        uint64_t data_bytes;        /* ecs-data: database + documents */
        uint64_t disk_bytes;        /* base+temp + data; for a test instance the upper bound, 40 GB */
        uint64_t disk_min_bytes;    /* equal to disk_bytes except for a test instance (20 GB) */
        uint64_t backup_bytes;
        unsigned cores, cores_min;  /* cores_min < cores where the manual gives a range */
        uint64_t memory_bytes;
} Sizing;

/* Computes the sizing. years must be 1..100. Returns 0 or -EINVAL. */
int sizing_compute(unsigned studies_per_month, unsigned years, Sizing *ret);

/* Writes the sizing as JSON (one object, no trailing newline) into a new string. */
char *sizing_to_json(const Sizing *s);
