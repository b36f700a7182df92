// Credential values must never reach a log line, a run report or record, a trace or an
// error message. The host registers every credential value it reads; the places that
// turn text into output (the log sink, node failures, dataset errors, the report files)
// pass it through redact().
//
//     register_secret("s3cr3t");
//     redact("login failed for s3cr3t") == "login failed for ***"
//
// Process-wide, owned by the host; thread safe. A forked worker inherits the secrets, a
// spawned one gets them in the host's plan.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kiln::core {

// Values shorter than this are not redacted: replacing every "1" or "ab" in every log
// line would garble the output without hiding anything worth hiding.
inline constexpr std::size_t min_secret_length = 3;

void register_secret(std::string value);
// Every secret registered so far (for a spawned worker's plan).
std::vector<std::string> registered_secrets();
// True once a secret is registered: callers skip the copy when there is none.
bool has_secrets();
// `text` with each registered secret replaced by "***".
std::string redact(std::string_view text);

}  // namespace kiln::core
