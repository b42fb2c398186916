/**
 * 'appliance-builder size': the manual's sizing for a number of studies per month.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cleanup.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"
#include "disk/sizing.h"
#include "cli/verbs.h"
#include "verb-dispatch.h"

static unsigned arg_studies = 0;
static bool arg_studies_set = false;
static unsigned arg_years = 10;
static bool arg_json = false;

static void help(void) {
        printf("Usage: %s size --studies-per-month N [--years Y] [--json]\n"
               "       %s size --test-instance [--json]\n\n"
               "Prints disk, backup, core and memory sizing from the manual's formulas\n"
               "(1024-based units: 1 GB = 1024 MB).\n\n"
               "Options:\n"
               "  -n --studies-per-month N  expected studies per month (0 = test instance)\n"
               "     --test-instance        the manual's test instance (same as -n 0)\n"
               "  -y --years Y              planning horizon in years (default 10)\n"
               "     --json                 print JSON (sizes in bytes)\n"
               "  -h --help                 show this help\n\n"
               "Exit status: 0 success, 1 failure, 2 usage error.\n",
               log_program(), log_program());
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_JSON = 0x100, ARG_TEST };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "studies-per-month", required_argument, NULL, 'n' },
                { "test-instance", no_argument, NULL, ARG_TEST },
                { "years", required_argument, NULL, 'y' },
                { "json", no_argument, NULL, ARG_JSON },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "hn:y:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case 'n':
                        if (safe_atou(optarg, &arg_studies) < 0) {
                                log_error("Invalid --studies-per-month '%s': expected a whole number.", optarg);
                                return -EINVAL;
                        }
                        arg_studies_set = true;
                        break;
                case ARG_TEST:
                        arg_studies = 0;
                        arg_studies_set = true;
                        break;
                case 'y':
                        if (safe_atou(optarg, &arg_years) < 0 || arg_years < 1 || arg_years > 100) {
                                log_error("Invalid --years '%s': expected 1 to 100.", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_JSON:
                        arg_json = true;
                        break;
                default:
                        return -EINVAL;
                }

        if (optind < argc) {
                log_error("Unexpected argument '%s'.", argv[optind]);
                return -EINVAL;
        }
        if (!arg_studies_set) {
                log_error("Missing --studies-per-month (or --test-instance).");
                return -EINVAL;
        }
        return 1;
}

static void print_row(const char *item, uint64_t bytes, const char *how) {
        printf("%-18s %9.1f GB   %s\n", item, (double) bytes / (1024.0 * 1024.0 * 1024.0), how);
}

int verb_size(int argc, char *argv[]) {
        Sizing s;
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? verb_usage("size") : 0;

        r = sizing_compute(arg_studies, arg_years, &s);
        if (r < 0)
                return log_error_errno(r, "Cannot compute sizing for %u studies over %u years.", arg_studies,
                                       arg_years), 1;

        if (arg_json) {
                _cleanup_free_ char *j = sizing_to_json(&s);
                if (!j)
                        return log_oom(), 1;
                puts(j);
                return 0;
        }

        if (s.test_instance) {
                printf("Test instance\n");
                printf("%-18s %s\n", "Disksize", "20-40 GB");
                printf("%-18s %u-%u\n", "Cores", s.cores_min, s.cores);
                printf("%-18s %.0f GB+\n", "Memory", (double) s.memory_bytes / (1 << 30));
                return 0;
        }

        printf("%u studies per month, %u years\n", s.studies_per_month, s.years);
        print_row("Base & Temp", s.base_temp_bytes, "system 5 GB + workspace 30 GB, with reserve");
        print_row("Database", s.database_bytes, "studies / 12.5 GB per 10 years");
        print_row("Document-Storage", s.documents_bytes, "120 months * studies * 17 MB per 10 years");
        print_row("Disksize", s.disk_bytes, "base & temp + database + documents");
        print_row("Backup", s.backup_bytes, "2 * documents + database + 2 months of growth");
        if (s.cores_min != s.cores)
                printf("%-18s %u            recommended; the manual's range is %u-%u\n", "Cores", s.cores,
                       s.cores_min, s.cores);
        else
                printf("%-18s %u\n", "Cores", s.cores);
        printf("%-18s %9.1f GB+  2 GB + 1 GB per core + database\n", "Memory",
               (double) s.memory_bytes / (1024.0 * 1024.0 * 1024.0));
        printf("\nImage volumes: root %.0f GB, ecs-volatile %.0f GB, ecs-data %.1f GB\n",
               (double) s.system_bytes / (1 << 30), (double) s.temp_bytes / (1 << 30),
               (double) s.data_bytes / (1024.0 * 1024.0 * 1024.0));
        if (s.beyond_limit)
                log_warning("More than %u studies per month: the manual says larger installations need "
                            "refactoring of the ecs to stay efficient.", SIZING_MAX_STUDIES);
        return 0;
}
