// The checks made on a plugin file before dlopen, fed real plugins, cut and altered copies
// of them, and garbage.
#include <doctest/doctest.h>
#include <elf.h>

#include <algorithm>
#include <fstream>

#include "plugins/plugin_file_checks.hpp"
#include "test_support.hpp"

using kiln::core::ElfFacts;
namespace fs = std::filesystem;

namespace plugin_file_checks_test_cases {

namespace {
const fs::path good_plugin = fs::path(KILN_TEST_PLUGIN_DIR) / "good" / "testnodes.so";

std::string read_all(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_all(const fs::path& file, const std::string& bytes) {
    std::ofstream(file, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string problem_of(const fs::path& file) {
    ElfFacts facts;
    return kiln::core::elf_problem(file, facts);
}

// A copy of the good plugin with its ELF header changed by `edit`.
std::string problem_with_header(const kiln::test::TempDir& dir, void (*edit)(Elf64_Ehdr&)) {
    std::string bytes = read_all(good_plugin);
    REQUIRE(bytes.size() > sizeof(Elf64_Ehdr));
    edit(*reinterpret_cast<Elf64_Ehdr*>(bytes.data()));
    write_all(dir / "edited.so", bytes);
    return problem_of(dir / "edited.so");
}
}  // namespace

TEST_CASE("plugin_file_checks.a_real_plugin_passes") {
    ElfFacts facts;
    CHECK(kiln::core::elf_problem(good_plugin, facts) == "");
    CHECK(std::find_if(facts.needed.begin(), facts.needed.end(),
                       [](const std::string& n) { return n.starts_with("libstdc++.so"); }) != facts.needed.end());
}

TEST_CASE("plugin_file_checks.truncated_copies") {
    kiln::test::TempDir dir;
    const std::string bytes = read_all(good_plugin);
    for (std::size_t size : {std::size_t{64}, std::size_t{4096}, bytes.size() / 2, bytes.size() - 1}) {
        CAPTURE(size);
        write_all(dir / "cut.so", bytes.substr(0, size));
        const std::string problem = problem_of(dir / "cut.so");
        CHECK(problem.starts_with("is truncated (" + std::to_string(size) + " bytes, its headers say at least "));
        CHECK(problem.ends_with("): rebuild or recopy it"));
        // The size the headers claim is more than the file has, and at most the real file.
        const auto at_least = std::stoull(problem.substr(problem.find("at least ") + 9));
        CHECK(at_least > size);
        CHECK(at_least <= bytes.size());
    }
}

TEST_CASE("plugin_file_checks.garbage") {
    kiln::test::TempDir dir;
    write_all(dir / "empty.so", "");
    CHECK(problem_of(dir / "empty.so").starts_with("is not a shared library"));
    write_all(dir / "text.so", "#!/bin/sh\necho not a library\n");
    CHECK(problem_of(dir / "text.so").starts_with("is not a shared library"));
    // The signature alone, then noise: refused, never read past the end.
    write_all(dir / "magic.so", std::string(ELFMAG) + std::string(2, '\x02'));
    CHECK(problem_of(dir / "magic.so").starts_with("is truncated (6 bytes"));
    std::string noise(4096, '\xff');
    noise.replace(0, 4, ELFMAG);
    noise[EI_CLASS] = ELFCLASS64;
    noise[EI_DATA] = ELFDATA2LSB;
    write_all(dir / "noise.so", noise);
    CHECK(problem_of(dir / "noise.so") != "");
    CHECK(problem_of(dir / "missing.so").starts_with("cannot be read"));
}

TEST_CASE("plugin_file_checks.foreign_headers") {
    kiln::test::TempDir dir;
    CHECK(problem_with_header(dir, [](Elf64_Ehdr& h) { h.e_ident[EI_CLASS] = ELFCLASS32; }).find("32-bit") !=
          std::string::npos);
    CHECK(problem_with_header(dir, [](Elf64_Ehdr& h) { h.e_machine = EM_S390 == h.e_machine ? EM_X86_64 : EM_S390; })
              .find("rebuild the plugin for this machine") != std::string::npos);
    CHECK(problem_with_header(dir, [](Elf64_Ehdr& h) { h.e_type = ET_EXEC; }).find("not a shared library (ELF type 2)") !=
          std::string::npos);
    CHECK(problem_with_header(dir, [](Elf64_Ehdr& h) { h.e_phentsize = 3; }).find("corrupt ELF headers") !=
          std::string::npos);
    CHECK(problem_with_header(dir, [](Elf64_Ehdr& h) { h.e_shoff = ~0ull - 8; }).starts_with("is truncated"));
}

TEST_CASE("plugin_file_checks.sanitizer_runtimes") {
    ElfFacts asan{{"libasan.so.8", "libstdc++.so.6"}};
#if defined(__SANITIZE_ADDRESS__)
    CHECK(kiln::core::sanitizer_problem(asan) == "");  // this process has the runtime
#else
    CHECK(kiln::core::sanitizer_problem(asan).starts_with(
        "was built with AddressSanitizer (it needs libasan.so.8) but this kiln was not"));
#endif
#if defined(__SANITIZE_THREAD__)
    CHECK(kiln::core::sanitizer_problem(ElfFacts{{"libtsan.so.2"}}) == "");
#else
    CHECK(kiln::core::sanitizer_problem(ElfFacts{{"libtsan.so.2"}}).find("ThreadSanitizer") != std::string::npos);
#endif
    // UBSan's runtime can be loaded late.
    CHECK(kiln::core::sanitizer_problem(ElfFacts{{"libubsan.so.1", "libc.so.6"}}) == "");
}

TEST_CASE("plugin_file_checks.writable_by_others") {
    kiln::test::TempDir dir;
    using fs::perms;
    const fs::path file = dir / "p.so";
    write_all(file, "x");
    fs::permissions(file, perms::owner_read | perms::owner_write | perms::group_read | perms::others_read);
    CHECK(kiln::core::writable_by_others(file) == "");
    fs::permissions(file, perms::others_write, fs::perm_options::add);
    CHECK(kiln::core::writable_by_others(file).starts_with("can be written by other users (mode 0646)"));
    fs::permissions(dir.path(), perms::all | perms::sticky_bit);
    const std::string problem = kiln::core::writable_by_others(dir.path());
    CHECK(problem.starts_with("can be written by other users (mode 1777)"));
    CHECK(problem.find("chmod go-w " + dir.path().string()) != std::string::npos);
    fs::permissions(dir.path(), perms::owner_all);
    CHECK(kiln::core::writable_by_others(dir.path()) == "");
}

}  // namespace plugin_file_checks_test_cases
