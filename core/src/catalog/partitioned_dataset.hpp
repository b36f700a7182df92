// kiln.PartitionedDataset: a folder of files, one a partition, each read and written by
// another dataset type (Kedro's PartitionedDataset).
//
//     "daily": {"type": "kiln.PartitionedDataset", "path": "data/01_raw/daily",
//               "dataset": "kiln.TextDataset", "filename_suffix": ".txt"}
//
// Arguments: "path" (the folder, relative to the project), "dataset" (a dataset type, or
// {"type": ..., its arguments}), "filename_suffix" (only files ending so are partitions;
// it is not part of the id), "overwrite" (a save removes the partitions it did not write),
// "filepath_arg" (the argument through which the partition dataset takes its file,
// "filepath"), "metadata". An id is the file's path below the folder, '/' between folders,
// without the suffix; files and folders whose names start with '.' are not partitions.
//
// A node takes or returns kiln::Partitions<T> (each file read when the node asks) or
// std::map<std::string, T> (all read at once); T is what the partition dataset stores.
// The type lives in the host rather than a plugin because it builds other plugins'
// datasets, one for each partition.
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kiln/dataset.hpp"
#include "kiln/detail/handles.hpp"

namespace kiln::core {

class Registry;
class DataCatalog;
struct CatalogEntry;

// Whether a catalog entry's "type" names this dataset type.
bool is_partitioned_type(const std::string& type);

// The folder of a partitioned entry ("path", absolute), or nullopt when it names none.
// Incremental runs hash it (every file in it), the journal stamps it.
std::optional<std::filesystem::path> partition_folder(const std::filesystem::path& project_dir,
                                                      const nlohmann::json& args);

// The folder of a partitioned entry and every folder below it (hidden ones skipped), where
// its partitions are written: where temporaries of killed runs are looked for.
std::vector<std::filesystem::path> partition_folders(const DataCatalog& catalog, const CatalogEntry& entry);

// Builds one, checking its arguments, the partition dataset's (by building it once for a
// sample file) and the value type. Throws kiln::ConfigError.
std::unique_ptr<kiln::detail::DatasetHandle> make_partitioned_dataset(const DatasetConfig& config,
                                                                     const Registry& registry);

}  // namespace kiln::core
