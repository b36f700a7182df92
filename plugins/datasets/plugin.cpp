// The plugin "kiln": the standard dataset types, kiln.JsonDataset, kiln.TextDataset, ...
#include <kiln/dataset.hpp>
#include <kiln/sdk.hpp>
#include <kiln/version.hpp>

#include "binary_dataset.hpp"
#include "csv_dataset.hpp"
#include "json_dataset.hpp"
#include "npy_dataset.hpp"
#include "text_dataset.hpp"

using namespace kiln::datasets;

// The datasets keep no state between calls and write through atomic renames, so several
// threads may use one at a time.
KILN_PLUGIN_VERSIONED(kiln, KILN_VERSION_STRING) {
    reg.dataset<JsonDataset>("JsonDataset", {.thread_safe = true, .doc = "one value as a JSON file"});
    reg.dataset<TextDataset>("TextDataset", {.thread_safe = true, .doc = "a string or lines as a text file"});
    reg.dataset<BinaryDataset>("BinaryDataset", {.thread_safe = true, .doc = "one value in its codec's bytes"});
    reg.dataset<NpyDataset>("NpyDataset",
                            {.thread_safe = true, .doc = "a numeric tensor or vector as a NumPy .npy file"});
    reg.dataset<CsvDataset>("CsvDataset",
                            {.thread_safe = true, .doc = "a CSV file with a header row as a JSON array of objects"});
}
