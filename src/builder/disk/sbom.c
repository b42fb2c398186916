#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "crypto.h"
#include "disk/sbom.h"
#include "disk/util.h"
#include "json-util.h"
#include "macro.h"
#include "source/tarball.h"
#include "strv.h"

typedef struct Pkg {
        char *name, *version, *arch, *source;
} Pkg;

static void pkg_done(Pkg *p) {
        free(p->name);
        free(p->version);
        free(p->arch);
        free(p->source);
        *p = (Pkg) {};
}

typedef struct PkgList {
        Pkg *p;
        size_t n;
} PkgList;

static void pkg_list_done(PkgList *l) {
        for (size_t i = 0; i < l->n; i++)
                pkg_done(&l->p[i]);
        free(l->p);
}

static int pkg_cmp(const void *a, const void *b) {
        return strcmp(((const Pkg *) a)->name, ((const Pkg *) b)->name);
}

/* The licence names of a machine-readable copyright file ("License: NAME" lines, first word
 * sequence before any text), deduplicated, ", "-joined; NULL when it states none. */
static char *copyright_licenses(const char *root, const char *pkg) {
        _cleanup_free_ char *path = NULL, *data = NULL;
        _cleanup_strv_free_ char **names = NULL;
        char *line, *save = NULL;
        size_t len;

        if (asprintf(&path, "/usr/share/doc/%s/copyright", pkg) < 0)
                return NULL;
        if (rootfs_read_file(root, path, true, 4U << 20, &data, &len) < 0)
                return NULL;
        if (!startswith(data, "Format:") && !strstr(data, "\nFormat:"))
                return NULL;
        for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                const char *v;
                if (!startswith(line, "License:"))
                        continue;
                v = line + strlen("License:");
                v += strspn(v, " \t");
                if (!*v || strlen(v) > 120 || strv_contains(names, v))
                        continue;
                if (strv_extend(&names, v) < 0)
                        return NULL;
                if (strv_length(names) >= 16)
                        break;
        }
        if (!names)
                return NULL;
        return strv_join(names, ", ");
}

/* SPDX ids allow letters, digits, '.' and '-'. */
static void spdx_id(FILE *f, size_t i, const char *name) {
        fprintf(f, "\"SPDXRef-Package-%zu-", i);
        for (const char *c = name; *c; c++)
                fputc((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
                              *c == '-' ? *c : '-', f);
        fputc('"', f);
}

int image_sbom_json(const char *root, const char *name, uint64_t epoch, char **ret) {
        _cleanup_free_ char *data = NULL, *buf = NULL, *list = NULL;
        _cleanup_(sha256_freep) Sha256 *sha = NULL;
        _cleanup_(pkg_list_done) PkgList l = {};
        _cleanup_(pkg_done) Pkg cur = {};
        size_t len = 0, list_len = 0;
        bool installed = false;
        char *line, *save = NULL, hex[SHA256_HEX_SIZE], created[32];
        struct tm tm;
        time_t t = (time_t) epoch;
        FILE *f;
        int r;

        r = rootfs_read_file(root, "/var/lib/dpkg/status", true, 256U << 20, &data, &len);
        if (r < 0 && r != -ENOENT)
                return r;
        if (data)
                for (line = strtok_r(data, "\n", &save);; line = strtok_r(NULL, "\n", &save)) {
                        if (!line || startswith(line, "Package: ")) {
                                if (cur.name && cur.version && installed) {
                                        Pkg *np = realloc(l.p, (l.n + 1) * sizeof *l.p);
                                        if (!np)
                                                return -ENOMEM;
                                        l.p = np;
                                        l.p[l.n++] = cur;
                                        cur = (Pkg) {};
                                } else
                                        pkg_done(&cur);
                                installed = false;
                                if (!line)
                                        break;
                                if (!(cur.name = strdup(line + strlen("Package: "))))
                                        return -ENOMEM;
                        } else if (startswith(line, "Version: ")) {
                                free(cur.version);
                                cur.version = strdup(line + strlen("Version: "));
                        } else if (startswith(line, "Architecture: ")) {
                                free(cur.arch);
                                cur.arch = strdup(line + strlen("Architecture: "));
                        } else if (startswith(line, "Source: ")) {
                                free(cur.source);
                                cur.source = strdup(line + strlen("Source: "));
                        } else if (startswith(line, "Status: "))
                                installed = endswith(line, " installed");
                }
        if (l.n > 0)
                qsort(l.p, l.n, sizeof *l.p, pkg_cmp);

        /* The package list's checksum: "name version arch" lines, sorted by name. */
        f = open_memstream(&list, &list_len);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < l.n; i++)
                fprintf(f, "%s %s %s\n", l.p[i].name, l.p[i].version, strempty_or(l.p[i].arch));
        if (fclose(f) != 0)
                return -ENOMEM;
        r = sha256_new(&sha);
        if (r >= 0)
                r = sha256_update(sha, list, list_len);
        if (r >= 0)
                r = sha256_final_hex(sha, hex);
        if (r < 0)
                return r;
        if (!gmtime_r(&t, &tm) || strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return -ERANGE;

        f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        fputs("{\n  \"spdxVersion\": \"SPDX-2.3\",\n  \"dataLicense\": \"CC0-1.0\",\n  \"SPDXID\": \"SPDXRef-DOCUMENT\",\n"
              "  \"name\": ", f);
        json_write_string(f, name);
        /* A urn: namespace made of what the document says, so that it is unique per content. */
        fprintf(f, ",\n  \"documentNamespace\": \"urn:sha256:%s:%" PRIu64 "\",\n", hex, epoch);
        fprintf(f, "  \"comment\": \"packages from /var/lib/dpkg/status of the image; SHA-256 of the package list "
                   "(sorted 'name version architecture' lines): %s\",\n", hex);
        fprintf(f, "  \"creationInfo\": {\"created\": \"%s\", \"creators\": [\"Tool: appliance-builder-%s\"]},\n",
                created, PROJECT_VERSION);
        fputs("  \"packages\": [", f);
        for (size_t i = 0; i < l.n; i++) {
                _cleanup_free_ char *lic = copyright_licenses(root, l.p[i].name), *purl = NULL, *src = NULL;

                fprintf(f, "%s\n    {\"SPDXID\": ", i ? "," : "");
                spdx_id(f, i, l.p[i].name);
                fputs(", \"name\": ", f);
                json_write_string(f, l.p[i].name);
                fputs(", \"versionInfo\": ", f);
                json_write_string(f, l.p[i].version);
                fputs(", \"supplier\": \"NOASSERTION\", \"downloadLocation\": \"NOASSERTION\", \"filesAnalyzed\": false,"
                      " \"licenseConcluded\": \"NOASSERTION\", \"licenseDeclared\": \"NOASSERTION\"", f);
                if (lic) {
                        fputs(", \"licenseComments\": ", f);
                        _cleanup_free_ char *c = NULL;
                        if (asprintf(&c, "debian/copyright states: %s", lic) >= 0)
                                json_write_string(f, c);
                        else
                                json_write_string(f, lic);
                }
                /* "Source: name (version)" when the source version differs */
                if (asprintf(&src, "built from the Debian source package %s", l.p[i].source ?: l.p[i].name) >= 0) {
                        fputs(", \"sourceInfo\": ", f);
                        json_write_string(f, src);
                }
                if (asprintf(&purl, "pkg:deb/debian/%s@%s?arch=%s", l.p[i].name, l.p[i].version,
                             strempty_or(l.p[i].arch)) >= 0) {
                        fputs(", \"externalRefs\": [{\"referenceCategory\": \"PACKAGE-MANAGER\", \"referenceType\": "
                              "\"purl\", \"referenceLocator\": ", f);
                        json_write_string(f, purl);
                        fputs("}]", f);
                }
                fputs(", \"primaryPackagePurpose\": \"LIBRARY\"}", f);
        }
        fputs("\n  ],\n  \"relationships\": [", f);
        for (size_t i = 0; i < l.n; i++) {
                fprintf(f, "%s\n    {\"spdxElementId\": \"SPDXRef-DOCUMENT\", \"relationshipType\": \"DESCRIBES\", "
                           "\"relatedSpdxElement\": ", i ? "," : "");
                spdx_id(f, i, l.p[i].name);
                fputs("}", f);
        }
        fputs("\n  ]\n}\n", f);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}
