// A plugin whose register block throws: the host reports the message, no crash.
#include <kiln/sdk.hpp>
#include <stdexcept>

static double twice(double x) { return 2 * x; }

KILN_PLUGIN(throwing_register) {
    reg.node("twice", &twice);
    throw std::runtime_error("configuration file missing: /etc/throwing.conf");
}
