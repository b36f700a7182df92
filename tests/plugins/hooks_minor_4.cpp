// A hook plugin as the SDK of ABI 1.4 made it, with this SDK's headers: its points() may
// claim after_context_created and after_catalog_created, which 1.4 did not have, so the
// host must never call them, nor hand it input replacements (docs/abi.md). It writes
// what it was told to options.path when the run ends.
#include <kiln/file_io.hpp>
#include <kiln/hooks.hpp>
#include <kiln/sdk.hpp>

namespace {
class OldHook final : public kiln::Hooks {
public:
    explicit OldHook(const kiln::HookConfig& c) : path_(c.options.at("path").get<std::string>()) {}
    void after_context_created(const kiln::ContextInfo&) override { lines_ += "after_context_created\n"; }
    void after_catalog_created(const kiln::CatalogInfo&) override { lines_ += "after_catalog_created\n"; }
    void before_pipeline_run(const kiln::PipelineRunInfo&) override { lines_ += "before_pipeline_run\n"; }
    void before_node_run(const kiln::NodeRunInfo& r) override {
        lines_ += "before_node_run node=" + std::string(r.node.name) +
                  " replacements=" + (r.replacements ? "set" : "null") + "\n";
    }
    void after_pipeline_run(const kiln::PipelineRunInfo&, std::span<const kiln::NamedValue>) override {
        lines_ += "after_pipeline_run\n";
        kiln::write_file_atomic(path_, lines_);
    }

private:
    std::filesystem::path path_;
    std::string lines_;  // SequentialRunner only in its test
};

void declare(kiln::Registrar& reg) { reg.hooks<OldHook>("OldHook"); }
const kiln::detail::PluginDescriptor descriptor{
    sizeof(kiln::detail::PluginDescriptor), kiln::detail::abi_major, 4, KILN_BUILD_KEY, "hooks_minor_4", "1.4",
    &kiln::detail::register_shim<&declare>, {}};
}  // namespace

extern "C" __attribute__((visibility("default"))) const kiln::detail::PluginDescriptor* kiln_plugin_entry() noexcept {
    return &descriptor;
}
