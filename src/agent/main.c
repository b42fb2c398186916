/**
 * PLACEHOLDER: replaced by the real agent.
 */
#include "log.h"

int main(int argc, char *argv[]) {
        log_setup("appliance-agent");
        log_error("not built yet");
        return 1;
}
