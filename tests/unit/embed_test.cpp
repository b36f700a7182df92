// kiln/embed.hpp: the facade programs embedding Kiln call. Its refusals return kiln's exit
// code 2 and log the reason, as `kiln run` does.
#include <doctest/doctest.h>

#include <algorithm>
#include <kiln/embed.hpp>
#include <memory>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sstream>

#include "test_support.hpp"

namespace embed_test_cases {

namespace {
// What run_project logs, while alive.
class LogCapture {
public:
    LogCapture() : previous_(spdlog::default_logger()) {
        spdlog::set_default_logger(std::make_shared<spdlog::logger>(
            "embed_test", std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)));
    }
    ~LogCapture() { spdlog::set_default_logger(previous_); }
    std::string text() const { return out_.str(); }

private:
    std::ostringstream out_;
    std::shared_ptr<spdlog::logger> previous_;
};
}  // namespace

TEST_CASE("embed.lists_the_builtin_runners") {
    const auto names = kiln::builtin_runner_names();
    for (const char* name : {"SequentialRunner", "ThreadRunner", "ParallelRunner"})
        CHECK(std::find(names.begin(), names.end(), name) != names.end());
}

TEST_CASE("embed.a_folder_without_a_project_exits_2") {
    kiln::test::TempDir dir;
    kiln::EmbeddedRun run;
    run.project_dir = dir.path() / "missing";
    LogCapture log;
    CHECK(kiln::run_project(run) == 2);
    CHECK(log.text().find("missing") != std::string::npos);
}

TEST_CASE("embed.max_workers_below_one_exits_2") {
    kiln::test::TempDir dir;
    kiln::EmbeddedRun run;
    run.project_dir = dir.path();
    run.max_workers = 0;
    LogCapture log;
    CHECK(kiln::run_project(run) == 2);
    CHECK(log.text().find("max_workers must be a positive number of workers, got 0") != std::string::npos);
}

}  // namespace embed_test_cases
