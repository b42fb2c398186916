/**
 * The image profile as the agent sees it (/usr/share/appliance/profile.yml, baked by the builder).
 * Only these keys are read; every other key belongs to the builder and is ignored:
 *
 *   services:                       started in this order by the "appliance" step
 *     - unit: postgresql.service
 *       health: "tcp:127.0.0.1:5432"          | "http://127.0.0.1:80/path" | "exec:/path args"
 *       timeout: 60                            seconds (default 120)
 *   features:
 *     ec2_metadata: false                      try an EC2-compatible metadata service (3 s timeout)
 *   templates:                      rendered by prepare-appliance (syntax: see template.h)
 *     - src: /usr/share/appliance/templates/nginx-site.conf
 *       dest: /etc/nginx/sites-enabled/appliance.conf
 *       mode: "0644"
 *
 * A missing profile file is an empty profile. Errors are "file:line:column: message".
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cleanup.h"

typedef struct ProfileService {
        char *unit;
        char *health;        /* NULL: none, the unit being active is enough */
        unsigned timeout;    /* seconds */
} ProfileService;

typedef struct ProfileTemplate {
        char *src;
        char *dest;
        mode_t mode;
} ProfileTemplate;

typedef struct AgentProfile {
        ProfileService *services;
        size_t n_services;
        ProfileTemplate *templates;
        size_t n_templates;
        bool ec2_metadata;
} AgentProfile;

#define AGENT_PROFILE_SERVICE_TIMEOUT_DEFAULT 120U

int agent_profile_parse(const char *name, const char *buf, size_t len, AgentProfile **ret, char **ret_error);
/* Loads path; a missing file gives an empty profile. */
int agent_profile_load(const char *path, AgentProfile **ret, char **ret_error);
AgentProfile *agent_profile_free(AgentProfile *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(AgentProfile *, agent_profile_free);
