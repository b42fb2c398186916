/**
 * The manual's sizing formulas (see sizing.h for the list and README.md for where the manual's own
 * tables disagree with them). Pure arithmetic: no I/O.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "macro.h"
#include "disk/sizing.h"

#define KIB 1024ULL
#define MIB (1024ULL * KIB)
#define GIB (1024ULL * MIB)

static uint64_t round_up(uint64_t v, uint64_t unit) {
        return DIV_ROUND_UP(v, unit) * unit;
}

int sizing_compute(unsigned studies_per_month, unsigned years, Sizing *ret) {
        Sizing s = {
                .studies_per_month = studies_per_month,
                .years = years,
                .system_bytes = 5 * GIB,
                .temp_bytes = 30 * GIB,
                .base_temp_bytes = 50 * GIB,
        };
        double months = 12.0 * years;

        if (years < 1 || years > 100)
                return -EINVAL;
        if (studies_per_month > 100000)
                return -EINVAL;

        if (studies_per_month == 0) {
                /* "Test Instance: Disksize 20-40GB, recommended Cores 1-2, recommended Memory 4GB+" */
                s.test_instance = true;
                s.disk_min_bytes = 20 * GIB;
                s.disk_bytes = 40 * GIB;
                s.cores_min = 1;
                s.cores = 2;
                s.memory_bytes = 4 * GIB;
                *ret = s;
                return 0;
        }

        s.beyond_limit = studies_per_month > SIZING_MAX_STUDIES;

        /* Database: (studies / 12.5) GB over 10 years, growing linearly. */
        s.database_bytes = (uint64_t) llround((double) studies_per_month / 12.5 * (double) GIB * years / 10.0);
        /* Document storage: 17 MB per study, for every month of the horizon. */
        s.documents_bytes = (uint64_t) llround(months * studies_per_month * 17.0 * (double) MIB);
        s.data_bytes = s.database_bytes + s.documents_bytes;
        s.disk_bytes = s.disk_min_bytes = s.base_temp_bytes + s.data_bytes;

        /* Two full backups of the documents, the database, and two months of growth. */
        s.backup_bytes = 2 * s.documents_bytes + s.database_bytes +
                         (uint64_t) llround((double) s.documents_bytes / months * 2.0);

        if (studies_per_month <= 20)
                s.cores = s.cores_min = 2;
        else if (studies_per_month <= 40)
                s.cores_min = 2, s.cores = 4;
        else if (studies_per_month <= 100)
                s.cores_min = 4, s.cores = 6;
        else
                s.cores_min = 4, s.cores = 8;

        s.memory_bytes = round_up(2 * GIB + s.cores * GIB + s.database_bytes, GIB / 2);

        *ret = s;
        return 0;
}

char *sizing_to_json(const Sizing *s) {
        char *j;

        if (asprintf(&j,
                     "{\"studies_per_month\": %u, \"years\": %u, \"test_instance\": %s, "
                     "\"beyond_limit\": %s, \"system_bytes\": %" PRIu64 ", \"temp_bytes\": %" PRIu64 ", "
                     "\"base_temp_bytes\": %" PRIu64 ", \"database_bytes\": %" PRIu64 ", "
                     "\"documents_bytes\": %" PRIu64 ", \"data_bytes\": %" PRIu64 ", "
                     "\"disk_bytes\": %" PRIu64 ", \"disk_min_bytes\": %" PRIu64 ", "
                     "\"backup_bytes\": %" PRIu64 ", \"cores\": %u, \"cores_min\": %u, "
                     "\"memory_bytes\": %" PRIu64 "}",
                     s->studies_per_month, s->years, s->test_instance ? "true" : "false",
                     s->beyond_limit ? "true" : "false", s->system_bytes, s->temp_bytes,
                     s->base_temp_bytes, s->database_bytes, s->documents_bytes, s->data_bytes,
                     s->disk_bytes, s->disk_min_bytes, s->backup_bytes, s->cores, s->cores_min,
                     s->memory_bytes) < 0)
                return NULL;
        return j;
}
