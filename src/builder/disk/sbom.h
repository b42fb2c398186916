/**
 * sbom.spdx.json: an SPDX 2.3 JSON document of the packages installed in an image tree, read from
 * its /var/lib/dpkg/status (name, version, architecture, source package) and, where the
 * package's /usr/share/doc/NAME/copyright is machine-readable, the licence names it states.
 */
#pragma once

#include <stdint.h>

/* The document for the image NAME built at EPOCH from the tree at ROOT; *ret is the JSON text.
 * The document's namespace and the list's checksum (SHA-256 of the sorted "name version arch"
 * lines, in the document comment) depend on the package list only, so the same tree and epoch
 * give the same bytes. 0 or -errno. */
int image_sbom_json(const char *root, const char *name, uint64_t epoch, char **ret);
