// Checks made on a plugin file before the dynamic loader runs any of it: a file the loader
// would crash on (truncated, another machine's), one that would abort kiln (a sanitizer
// runtime kiln lacks), and one that other users could have replaced.
//
// Each returns an empty string when the file passes, else what is wrong with it and the
// fix, as one or two sentences the caller prefixes with the plugin's path.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace kiln::core {

// What the ELF headers of a plugin say, as far as kiln needs it.
struct ElfFacts {
    std::vector<std::string> needed;  // DT_NEEDED: the libraries it links against
};

// Reads the ELF header, the program and section header tables and the dynamic section,
// each checked against the file's size: a truncated file gives "is truncated (N bytes,
// its headers say at least M): rebuild or recopy it". Fills `facts` when it passes.
std::string elf_problem(const std::filesystem::path& file, ElfFacts& facts);

// A sanitizer runtime the plugin needs that must be the first library of the process
// (AddressSanitizer, ThreadSanitizer...) and that kiln itself is not running with.
std::string sanitizer_problem(const ElfFacts& facts);

// Group or world write permission on `path` (a plugin file or folder), as ssh refuses for
// its keys: "can be written by other users (mode 1777): ... chmod go-w PATH".
std::string writable_by_others(const std::filesystem::path& path);

}  // namespace kiln::core
