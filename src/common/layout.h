/**
 * The appliance's links (the manual's layout): service state that lives on the data and volatile
 * volumes, reached through relative symlinks from where the packages keep it, and the names a move
 * onto a volume passes through. The agent's prepare-storage makes the moves at boot; the builder
 * may make the copy half of one when it writes the volume (disk/prefill.h).
 *
 * A move of PATH (e.g. /var/lib/postgresql) to TARGET (/data/postgresql) across filesystems:
 *   1. the copy is made at .NAME.appliance-tmp next to TARGET (NAME = TARGET's last component);
 *   2. the commit point: PATH is renamed to PATH.appliance-moved;
 *   3. the copy is renamed to TARGET, PATH becomes the link, PATH.appliance-moved is removed.
 * A state after 2 is finished by 3 whenever it is found; one before it is made again.
 */
#pragma once

#include <stddef.h>

typedef struct ApplianceLink {
        const char *path;     /* the link, e.g. "/app/etc" */
        const char *target;   /* where it leads, e.g. "/data/etc" (the link holds "../data/etc") */
        const char *unit;     /* the service stopped around the move, or NULL */
} ApplianceLink;

extern const ApplianceLink appliance_links[];
extern const size_t appliance_links_n;

/* "../data/etc" for path "/app/etc", target "/data/etc". Newly allocated, NULL on OOM. */
char *relative_link_target(const char *path, const char *target);

/* "NAME.appliance-moved" for the old directory NAME. Newly allocated, NULL on OOM. */
char *layout_moved_name(const char *name);

/* ".NAME.appliance-tmp" for the target's last component NAME. Newly allocated, NULL on OOM. */
char *layout_tmp_name(const char *name);
