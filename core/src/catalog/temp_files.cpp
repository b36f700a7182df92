#include "catalog/temp_files.hpp"

#include <cerrno>
#include <csignal>
#include <ctime>
#include <fstream>
#include <set>
#include <spdlog/spdlog.h>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/catalog.hpp"
#include "catalog/partitioned_dataset.hpp"

namespace kiln::core {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view marker = ".kiln-tmp-";

double clock_seconds(clockid_t clock) {
    timespec ts{};
    ::clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// What /proc says of a pid: gone, a zombie, or running for some seconds.
struct ProcessState {
    bool live = false;
    std::optional<double> age_s;  // unknown when /proc cannot tell
};

ProcessState process_state(pid_t pid) {
    ProcessState state;
    // kill(pid, 0) also sees processes /proc hides (hidepid) and other users' (EPERM).
    if (::kill(pid, 0) != 0 && errno != EPERM) return state;
    state.live = true;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!in || !std::getline(in, line)) return state;
    // "pid (comm) state ppid ... starttime(22) ..."; comm may hold ')', so from the last one.
    const auto close = line.rfind(')');
    if (close == std::string::npos) return state;
    std::istringstream rest(line.substr(close + 1));
    std::vector<std::string> f;
    for (std::string w; f.size() < 20 && rest >> w;) f.push_back(w);
    if (f.size() < 20) return state;
    const char s = f[0].empty() ? '?' : f[0][0];
    if (s == 'Z' || s == 'X' || s == 'x') {
        state.live = false;  // a zombie writes nothing more
        return state;
    }
    const long ticks = ::sysconf(_SC_CLK_TCK);
    if (ticks <= 0) return state;
    const double started = static_cast<double>(std::stoull(f[19])) / static_cast<double>(ticks);
    state.age_s = clock_seconds(CLOCK_BOOTTIME) - started;
    return state;
}

// Seconds since the file was last written, or nullopt when it cannot be read.
std::optional<double> file_age_s(const fs::path& file) {
    struct stat st {};
    if (::lstat(file.c_str(), &st) != 0) return std::nullopt;
    const double mtime = static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) * 1e-9;
    return clock_seconds(CLOCK_REALTIME) - mtime;
}

// Whether /proc works here: without it every process would look dead.
bool proc_available() {
    std::error_code ec;
    return fs::exists("/proc/self/stat", ec);
}

template <class Pred>
std::vector<fs::path> remove_matching(const std::vector<fs::path>& folders, Pred stale) {
    std::vector<fs::path> removed;
    std::set<fs::path> seen;
    for (const auto& folder : folders) {
        if (!seen.insert(folder.lexically_normal()).second) continue;
        std::error_code ec;
        fs::directory_iterator it(folder, ec), end;
        for (; !ec && it != end; it.increment(ec)) {
            const fs::path& file = it->path();
            auto writer = temp_file_writer(file.filename().native());
            if (!writer || !stale(*writer, file)) continue;
            std::error_code rm;
            if (it->is_directory(rm)) continue;  // only files are ours
            if (fs::remove(file, rm)) removed.push_back(file);
            else if (rm) spdlog::debug("Cannot remove the stale temporary file {}: {}", file.string(), rm.message());
        }
    }
    return removed;
}

}  // namespace

std::optional<pid_t> temp_file_writer(std::string_view name) {
    // <anything>.kiln-tmp-<pid>-<n>: the last marker, then two runs of digits.
    const auto at = name.rfind(marker);
    if (at == std::string_view::npos || at == 0) return std::nullopt;
    std::string_view rest = name.substr(at + marker.size());
    const auto dash = rest.find('-');
    if (dash == std::string_view::npos || dash == 0 || dash > 9 || dash + 1 == rest.size()) return std::nullopt;
    std::string_view pid_text = rest.substr(0, dash), n_text = rest.substr(dash + 1);
    auto digits = [](std::string_view s) { return s.find_first_not_of("0123456789") == std::string_view::npos; };
    if (!digits(pid_text) || !digits(n_text)) return std::nullopt;
    const long pid = std::stol(std::string(pid_text));
    if (pid <= 0) return std::nullopt;
    return static_cast<pid_t>(pid);
}

std::vector<fs::path> dataset_folders(const DataCatalog& catalog) {
    std::vector<fs::path> folders;
    std::set<fs::path> seen;
    std::map<std::string, CatalogEntry> entries = catalog.entries_from_patterns();
    entries.insert(catalog.entries().begin(), catalog.entries().end());
    for (const auto& [name, entry] : entries) {
        if (!entry.args.is_object()) continue;
        if (is_partitioned_type(entry.type)) {  // partitions are written in every folder below it
            for (const fs::path& folder : partition_folders(catalog, entry))
                if (seen.insert(folder).second) folders.push_back(folder);
            continue;
        }
        auto it = entry.args.find("filepath");
        if (it == entry.args.end() || !it->is_string() || it->get<std::string>().empty()) continue;
        fs::path file = it->get<std::string>();
        if (file.is_relative()) file = catalog.project_dir() / file;
        fs::path folder = file.lexically_normal().parent_path();
        if (folder.empty()) continue;
        if (seen.insert(folder).second) folders.push_back(folder);
        // A versioned dataset is written in the folder of this run's version.
        if (auto versioned = catalog.versioned_filepath(name)) {
            fs::path version_file = *versioned;
            if (version_file.is_relative()) version_file = catalog.project_dir() / version_file;
            if (fs::path in = version_file.lexically_normal().parent_path(); seen.insert(in).second)
                folders.push_back(in);
        }
    }
    return folders;
}

std::vector<fs::path> remove_stale_temp_files(const std::vector<fs::path>& folders) {
    if (!proc_available()) {
        spdlog::debug("/proc is not available: stale temporary files are not looked for");
        return {};
    }
    // Slack for the clocks' resolution (start times count in clock ticks).
    constexpr double slack_s = 1.0;
    return remove_matching(folders, [&](pid_t writer, const fs::path& file) {
        const ProcessState process = process_state(writer);
        if (!process.live) return true;
        if (!process.age_s) return false;
        auto age = file_age_s(file);
        // Written before the process with that pid started: the pid was reused.
        return age && *age > *process.age_s + slack_s;
    });
}

std::vector<fs::path> remove_temp_files_of(const std::vector<fs::path>& folders, const std::vector<pid_t>& writers) {
    if (writers.empty()) return {};
    const std::set<pid_t> ended(writers.begin(), writers.end());
    return remove_matching(folders, [&](pid_t writer, const fs::path&) { return ended.count(writer) > 0; });
}

void remove_stale_temp_files(const DataCatalog& catalog) {
    try {
        std::vector<fs::path> folders = dataset_folders(catalog);
        folders.push_back(catalog.project_dir() / ".kiln");
        for (const auto& file : remove_stale_temp_files(folders))
            spdlog::debug("Removed {}: a temporary file of an earlier run whose process no longer runs", file.string());
    } catch (const std::exception& e) {
        spdlog::debug("Looking for stale temporary files failed: {}", e.what());
    }
}

}  // namespace kiln::core
