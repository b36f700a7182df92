// kiln.CsvDataset: a CSV file with a header row as a "json" array of objects, one object
// per row keyed by the header.
//
//     "customers": {"type": "kiln.CsvDataset", "filepath": "data/01_raw/customers.csv", "delimiter": ";"}
//
// Loading: a field that is entirely a JSON-style number (42, -1.5, 2e3; not 007 or +1)
// becomes a number, every other field a string; quoted fields ("a,b", "say ""hi""", line
// breaks inside quotes) are always strings. Blank lines and a leading UTF-8 byte order
// mark are skipped, "\r\n" is accepted.
// Saving: the columns are the keys of the first row, in the object's order (nlohmann::json
// sorts keys); a missing key or null writes an empty field, booleans write true/false;
// strings that would read back as numbers are quoted so they stay strings.
// "load_args" and "save_args" (column choice and order, header, dtype, ...): csv_options.hpp.
#pragma once

#include <kiln/dataset.hpp>

#include <kiln/dataset_file.hpp>

#include "csv_options.hpp"

namespace kiln::datasets {

class CsvDataset : public Dataset {
public:
    explicit CsvDataset(const DatasetConfig& config);

    Value load() override;
    void save(const Value& value) override;
    bool exists() const override { return file_.exists(); }
    std::string describe() const override { return file_.describe(); }

private:
    DatasetFile file_;
    CsvLoadOptions load_;
    CsvSaveOptions save_;
};

}  // namespace kiln::datasets
