/**
 * Finding a device by its label under the agent root, without blkid (the probe itself, and the
 * ISO 9660 and FAT readers, are the common layer's seedfs). Never logs above debug.
 */
#pragma once

#include "agent.h"
#include "seedfs.h"

/* Finds a device whose label equals one of labels (case-insensitive, as cloud-init accepts both
 * "cidata" and "CIDATA"): first ROOT/dev/disk/by-label/LABEL, then every ROOT/sys/class/block/NAME
 * probed at ROOT/dev/NAME. Returns 0 and the path, or -ENOENT. */
int probe_find_label(const Agent *a, const char *const *labels, char **ret_path, FsType *ret_type);
