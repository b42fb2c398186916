/**
 * Image profiles: YAML files under profiles/ that describe what an image contains
 * (distribution, suite, packages), how its disks are laid out (root, ecs-data,
 * ecs-volatile), which files are written into it and which services the agent starts.
 *
 *   _cleanup_(profile_freep) Profile *p = NULL;
 *   _cleanup_free_ char *err = NULL;
 *   r = profile_load("minimal", &p, &err);   // or a path to a .yml file
 *   if (r < 0) log_error("%s", err);         // "profiles/x.yml:12:3: unknown key 'foo'"
 *
 * NAME (no '/', no ".yml") resolves to <profiles dir>/NAME.yml; the profiles dir is
 * $APPLIANCE_PROFILES_DIR, else PROJECT_SOURCE_DIR "/profiles" if it exists, else
 * /usr/share/appliance-builder/profiles. Unknown keys, duplicate keys and wrong types are errors
 * naming file:line:column. The keys are documented at the top of profiles/minimal.yml.
 *
 * This is the one parser and schema of profiles: the builder loads a profile with it before it
 * bakes the text into the image (/usr/share/appliance/profile.yml), and the agent loads that file
 * with it at boot (profile_load_file(), a missing file being an empty profile there), so both
 * programs give every file the same verdict. The agent acts on services, features, templates, users
 * and env_keys.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cleanup.h"

typedef enum {
        PART_PLACE_PARTITION, /* a partition on the root disk (after root) */
        PART_PLACE_DISK,      /* a separate disk image holding a bare ext4 filesystem */
        PART_PLACE_NONE,      /* not created */
} PartPlace;

typedef struct ProfileVolume {
        char *label;      /* "ecs-data" | "ecs-volatile" */
        char *mountpoint; /* e.g. "/data" */
        PartPlace place;
        uint64_t size;    /* bytes; 0 = from sizing (--studies-per-month / sizing class) */
} ProfileVolume;

typedef struct ProfileFile {
        char *path;    /* absolute path inside the image */
        mode_t mode;   /* permission bits, default 0644 */
        char *content; /* NUL-terminated */
} ProfileFile;

#define PROFILE_SERVICE_TIMEOUT_DEFAULT 120U
#define PROFILE_SERVICE_TIMEOUT_MAX 86400U

typedef struct ProfileService {
        char *unit;          /* "postgresql.service" */
        char *health;        /* "tcp:HOST:PORT", "http://HOST[:PORT]/PATH", "exec:/PATH ARGS"; NULL: none */
        unsigned timeout;    /* seconds, 1..PROFILE_SERVICE_TIMEOUT_MAX */
} ProfileService;

typedef struct ProfileTemplate {
        char *src;           /* absolute path inside the image */
        char *dest;          /* absolute path inside the image */
        mode_t mode;         /* default 0644 */
} ProfileTemplate;

#define PROFILE_ID_UNSET ((unsigned) -1)

/* users: made to exist by the agent's prepare-env on every boot. */
typedef struct ProfileUser {
        char *name;          /* [a-z_][a-z0-9_-]*, at most 32 characters */
        unsigned uid, gid;   /* PROFILE_ID_UNSET when not given */
        char *home;          /* NULL: /home/NAME */
        char *shell;         /* NULL: /bin/sh */
} ProfileUser;

typedef struct Profile {
        char *name, *path;          /* name ("minimal"), path of the YAML file */
        char *distribution;         /* "debian" | "ubuntu" */
        char *suite, *architecture; /* "bookworm", "amd64" */
        char **packages;            /* strv, never NULL after a successful load */
        char *kernel_cmdline;       /* e.g. "console=ttyS0,115200 ..." */
        uint64_t root_size;         /* default size of the root fs (0 = fit the content + margin) */
        ProfileVolume *volumes;
        size_t n_volumes;
        ProfileFile *files;
        size_t n_files;
        char *sizing_class;         /* "test", "20", ... (NULL if unset) */
        bool ec2_metadata;          /* features.ec2_metadata */
        ProfileService *services;   /* started in this order by the agent */
        size_t n_services;
        ProfileTemplate *templates; /* rendered by the agent's prepare-appliance */
        size_t n_templates;
        ProfileUser *users;         /* created by the agent at boot */
        size_t n_users;
        char **env_keys;            /* env key paths the profile's own units act on */
        char *hook_create_internal_user; /* hooks.create-internal-user: the program behind
                                          * create-internal-user.sh (NULL: none) */
        char *text;                 /* the raw YAML, baked at /usr/share/appliance/profile.yml */
        size_t text_len;
} Profile;

/* Loads and validates a profile. On failure returns -errno and, if reterr is not NULL,
 * stores a message naming file:line:column (caller frees). */
int profile_load(const char *name_or_path, Profile **ret, char **reterr);

/* Parses a profile from memory; path is used in messages and stored in p->path. */
int profile_load_from_string(const char *path, const char *text, size_t len, Profile **ret, char **reterr);

typedef enum ProfileLoadFlags {
        PROFILE_LOAD_MISSING_EMPTY = 1 << 0, /* a missing file gives an empty profile (the agent) */
} ProfileLoadFlags;

/* Loads the file at path (no NAME lookup). With PROFILE_LOAD_MISSING_EMPTY a missing file gives an
 * empty profile (no services, templates or features) instead of -ENOENT. */
int profile_load_file(const char *path, ProfileLoadFlags flags, Profile **ret, char **reterr);

/* The rules of single values, shared with the callers that check them again at run time. */
bool profile_unit_name_is_valid(const char *s);
/* NULL if s is a valid health check, else what is wrong with it (static text). */
const char *profile_health_check_error(const char *s);

/* The directory NAME is resolved in (see above). Never NULL. */
const char *profile_dir(void);

Profile *profile_free(Profile *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Profile *, profile_free);

/* Looks up a volume by label; NULL if the profile has none. */
const ProfileVolume *profile_volume(const Profile *p, const char *label);

const char *part_place_to_string(PartPlace p);
