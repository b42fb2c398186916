/**
 * The appliance's links and the names of a move (layout.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "macro.h"

const ApplianceLink appliance_links[] = {
        { "/app/etc", "/data/etc", NULL },
        { "/app/ecs-ca", "/data/ecs-ca", NULL },
        { "/app/ecs-gpg", "/data/ecs-gpg", NULL },
        { "/app/ecs-storage-vault", "/data/ecs-storage-vault", NULL },
        { "/app/ecs-cache", "/volatile/ecs-cache", NULL },
        { "/var/lib/postgresql", "/data/postgresql", "postgresql.service" },
        { "/var/lib/docker", "/volatile/docker", "docker.service" },
};
const size_t appliance_links_n = ELEMENTSOF(appliance_links);

char *relative_link_target(const char *path, const char *target) {
        size_t depth = 0;
        char *out, *o;

        for (const char *c = path + 1; *c; c++)
                if (*c == '/')
                        depth++;
        out = malloc(depth * 3 + strlen(target) + 1);
        if (!out)
                return NULL;
        o = out;
        for (size_t i = 0; i < depth; i++)
                o = stpcpy(o, "../");
        strcpy(o, target + 1);
        return out;
}

char *layout_moved_name(const char *name) {
        char *p;
        return asprintf(&p, "%s.appliance-moved", name) < 0 ? NULL : p;
}

char *layout_tmp_name(const char *name) {
        char *p;
        return asprintf(&p, ".%s.appliance-tmp", name) < 0 ? NULL : p;
}
