// Temporary files of atomic writes that their writer did not live to rename or remove.
//
// kiln::write_file_atomic (kiln/file_io.hpp) writes `<target>.kiln-tmp-<pid>-<n>` beside
// its target and renames it over the target; a process killed in between (SIGKILL, the
// OOM killer, a machine crash) leaves the temporary behind. These helpers find such files
// by the writer's pid and remove them: the run set-up sweeps the folders the catalog
// writes into, and the ParallelRunner sweeps after the workers it had to kill.
//
// Only processes of this machine (and pid namespace) can be told apart: a project folder
// shared with another machine that runs kiln at the same time may see that machine's
// temporaries as stale.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace kiln::core {

class DataCatalog;

// The writer's pid when `file_name` is a temporary of an atomic write
// (`<anything>.kiln-tmp-<pid>-<n>`), else nullopt.
std::optional<pid_t> temp_file_writer(std::string_view file_name);

// The folders the catalog's datasets write into: the parent folder of each entry's
// "filepath" (a relative one under the project), each once, in order.
std::vector<std::filesystem::path> dataset_folders(const DataCatalog& catalog);

// Removes, in each folder (not in folders below it), the temporaries whose writer no
// longer runs: no live process has its pid (a zombie is not live), or the process that
// has it started after the file was last written (the pid was reused). Missing folders
// are skipped. Returns what it removed.
std::vector<std::filesystem::path> remove_stale_temp_files(const std::vector<std::filesystem::path>& folders);

// Removes, in each folder, the temporaries written by any of `writers`: processes the
// caller knows have ended (a runner's killed workers). Returns what it removed.
std::vector<std::filesystem::path> remove_temp_files_of(const std::vector<std::filesystem::path>& folders,
                                                        const std::vector<pid_t>& writers);

// The run set-up's sweep: remove_stale_temp_files over the catalog's folders and the
// project's .kiln folder (the run record), logging each removal at debug level. Never
// throws: a file that cannot be removed is logged and left.
void remove_stale_temp_files(const DataCatalog& catalog);

}  // namespace kiln::core
