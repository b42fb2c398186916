/**
 * Volumes written with the service state they will hold: for each volume of the plan (ecs-data at
 * /data, ecs-volatile at /volatile) and each appliance link whose target lies on it (layout.h), a
 * non-empty directory at the link's path in the tree (/var/lib/postgresql: the cluster Debian's
 * package made at install) is copied into the volume's tree as the move's complete copy
 * (.postgresql.appliance-tmp) and renamed to NAME.appliance-moved in the root tree.
 *
 * The image then ships a move past its commit point. Booted with the volume the builder wrote, the
 * agent's prepare-storage finishes it with two renames and a link instead of copying the data at
 * first boot. Booted with a blank volume, or with none, the old directory comes back by a rename
 * and moves as it always did, so nothing depends on which volume is attached. The copies hold
 * what the root holds, nothing made for one instance.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct PrefillVolume {
        const char *label;      /* "ecs-data" */
        const char *mountpoint; /* "/data" */
        uint64_t size;          /* bytes */
        char *tree;             /* out: its content, a directory below scratch; NULL = none */
        char **copied;          /* out: the link paths whose copy it holds ("/var/lib/postgresql") */
} PrefillVolume;

/* Fills tree and copied of each volume that gets content, the directories made below scratch,
 * their times clamped to source_date_epoch when it is not 0. A copy whose data and inodes would take
 * more than half of its volume is not made (the agent copies at boot). *reterr on failure. */
int prefill_volumes(const char *root, PrefillVolume *vols, size_t n_vols, const char *scratch,
                    uint64_t source_date_epoch, char **reterr);
