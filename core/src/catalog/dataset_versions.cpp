#include "catalog/dataset_versions.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <sys/stat.h>
#include <unistd.h>

#include "kiln/error.hpp"

namespace kiln::core {
namespace fs = std::filesystem;
using std::chrono::system_clock;
using Milliseconds = std::chrono::milliseconds;

std::string version_timestamp(system_clock::time_point at) {
    const auto since_epoch = std::chrono::duration_cast<Milliseconds>(at.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(since_epoch / 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d.%02d.%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(since_epoch % 1000));
    return buf;
}

std::optional<system_clock::time_point> parse_version_timestamp(const std::string& name) {
    // Exactly "dddd-dd-ddTdd.dd.dd.dddZ": a digit wherever the format has one.
    static constexpr char shape[] = "0000-00-00T00.00.00.000Z";
    if (name.size() != sizeof shape - 1) return std::nullopt;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const bool digit = shape[i] == '0';
        if (digit ? !std::isdigit(static_cast<unsigned char>(name[i])) : name[i] != shape[i]) return std::nullopt;
    }
    std::tm tm{};
    int ms = 0;
    std::sscanf(name.c_str(), "%4d-%2d-%2dT%2d.%2d.%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                &tm.tm_min, &tm.tm_sec, &ms);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const std::time_t seconds = timegm(&tm);
    // A name such as month 13 would read as another time: only names that round-trip count.
    const auto at = system_clock::from_time_t(seconds) + Milliseconds(ms);
    if (version_timestamp(at) != name) return std::nullopt;
    return at;
}

namespace {

// Every version-named folder under `dir`, whether or not it holds the file yet.
std::vector<std::string> version_folders(const fs::path& dir) {
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code type_ec;
        if (!it->is_directory(type_ec)) continue;
        std::string name = it->path().filename().string();
        if (parse_version_timestamp(name)) names.push_back(std::move(name));
    }
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

std::vector<std::string> existing_versions(const fs::path& versions_dir, const std::string& file_name) {
    std::vector<std::string> versions = version_folders(versions_dir);
    std::erase_if(versions, [&](const std::string& v) {
        std::error_code ec;
        return !fs::exists(versions_dir / v / file_name, ec);
    });
    return versions;
}

std::optional<std::string> latest_version(const fs::path& versions_dir, const std::string& file_name) {
    std::vector<std::string> versions = existing_versions(versions_dir, file_name);
    if (versions.empty()) return std::nullopt;
    return versions.back();
}

std::string reserve_save_version(const std::vector<fs::path>& versions_dirs, system_clock::time_point now) {
    auto candidate = std::chrono::time_point_cast<Milliseconds>(now);
    // Later than every version there, so that "the latest" is this run's even when the
    // clock went back.
    for (const fs::path& dir : versions_dirs) {
        std::vector<std::string> taken = version_folders(dir);
        if (taken.empty()) continue;
        if (auto newest = parse_version_timestamp(taken.back()); newest && *newest >= candidate)
            candidate = std::chrono::time_point_cast<Milliseconds>(*newest) + Milliseconds(1);
    }
    for (const fs::path& dir : versions_dirs) {
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec && !fs::is_directory(dir))
            throw DatasetError("cannot create the versions folder '" + dir.string() + "': " + ec.message());
    }
    for (;; candidate += Milliseconds(1)) {
        const std::string version = version_timestamp(candidate);
        std::vector<fs::path> made;
        bool taken = false;
        for (const fs::path& dir : versions_dirs) {
            const fs::path folder = dir / version;
            if (::mkdir(folder.c_str(), 0777) == 0) {
                made.push_back(folder);
                continue;
            }
            if (errno != EEXIST)
                throw DatasetError("cannot create the version folder '" + folder.string() + "': " + std::strerror(errno));
            taken = true;  // another run holds this version: give back ours and take the next
            break;
        }
        if (!taken) return version;
        for (const fs::path& folder : made) ::rmdir(folder.c_str());
    }
}

}  // namespace kiln::core
