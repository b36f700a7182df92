#define DOCTEST_CONFIG_IMPLEMENT
#include <cstdlib>
#include <doctest/doctest.h>
#include <string>

int main(int argc, char** argv) {
    // Under AddressSanitizer a crashing worker would be caught by ASan's SIGSEGV handler
    // and exit(1); the crash tests need the real signal, as a user's kiln would see it.
    // Every kiln started by these tests inherits this.
    std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
    asan += std::string(asan.empty() ? "" : ":") + "handle_segv=0";
    ::setenv("ASAN_OPTIONS", asan.c_str(), 1);
    return doctest::Context(argc, argv).run();
}
