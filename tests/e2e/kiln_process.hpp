// Runs the real kiln binary and captures what it prints and how it exits.
#pragma once

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <sys/wait.h>
#include <vector>

namespace kiln::test {

struct KilnResult {
    int exit_code = -1;
    std::string output;  // stdout and stderr together, in order
    bool contains(const std::string& s) const { return output.find(s) != std::string::npos; }
};

inline std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

// The shell command that runs `kiln ARGS...` with KILN_PLUGIN_PATH cleared, plus `env`
// assignments ("K=V"), its stderr joined to its stdout.
inline std::string kiln_command(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
    std::string cmd = "env -u KILN_PLUGIN_PATH";
    for (const auto& e : env) cmd += " " + shell_quote(e);
    cmd += " " + shell_quote(KILN_BINARY);
    for (const auto& a : args) cmd += " " + shell_quote(a);
    return cmd + " 2>&1";
}

// Runs a shell command line and captures what it prints and how it exits.
inline KilnResult run_shell(const std::string& cmd) {
    KilnResult r;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (!pipe) return r;
    std::array<char, 4096> buf;
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
    int status = ::pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

inline KilnResult run_kiln(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
    return run_shell(kiln_command(args, env));
}

inline std::string test_plugins(const std::string& name) { return std::string(KILN_TEST_PLUGIN_DIR) + "/" + name; }

}  // namespace kiln::test
