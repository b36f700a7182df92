// A transcoded dataset's forms ("x@json" written, "x@text" read) pass the data between
// nodes through the file their catalog entries share. In memory each form would be a
// value of its own, and the reader would find nothing: the run plan refuses that before
// the run, naming the forms and the fix.
#pragma once

#include <string>

#include "catalog/catalog.hpp"
#include "model/pipeline.hpp"

namespace kiln::core {

// The message refusing every produced transcoded dataset with two or more forms of which
// one has no catalog entry (no pattern matches it either) or is a kiln.MemoryDataset; ""
// when there is none.
std::string transcoded_forms_in_memory(const Pipeline& pipeline, const DataCatalog& catalog);

}  // namespace kiln::core
