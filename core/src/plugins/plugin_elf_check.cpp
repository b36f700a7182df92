#include <elf.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

#include "plugins/plugin_file_checks.hpp"

namespace kiln::core {
namespace fs = std::filesystem;

namespace {

#if defined(__x86_64__)
constexpr int host_machine = EM_X86_64;
#elif defined(__aarch64__)
constexpr int host_machine = EM_AARCH64;
#elif defined(__powerpc64__)
constexpr int host_machine = EM_PPC64;
#elif defined(__s390x__)
constexpr int host_machine = EM_S390;
#elif defined(__riscv)
constexpr int host_machine = EM_RISCV;
#else
constexpr int host_machine = -1;  // unknown here: the loader will say
#endif

std::string machine_name(int machine) {
    switch (machine) {
        case EM_X86_64: return "x86-64";
        case EM_386: return "i386";
        case EM_AARCH64: return "AArch64";
        case EM_ARM: return "32-bit ARM";
        case EM_PPC64: return "PowerPC64";
        case EM_S390: return "s390x";
        case EM_RISCV: return "RISC-V";
        default: return "machine " + std::to_string(machine);
    }
}

// Offsets and sizes come from the file: add without wrapping around.
std::uint64_t end_of(std::uint64_t offset, std::uint64_t size) {
    return offset > std::numeric_limits<std::uint64_t>::max() - size ? std::numeric_limits<std::uint64_t>::max()
                                                                      : offset + size;
}

class ElfFile {
public:
    explicit ElfFile(const fs::path& path) : in_(path, std::ios::binary) {
        std::error_code ec;
        size_ = fs::file_size(path, ec);
        if (ec) size_ = 0;
    }
    bool is_open() const { return static_cast<bool>(in_); }
    std::uint64_t size() const { return size_; }
    // Reads `n` bytes at `offset`; false when they are not all in the file.
    bool read(std::uint64_t offset, void* out, std::uint64_t n) {
        if (end_of(offset, n) > size_) return false;
        in_.clear();
        in_.seekg(static_cast<std::streamoff>(offset));
        in_.read(static_cast<char*>(out), static_cast<std::streamsize>(n));
        return static_cast<std::uint64_t>(in_.gcount()) == n;
    }

private:
    std::ifstream in_;
    std::uint64_t size_ = 0;
};

std::string truncated(std::uint64_t size, std::uint64_t needed) {
    return "is truncated (" + std::to_string(size) + " bytes, its headers say at least " + std::to_string(needed) +
           "): rebuild or recopy it";
}

// The file offset of a virtual address, through the segment that loads it.
bool offset_of(const std::vector<Elf64_Phdr>& segments, std::uint64_t address, std::uint64_t& offset) {
    for (const auto& p : segments)
        if (p.p_type == PT_LOAD && address >= p.p_vaddr && address - p.p_vaddr < p.p_filesz) {
            offset = p.p_offset + (address - p.p_vaddr);
            return true;
        }
    return false;
}

std::string read_needed(ElfFile& elf, const std::vector<Elf64_Phdr>& segments, ElfFacts& facts) {
    auto dynamic = std::find_if(segments.begin(), segments.end(), [](const Elf64_Phdr& p) { return p.p_type == PT_DYNAMIC; });
    if (dynamic == segments.end()) return "";  // links nothing: nothing to check
    std::vector<Elf64_Dyn> entries(dynamic->p_filesz / sizeof(Elf64_Dyn));
    if (!elf.read(dynamic->p_offset, entries.data(), entries.size() * sizeof(Elf64_Dyn)))
        return truncated(elf.size(), end_of(dynamic->p_offset, dynamic->p_filesz));
    std::uint64_t strtab = 0, strsz = 0;
    for (const auto& d : entries) {
        if (d.d_tag == DT_NULL) break;
        if (d.d_tag == DT_STRTAB) strtab = d.d_un.d_ptr;
        if (d.d_tag == DT_STRSZ) strsz = d.d_un.d_val;
    }
    std::uint64_t strtab_offset = 0;
    if (strsz == 0 || !offset_of(segments, strtab, strtab_offset)) return "";
    if (end_of(strtab_offset, strsz) > elf.size()) return truncated(elf.size(), end_of(strtab_offset, strsz));
    std::string strings(strsz, '\0');
    if (!elf.read(strtab_offset, strings.data(), strsz)) return "cannot be read";
    for (const auto& d : entries) {
        if (d.d_tag == DT_NULL) break;
        if (d.d_tag == DT_NEEDED && d.d_un.d_val < strsz) facts.needed.emplace_back(strings.c_str() + d.d_un.d_val);
    }
    return "";
}

}  // namespace

std::string elf_problem(const fs::path& file, ElfFacts& facts) {
    ElfFile elf(file);
    if (!elf.is_open()) return "cannot be read: " + std::string(std::strerror(errno));
    unsigned char ident[EI_NIDENT] = {};
    if (!elf.read(0, ident, SELFMAG) || std::memcmp(ident, ELFMAG, SELFMAG) != 0)
        return "is not a shared library (it does not start with the ELF signature): move it out of the plugin "
               "directory";
    if (!elf.read(0, ident, sizeof ident)) return truncated(elf.size(), sizeof(Elf64_Ehdr));
    if (ident[EI_CLASS] != ELFCLASS64)
        return "is a 32-bit library; this kiln is 64-bit: rebuild the plugin for this machine";
    if (ident[EI_DATA] != (std::endian::native == std::endian::little ? ELFDATA2LSB : ELFDATA2MSB))
        return "is a shared library of another byte order than this machine's: rebuild the plugin for this machine";
    Elf64_Ehdr header;
    if (!elf.read(0, &header, sizeof header)) return truncated(elf.size(), sizeof header);
    if (host_machine >= 0 && header.e_machine != host_machine)
        return "is a shared library for " + machine_name(header.e_machine) + ", but this machine is " +
               machine_name(host_machine) + ": rebuild the plugin for this machine";
    if (header.e_type != ET_DYN)
        return "is an ELF file but not a shared library (ELF type " + std::to_string(header.e_type) +
               "): build the plugin with kiln_add_plugin (a MODULE library)";
    if (header.e_phnum == 0 || header.e_phentsize != sizeof(Elf64_Phdr) ||
        (header.e_shnum != 0 && header.e_shentsize != sizeof(Elf64_Shdr)))
        return "has corrupt ELF headers: rebuild or recopy it";

    // Everything the headers place in the file must be in it, or the loader maps pages
    // past its end and dies of SIGBUS touching them.
    std::uint64_t needed = sizeof header;
    needed = std::max(needed, end_of(header.e_phoff, std::uint64_t{header.e_phnum} * sizeof(Elf64_Phdr)));
    if (header.e_shoff != 0)
        needed = std::max(needed, end_of(header.e_shoff, std::uint64_t{header.e_shnum} * sizeof(Elf64_Shdr)));
    if (needed > elf.size()) return truncated(elf.size(), needed);
    std::vector<Elf64_Phdr> segments(header.e_phnum);
    if (!elf.read(header.e_phoff, segments.data(), segments.size() * sizeof(Elf64_Phdr))) return "cannot be read";
    for (const auto& p : segments) needed = std::max(needed, end_of(p.p_offset, p.p_filesz));
    if (needed > elf.size()) return truncated(elf.size(), needed);
    return read_needed(elf, segments, facts);
}

}  // namespace kiln::core
