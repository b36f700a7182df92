// kiln.TextDataset: a text file as a "string" (the whole file, byte for byte) or as a
// "vector<string>" (its lines: split on '\n', one trailing newline dropped; saved with a
// '\n' after every line). Line contents are kept as they are, '\r' included.
//
//     "corpus": {"type": "kiln.TextDataset", "filepath": "data/01_raw/corpus.txt"}
//
// When no node fixes the value type, loads give a "string".
#pragma once

#include <kiln/dataset.hpp>

#include <kiln/dataset_file.hpp>

namespace kiln::datasets {

class TextDataset : public Dataset {
public:
    explicit TextDataset(const DatasetConfig& config);

    Value load() override;
    void save(const Value& value) override;
    bool exists() const override { return file_.exists(); }
    std::string describe() const override { return file_.describe(); }

private:
    DatasetFile file_;
    bool lines_ = false;  // vector<string> rather than string
};

}  // namespace kiln::datasets
