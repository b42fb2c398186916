/**
 * Configuration templates of the image profile, rendered from the active env by prepare-appliance.
 *
 * Placeholder syntax: "{{ PATH }}" where PATH is a colon path into the env as the manual writes it
 * ("{{ appliance:domain }}", "{{ ssh_authorized_keys:0 }}"); spaces inside the braces are optional.
 * A scalar gives the one reading of env_node_text(), the value the services' environment has too
 * (yes/on as true, 0x10 as 16, strings stripped, null as the empty string). A missing key
 * is an error unless a default follows a '|': "{{ appliance:ssl:client_certs_mandatory | false }}"
 * (the default is the literal text after '|', trimmed). "\{{" gives a literal "{{". Mappings and
 * lists cannot be inserted. Errors read "NAME:LINE: message".
 */
#pragma once

#include "env.h"

int template_render(const Env *e, const char *name, const char *text, char **ret, char **reterr);
