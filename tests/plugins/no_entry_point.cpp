// A shared library that is not a Kiln plugin: it exports a function, but no entry point.
extern "C" __attribute__((visibility("default"))) int some_other_library_function() { return 1; }
