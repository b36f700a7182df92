#include "dataset_file.hpp"

#include <kiln/file_io.hpp>

namespace kiln::datasets {

namespace fs = std::filesystem;

DatasetFile::DatasetFile(const DatasetConfig& config, std::string_view class_name,
                         std::initializer_list<std::string_view> known)
    : class_name_(class_name), dataset_name_(config.name), where_(config.where()) {
    if (!config.args.is_null() && !config.args.is_object())
        throw ConfigError(where_ + "arguments must be a JSON object, got " + config.args.dump());
    path_ = config.path_arg("filepath");
    given_ = config.string_arg("filepath");
    if (given_.empty()) throw ConfigError(where_ + "\"filepath\" is empty; give the file to read and write");
    if (config.args.is_object()) {
        for (const auto& item : config.args.items()) {
            const std::string& key = item.key();
            if (key == "filepath" || key == "metadata") continue;
            bool ok = false;
            for (std::string_view k : known) ok = ok || k == key;
            if (ok) continue;
            std::string list = "\"filepath\"";
            for (std::string_view k : known) list += ", \"" + std::string(k) + "\"";
            throw ConfigError(where_ + "unknown argument \"" + key + "\"; " + class_name_ + " takes " + list);
        }
    }
}

bool DatasetFile::exists() const {
    std::error_code ec;
    return fs::is_regular_file(path_, ec);
}

std::string DatasetFile::describe() const { return class_name_ + "(" + given_ + ")"; }

void DatasetFile::check_readable() const {
    std::error_code ec;
    auto status = fs::status(path_, ec);
    // A missing file also sets ec; anything else (e.g. no permission) is reported as is.
    if (ec && status.type() != fs::file_type::not_found) throw load_error("cannot inspect the file: " + ec.message());
    if (!fs::exists(status))
        throw load_error("the file does not exist; create it, or run the node that produces this dataset first");
    if (fs::is_directory(status)) throw load_error("it is a directory, not a file; point \"filepath\" at a file");
    // Reading a FIFO could block forever, and a device may never end.
    if (!fs::is_regular_file(status))
        throw load_error("it is not a regular file (a FIFO, device or socket); point \"filepath\" at a file");
}

std::vector<std::byte> DatasetFile::read_bytes() const {
    check_readable();
    return read_file_bytes(path_);
}

std::string DatasetFile::read_text() const {
    check_readable();
    return read_file_text(path_);
}

void DatasetFile::write(std::span<const std::byte> bytes) const { write_file_atomic(path_, bytes); }

void DatasetFile::write(std::string_view text) const { write_file_atomic(path_, text); }

DatasetError DatasetFile::load_error(std::string_view problem) const {
    return DatasetError("cannot load '" + path_.string() + "' (dataset '" + dataset_name_ +
                        "'): " + std::string(problem));
}

DatasetError DatasetFile::save_error(std::string_view problem) const {
    return DatasetError("cannot save '" + path_.string() + "' (dataset '" + dataset_name_ +
                        "'): " + std::string(problem));
}

DatasetError DatasetFile::error_at(std::string_view position, std::string_view problem) const {
    return DatasetError(path_.string() + ":" + std::string(position) + ": dataset '" + dataset_name_ +
                        "': " + std::string(problem));
}

}  // namespace kiln::datasets
