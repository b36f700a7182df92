// Errors a user can make on the command line and in project files, as kiln reports them.
#include <doctest/doctest.h>

#include "kiln_process.hpp"
#include "test_support.hpp"

using namespace kiln::test;

TEST_CASE("cli.parallel_and_runner_together") {
    auto r = run_kiln({"run", "--parallel", "--runner", "SequentialRunner"});
    CHECK(r.exit_code == 2);
    CHECK(r.contains("--parallel and --runner cannot be used together"));
}
