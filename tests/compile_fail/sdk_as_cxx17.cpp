// Compiled with -std=c++17: the first error must say that the SDK needs C++20.
#include <kiln/sdk.hpp>
