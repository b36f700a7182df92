#include "config/redaction.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>

namespace kiln::core {

namespace {
std::mutex secrets_mutex;
std::vector<std::string> secrets;  // longest first, so that a secret inside another is not half-replaced
std::atomic<bool> any_secret{false};
}  // namespace

void register_secret(std::string value) {
    if (value.size() < min_secret_length) return;
    std::lock_guard lock(secrets_mutex);
    if (std::find(secrets.begin(), secrets.end(), value) != secrets.end()) return;
    secrets.push_back(std::move(value));
    std::stable_sort(secrets.begin(), secrets.end(),
                     [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    any_secret = true;
}

std::vector<std::string> registered_secrets() {
    std::lock_guard lock(secrets_mutex);
    return secrets;
}

bool has_secrets() { return any_secret.load(); }

std::string redact(std::string_view text) {
    std::string out(text);
    if (!has_secrets()) return out;
    std::lock_guard lock(secrets_mutex);
    for (const auto& secret : secrets) {
        for (std::size_t at = out.find(secret); at != std::string::npos; at = out.find(secret, at + 3))
            out.replace(at, secret.size(), "***");
    }
    return out;
}

}  // namespace kiln::core
