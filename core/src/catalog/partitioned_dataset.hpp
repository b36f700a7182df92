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

#include <memory>
#include <string>

#include "kiln/dataset.hpp"
#include "kiln/detail/handles.hpp"

namespace kiln::core {

class Registry;

// Whether a catalog entry's "type" names this dataset type.
bool is_partitioned_type(const std::string& type);

// Builds one, checking its arguments, the partition dataset's (by building it once for a
// sample file) and the value type. Throws kiln::ConfigError.
std::unique_ptr<kiln::detail::DatasetHandle> make_partitioned_dataset(const DatasetConfig& config,
                                                                     const Registry& registry);

}  // namespace kiln::core
