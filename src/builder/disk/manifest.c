/**
 * manifest.json for built images: what went in, how the disks look, what hygiene did, how long
 * each step took and the digest of every output.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "disk/image.h"
#include "json-util.h"
#include "macro.h"
#include "strv.h"

static void json_strv(FILE *f, char *const *l, const char *indent) {
        bool first = true;

        fputc('[', f);
        for (char *const *i = l; i && *i; i++) {
                fprintf(f, "%s\n%s  ", first ? "" : ",", indent);
                json_write_string(f, *i);
                first = false;
        }
        if (!first)
                fprintf(f, "\n%s", indent);
        fputc(']', f);
}

char *image_manifest_json(const ImagePlan *plan, const ImageResult *res) {
        _cleanup_free_ char *buf = NULL;
        const Profile *p = res->profile;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return NULL;

        fputs("{\n  \"generator\": ", f);
        json_write_string(f, res->generator);
        fputs(",\n  \"source_date_epoch\": ", f);
        if (plan->source_date_epoch > 0)
                fprintf(f, "%" PRIu64, plan->source_date_epoch);
        else
                fputs("null", f);
        /* What the same bytes on every run rest on (with the same base, profile, env and epoch). */
        fprintf(f, ",\n  \"reproducible\": {\"enabled\": %s", plan->reproducible ? "true" : "false");
        if (plan->reproducible) {
                fputs(", \"ids_seed\": ", f);
                json_write_string(f, plan->seed);
                fputs(", \"rests_on\": [\"the same base tarball, profile, env and source_date_epoch\", "
                      "\"filesystem UUIDs, ext4 hash seeds, the disk signature and vmdk CIDs derived from "
                      "ids_seed (the epoch, the profile name, the base's name and size, the formats)\", "
                      "\"file mtimes clamped to the epoch before mke2fs, every inode time clamped after it "
                      "with libext2fs, E2FSPROGS_FAKE_TIME for the superblock\", "
                      "\"qcow2 written in order (qemu-img convert without -W)\", "
                      "\"no filesystem mounted\", "
                      "\"tar members of boxes and OVA dated at the epoch\", "
                      "\"the same qemu-img, e2fsprogs and GRUB on the build host\"]", f);
        }
        fputs("}", f);

        fputs(",\n  \"profile\": {\"name\": ", f);
        json_write_string(f, p ? p->name : NULL);
        fputs(", \"path\": ", f);
        json_write_string(f, p ? p->path : NULL);
        fputs(", \"digest\": ", f);
        json_write_string(f, res->profile_digest);
        fputs(", \"distribution\": ", f);
        json_write_string(f, p ? p->distribution : NULL);
        fputs(", \"suite\": ", f);
        json_write_string(f, p ? p->suite : NULL);
        fputs(", \"architecture\": ", f);
        json_write_string(f, p ? p->architecture : NULL);
        fputs("},\n  \"base\": {\"kind\": ", f);
        json_write_string(f, res->base_kind);
        fputs(", \"path\": ", f);
        json_write_string(f, res->base_path);
        fputs(", \"sha256\": ", f);
        json_write_string(f, res->base.sha256[0] ? res->base.sha256 : NULL);
        fputs(", \"compression\": ", f);
        json_write_string(f, res->base.filter);
        fputs(", \"format\": ", f);
        json_write_string(f, res->base.format);
        fprintf(f, ", \"entries\": %" PRIu64 ", \"bytes\": %" PRIu64 "},\n", res->base.entries,
                res->base.compressed_bytes);

        fputs("  \"kernel_cmdline\": ", f);
        json_write_string(f, res->kernel_cmdline);
        fputs(",\n  \"bootloader\": \"grub i386-pc (core image in sectors 1-2047)\",\n", f);
        fprintf(f, "  \"env_baked\": %s,\n", res->env_baked ? "true" : "false");

        fputs("  \"disks\": [", f);
        for (size_t d = 0; d < plan->n_disks; d++) {
                const ImageDisk *disk = &plan->disks[d];

                fprintf(f, "%s\n    {\"name\": ", d ? "," : "");
                json_write_string(f, disk->name);
                fprintf(f, ", \"size\": %" PRIu64 ", \"partition_table\": %s", disk->size,
                        disk->prebuilt ? "\"from the base image\"" : disk->partitioned ? "\"dos\"" : "null");
                if (disk->partitioned && !disk->prebuilt)
                        fprintf(f, ", \"disk_signature\": \"0x%08" PRIx32 "\"", disk->signature);
                fputs(", \"filesystems\": [", f);
                bool first = true;
                for (size_t i = 0; i < plan->n_fs; i++) {
                        const ImageFs *fs = &plan->fs[i];
                        if (fs->disk != d || (disk->prebuilt && fs->from_tree))
                                continue;
                        fprintf(f, "%s\n      {\"label\": ", first ? "" : ",");
                        json_write_string(f, fs->label);
                        fputs(", \"mountpoint\": ", f);
                        json_write_string(f, fs->mountpoint);
                        fprintf(f, ", \"type\": \"ext4\", \"uuid\": \"%s\", \"partition\": ", fs->uuid);
                        if (fs->partno > 0)
                                fprintf(f, "%u", fs->partno);
                        else
                                fputs("null", f);
                        fprintf(f, ", \"start_sector\": %" PRIu64 ", \"size\": %" PRIu64, fs->offset / MBR_SECTOR_SIZE,
                                fs->size);
                        if (disk->partitioned)
                                fprintf(f, ", \"type_id\": \"0x%02x\", \"bootable\": %s, \"grows\": %s",
                                        disk->parts[fs->partno - 1].type,
                                        disk->parts[fs->partno - 1].bootable ? "true" : "false",
                                        fs->partno == disk->n_parts ? "true" : "false");
                        if (res->prefilled[i]) {
                                fputs(", \"holds_copy_of\": [", f);
                                STRV_FOREACH(q, res->prefilled[i]) {
                                        if (q != res->prefilled[i])
                                                fputs(", ", f);
                                        json_write_string(f, *q);
                                }
                                fputc(']', f);
                        }
                        fputc('}', f);
                        first = false;
                }
                fputs("\n    ]}", f);
        }
        fputs("\n  ],\n", f);

        fputs("  \"hygiene\": [", f);
        for (size_t i = 0; i < _HYGIENE_MAX; i++) {
                const HygieneItem *it = &res->hygiene.items[i];

                fprintf(f, "%s\n    {\"item\": ", i ? "," : "");
                json_write_string(f, hygiene_item_to_string((HygieneItemId) i));
                fprintf(f, ", \"done\": %s, \"detail\": ", it->done ? "true" : "false");
                json_write_string(f, it->detail);
                fputs(", \"changed\": ", f);
                json_strv(f, it->changed, "    ");
                fputc('}', f);
        }
        fputs("\n  ],\n", f);

        fputs("  \"steps\": [", f);
        for (size_t i = 0; i < res->n_steps; i++) {
                fprintf(f, "%s\n    {\"step\": ", i ? "," : "");
                json_write_string(f, res->steps[i].name);
                fprintf(f, ", \"seconds\": %.3f}", (double) res->steps[i].usec / 1e6);
        }
        fputs("\n  ],\n", f);

        fputs("  \"outputs\": [", f);
        for (size_t i = 0; i < res->n_outputs; i++) {
                fprintf(f, "%s\n    {\"file\": ", i ? "," : "");
                json_write_string(f, res->outputs[i].name);
                fprintf(f, ", \"size\": %" PRIu64 ", \"sha256\": \"%s\", \"secret\": %s}", res->outputs[i].size,
                        res->outputs[i].sha256, res->outputs[i].secret ? "true" : "false");
        }
        fputs("\n  ],\n", f);

        fputs("  \"packages\": ", f);
        json_strv(f, res->packages, "  ");
        fputs("\n}\n", f);

        if (fclose(f) != 0)
                return NULL;
        return TAKE_PTR(buf);
}
