// kiln run features on small generated projects: failures and resume, only-missing outputs.
#include <doctest/doctest.h>

#include "kiln_process.hpp"
#include "test_support.hpp"

using namespace kiln::test;
