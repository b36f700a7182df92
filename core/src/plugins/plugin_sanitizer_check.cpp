#include <dlfcn.h>
#include <link.h>

#include <cstring>
#include <string_view>

#include "plugins/plugin_file_checks.hpp"

namespace kiln::core {

namespace {

// Runtimes that abort the process ("runtime does not come first") when dlopen brings them
// into a process that did not start with them. UBSan's runtime loads late without harm.
struct Runtime {
    std::string_view library;  // the DT_NEEDED prefix
    const char* init_symbol;   // present when the runtime is linked into kiln statically
    const char* sanitizer;
    const char* flag;
};
constexpr Runtime first_runtimes[] = {
    {"libasan.so", "__asan_init", "AddressSanitizer", "-fsanitize=address"},
    {"libhwasan.so", "__hwasan_init", "HWAddressSanitizer", "-fsanitize=hwaddress"},
    {"libtsan.so", "__tsan_init", "ThreadSanitizer", "-fsanitize=thread"},
    {"liblsan.so", "__lsan_do_leak_check", "LeakSanitizer", "-fsanitize=leak"},
};

bool starts_with_library(std::string_view path, std::string_view library) {
    auto slash = path.rfind('/');
    return path.substr(slash == std::string_view::npos ? 0 : slash + 1).starts_with(library);
}

bool host_has(const Runtime& runtime) {
    if (::dlsym(RTLD_DEFAULT, runtime.init_symbol) != nullptr) return true;
    struct Search {
        std::string_view library;
        bool found = false;
    } search{runtime.library};
    ::dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t, void* data) {
            auto* s = static_cast<Search*>(data);
            if (info->dlpi_name && starts_with_library(info->dlpi_name, s->library)) s->found = true;
            return s->found ? 1 : 0;
        },
        &search);
    return search.found;
}

}  // namespace

std::string sanitizer_problem(const ElfFacts& facts) {
    for (const auto& library : facts.needed)
        for (const auto& runtime : first_runtimes)
            if (starts_with_library(library, runtime.library) && !host_has(runtime))
                return "was built with " + std::string(runtime.sanitizer) + " (it needs " + library +
                       ") but this kiln was not: loading it would abort kiln.\n  Rebuild the plugin without " +
                       runtime.flag + ", or use a kiln built with the same sanitizer (KILN_SANITIZE=ON for " +
                       "AddressSanitizer)";
    return "";
}

}  // namespace kiln::core
