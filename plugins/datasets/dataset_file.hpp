// What the file-backed dataset types of the "kiln" plugin share: where the file is, how to
// name it in messages, and reading/writing it with errors that say what to do.
#pragma once

#include <cstddef>
#include <filesystem>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <kiln/dataset.hpp>

namespace kiln::datasets {

class DatasetFile {
public:
    // Reads config "filepath"; refuses arguments not in `known` (besides "filepath" and
    // "metadata") so a typo such as "filepth" fails at build time.
    DatasetFile(const DatasetConfig& config, std::string_view class_name,
                std::initializer_list<std::string_view> known = {});

    const std::filesystem::path& path() const { return path_; }
    const std::string& dataset_name() const { return dataset_name_; }
    const std::string& where() const { return where_; }  // config.where(), for ConfigErrors

    bool exists() const;
    std::string describe() const;  // "JsonDataset(data/x.json)"

    // Whole-file reads; a missing file or a directory is a DatasetError that says how to fix it.
    std::vector<std::byte> read_bytes() const;
    std::string read_text() const;

    // Atomic writes (temporary file + rename).
    void write(std::span<const std::byte> bytes) const;
    void write(std::string_view text) const;

    // Errors about the file's contents or a value being saved.
    DatasetError load_error(std::string_view problem) const;  // "cannot load '<file>': ..."
    DatasetError save_error(std::string_view problem) const;  // "cannot save '<file>': ..."
    // A problem at a place in the file: "<file>:<position>: dataset '<name>': <problem>",
    // the form editors and terminals understand ("3:8" for line 3, column 8).
    DatasetError error_at(std::string_view position, std::string_view problem) const;

private:
    void check_readable() const;

    std::filesystem::path path_;
    std::string given_;
    std::string class_name_;
    std::string dataset_name_;
    std::string where_;
};

}  // namespace kiln::datasets
