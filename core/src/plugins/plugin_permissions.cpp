#include <sys/stat.h>

#include <cstdio>

#include "plugins/plugin_file_checks.hpp"

namespace kiln::core {

std::string writable_by_others(const std::filesystem::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return "";  // missing: the caller says so
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) == 0) return "";
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return std::string("can be written by other users (mode ") + mode +
           "): one of them could replace the code kiln runs.\n  Run 'chmod go-w " + path.string() +
           "', or keep plugins in a folder only you can write to";
}

}  // namespace kiln::core
