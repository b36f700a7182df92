// What kiln.CsvDataset reads from its catalog entry: "delimiter", and Kedro's "load_args"
// and "save_args" with the pandas names a Kedro project already uses.
//
//     "customers": {"type": "kiln.CsvDataset", "filepath": "data/customers.csv",
//                   "load_args": {"sep": ";", "usecols": ["id", "name"], "dtype": {"id": "str"}},
//                   "save_args": {"columns": ["name", "id"], "header": true, "index": false}}
//
// load_args: "sep" (or "delimiter"); "header": true/0 (the first row names the columns,
// the default), N (row N does; the rows before it are skipped), false/null (no header
// row: columns are named by "names", else "0", "1", ...); "names": the column names
// (replacing the header's); "usecols": keep only these columns; "skiprows": rows to skip
// before the header; "dtype": "str" for every column, or {"column": "str"|"int"|"float"}.
// save_args: "sep" (or "delimiter"); "columns": which columns to write, in this order;
// "header": true/false, or the names to write in place of "columns"; "index": false only.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include <kiln/dataset.hpp>

namespace kiln::datasets {

// How a column's fields become JSON values.
enum class CsvColumnType {
    inferred,  // numbers where the whole field is a number, else strings
    text,      // always strings ("str", "string", "object")
    integer,   // must be an integer ("int", "int64")
    number,    // must be a number ("float", "float64")
};

struct CsvLoadOptions {
    char delimiter = ',';
    bool header = true;
    std::size_t header_row = 0;  // with a header: how many rows before it are skipped
    std::size_t skip_rows = 0;
    std::vector<std::string> names;   // empty: from the header, or "0", "1", ...
    std::vector<std::string> usecols; // empty: every column
    CsvColumnType all_columns = CsvColumnType::inferred;
    std::map<std::string, CsvColumnType> column_types;

    CsvColumnType type_of(const std::string& column) const {
        auto it = column_types.find(column);
        return it == column_types.end() ? all_columns : it->second;
    }
};

struct CsvSaveOptions {
    char delimiter = ',';
    std::vector<std::string> columns;  // empty: the keys of the first row
    bool header = true;
    std::vector<std::string> header_names;  // empty: the column names
};

// Both throw kiln::ConfigError naming the dataset and the argument.
CsvLoadOptions csv_load_options(const DatasetConfig& config);
CsvSaveOptions csv_save_options(const DatasetConfig& config);

}  // namespace kiln::datasets
