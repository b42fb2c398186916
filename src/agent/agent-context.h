/**
 * The agent's context: its options and the root it works on (Agent), and the runtime files it keeps
 * there. Below every other agent module (agent-path.h and agent.h build on it).
 *
 * Every path the agent touches is resolved under Agent.root ("/" in production, a temporary
 * directory in tests), so each step can run against --root DIR. Runtime files (all on /run, a tmpfs):
 *
 *   /run/active-env.yml            the activated env (0600), written by prepare-env: the bytes read
 *   /run/appliance/env-source      where it came from: USERDATA_TYPE=TYPE, USERDATA_ORIGIN=FILE (sh)
 *   /run/appliance-failed          failed flag (0600): the public reason (also /run/appliance_failed,
 *                                  the manual's spelling; removing either name clears the state)
 *   /run/appliance-standby         present while appliance:standby is true
 *   /run/appliance-unconfigured    present (with the reason) while no env exists anywhere: the
 *                                  installed but unconfigured appliance; later steps run with a
 *                                  placeholder env (the host name as appliance:domain)
 *   /run/appliance/notes           what the image does not act on (not supported, refused), a line each
 *   /run/appliance-ready           present while every profile service passes its health check
 *   /run/appliance/steps/STEP      "KEY=value" lines: RESULT, MESSAGE, DURATION_USEC, FINISHED_USEC, SOURCE
 *   /run/appliance/www/503.html    the maintenance page nginx serves while not ready
 *   /run/appliance/www/status.json the machine-readable status (same as "status --json")
 */
#pragma once

#include <stdbool.h>

#define AGENT_ACTIVE_ENV "/run/active-env.yml"
#define AGENT_ENV_SOURCE "/run/appliance/env-source"
#define AGENT_FAILED_FLAG "/run/appliance-failed"
#define AGENT_FAILED_FLAG_MANUAL "/run/appliance_failed"
#define AGENT_STANDBY_FLAG "/run/appliance-standby"
#define AGENT_UNCONFIGURED_FLAG "/run/appliance-unconfigured"
#define AGENT_READY_FLAG "/run/appliance-ready"
#define AGENT_RECOVERY_FLAG "/run/appliance-waiting-for-recovery"
#define AGENT_STATE_DIR "/run/appliance/steps"
#define AGENT_WWW_DIR "/run/appliance/www"
#define AGENT_PROFILE "/usr/share/appliance/profile.yml"
#define AGENT_IMAGE_CLOUD_CONFIG_DIR "/usr/share/appliance/cloud-config.d"
#define AGENT_EC2_URL "http://169.254.169.254/latest/user-data"
#define AGENT_NOTES_FILE "/run/appliance/notes"
#define AGENT_ENV_MAX (16U * 1024U * 1024U)

typedef struct Agent {
        char *root;              /* "/" or an absolute directory, without a trailing slash except "/" */
        int root_fd;             /* root, opened (O_PATH): every file access resolves below it */
        char *profile_path;      /* NULL: AGENT_PROFILE under root */
        char *systemctl;         /* the program used to start/stop units ("systemctl") */
        char *metadata_url;      /* EC2-compatible user-data URL */
        bool json;
        bool once;               /* appliance: exit after READY instead of monitoring */
        bool reconfigure;        /* env-update, update: a bad or missing env is reported and changes
                                  * nothing (no failed flag, /run/active-env.yml kept) */
} Agent;
