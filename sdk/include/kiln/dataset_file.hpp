// kiln::DatasetFile: the file behind a file-backed dataset type, as the datasets Kiln ships
// use it. It reads "filepath" (refusing arguments the type does not take, so a typo such
// as "filepth" fails when the pipeline is built), reads the whole file with errors that say
// what to do, writes atomically, and words errors with the file and the dataset named.
//
//     class LinesDataset : public kiln::Dataset {
//     public:
//         explicit LinesDataset(const kiln::DatasetConfig& config) : file_(config, "LinesDataset", {"separator"}) {
//             config.require_type<std::vector<std::string>>();
//         }
//         kiln::Value load() override { return kiln::Value::make(split_lines(file_.read_text())); }
//         void save(const kiln::Value& v) override { file_.write(join_lines(v.get<std::vector<std::string>>())); }
//         bool exists() const override { return file_.exists(); }
//         std::string describe() const override { return file_.describe(); }
//     private:
//         kiln::DatasetFile file_;
//     };
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <cstddef>
#include <filesystem>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/dataset.hpp"
#include "kiln/error.hpp"
#include "kiln/file_io.hpp"

namespace kiln {

class DatasetFile {
public:
    // Reads config "filepath"; refuses arguments not in `known` (besides "filepath" and
    // "metadata"). `class_name` names the type in messages and describe().
    DatasetFile(const DatasetConfig& config, std::string_view class_name,
                std::initializer_list<std::string_view> known = {})
        : class_name_(class_name), dataset_name_(config.name), where_(config.where()) {
        if (!config.args.is_null() && !config.args.is_object())
            throw ConfigError(where_ + "arguments must be a JSON object, got " + config.args.dump());
        path_ = config.path_arg("filepath");
        given_ = config.string_arg("filepath");
        if (given_.empty()) throw ConfigError(where_ + "\"filepath\" is empty; give the file to read and write");
        if (config.args.is_object())
            for (const auto& item : config.args.items()) refuse_unknown(item.key(), known);
    }

    const std::filesystem::path& path() const { return path_; }
    const std::string& dataset_name() const { return dataset_name_; }
    const std::string& where() const { return where_; }  // config.where(), for ConfigErrors

    bool exists() const {
        std::error_code ec;
        return std::filesystem::is_regular_file(path_, ec);
    }
    std::string describe() const { return class_name_ + "(" + given_ + ")"; }  // "JsonDataset(data/x.json)"

    // Whole-file reads; a missing file, a directory, a FIFO or a device is a DatasetError
    // that says how to fix it.
    std::vector<std::byte> read_bytes() const {
        check_readable();
        return read_file_bytes(path_);
    }
    std::string read_text() const {
        check_readable();
        return read_file_text(path_);
    }

    // Atomic writes (temporary file + rename, see kiln/file_io.hpp).
    void write(std::span<const std::byte> bytes) const { write_file_atomic(path_, bytes); }
    void write(std::string_view text) const { write_file_atomic(path_, text); }

    // Errors about the file's contents or a value being saved.
    DatasetError load_error(std::string_view problem) const {  // "cannot load '<file>' (dataset '<name>'): ..."
        return DatasetError("cannot load '" + path_.string() + "' (dataset '" + dataset_name_ + "'): " +
                            std::string(problem));
    }
    DatasetError save_error(std::string_view problem) const {  // "cannot save '<file>' (dataset '<name>'): ..."
        return DatasetError("cannot save '" + path_.string() + "' (dataset '" + dataset_name_ + "'): " +
                            std::string(problem));
    }
    // A problem at a place in the file: "<file>:<position>: dataset '<name>': <problem>",
    // the form editors and terminals understand ("3:8" for line 3, column 8).
    DatasetError error_at(std::string_view position, std::string_view problem) const {
        return DatasetError(path_.string() + ":" + std::string(position) + ": dataset '" + dataset_name_ + "': " +
                            std::string(problem));
    }

private:
    void refuse_unknown(const std::string& key, std::initializer_list<std::string_view> known) const {
        if (key == "filepath" || key == "metadata") return;
        for (std::string_view k : known)
            if (k == key) return;
        std::string list = "\"filepath\"";
        for (std::string_view k : known) list += ", \"" + std::string(k) + "\"";
        throw ConfigError(where_ + "unknown argument \"" + key + "\"; " + class_name_ + " takes " + list);
    }

    void check_readable() const {
        namespace fs = std::filesystem;
        std::error_code ec;
        auto status = fs::status(path_, ec);
        // A missing file also sets ec; anything else (e.g. no permission) is reported as is.
        if (ec && status.type() != fs::file_type::not_found)
            throw load_error("cannot inspect the file: " + ec.message());
        if (!fs::exists(status))
            throw load_error("the file does not exist; create it, or run the node that produces this dataset first");
        if (fs::is_directory(status)) throw load_error("it is a directory, not a file; point \"filepath\" at a file");
        // Reading a FIFO could block forever, and a device may never end.
        if (!fs::is_regular_file(status))
            throw load_error("it is not a regular file (a FIFO, device or socket); point \"filepath\" at a file");
    }

    std::filesystem::path path_;
    std::string given_;
    std::string class_name_;
    std::string dataset_name_;
    std::string where_;
};

}  // namespace kiln
