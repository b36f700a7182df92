#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

int main(int argc, char** argv) {
    // Tests check messages through exceptions and results; info logs would only be noise.
    spdlog::set_level(spdlog::level::warn);
    return doctest::Context(argc, argv).run();
}
