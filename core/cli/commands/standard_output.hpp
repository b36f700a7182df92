// What every command that prints a listing ends with: stdout flushed, and a failed write
// (a closed pipe, a full disk) reported instead of exiting 0 with a truncated listing.
#pragma once

// Flushes std::cout; throws kiln::ConfigError when it could not be written.
void flush_standard_output();
