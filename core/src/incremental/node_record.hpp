// What `kiln run` remembers of a node that completed, for incremental runs: the parts of
// its fingerprint (its code, its parameters' values, its inputs) and the outputs it wrote.
// `kiln explain` compares these parts with the current ones.
#pragma once

#include <string>
#include <vector>

#include "incremental/content_hash.hpp"

namespace kiln::core {

struct InputPart {
    enum class Kind : char {
        file = 'f',       // a persisted dataset with a file: `ref` is its content hash ("" when missing)
        node = 'n',       // an in-memory value: `ref` is its producer's fingerprint, `path` the producer's name
        parameter = 'p',  // `ref` is the hash of its value, `shown` the value (shortened)
        preset = 'd',     // a MemoryDataset's "data" in the catalog: `ref` hashes it
        opaque = 'o',     // persisted without a file, made by no node: Kiln cannot tell if it changed
        replaced = 'r',   // a before_node_run hook gave the node another value: never current
    };
    std::string name;  // the dataset name the node reads
    Kind kind = Kind::file;
    std::string ref;
    std::string path;  // file: as the catalog names it, relative to the project when inside it
    FileStamp stamp;   // file: when `ref` was taken
    std::string shown;
    bool operator==(const InputPart&) const = default;
};

struct OutputPart {
    std::string name;
    std::string path;  // "" for an output with no file (in memory, or a dataset without a filepath)
    FileStamp stamp;
    std::string hash;  // content hash of the file when written
};

struct NodeRecord {
    std::string node;
    std::string fingerprint;  // hash of signature, code and inputs (node_fingerprint.hpp)
    std::string run_id;       // the run that wrote it
    std::string signature;    // "wc.count(lines: vec<str>, params:top: i64) -> counts: json"
    std::string code;         // "version 2", or "plugin libwc.so <content hash>"
    std::vector<InputPart> inputs;
    std::vector<OutputPart> outputs;
};

// The fingerprint of a record's signature, code and inputs.
std::string fingerprint_of(const NodeRecord& record);

}  // namespace kiln::core
