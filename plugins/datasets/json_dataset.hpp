// kiln.JsonDataset: one value as a JSON file, for any value type whose codec has a JSON
// form (numbers, strings, vectors, nlohmann::json, tensors, user types with to_json).
//
//     "scores": {"type": "kiln.JsonDataset", "filepath": "data/scores.json", "indent": 2}
//
// "indent": spaces per level, -1 for one line (default 2). When no node fixes the value
// type, loads give "json" values.
#pragma once

#include <kiln/dataset.hpp>

#include <kiln/dataset_file.hpp>

namespace kiln::datasets {

class JsonDataset : public Dataset {
public:
    explicit JsonDataset(const DatasetConfig& config);

    Value load() override;
    void save(const Value& value) override;
    bool exists() const override { return file_.exists(); }
    std::string describe() const override { return file_.describe(); }

private:
    DatasetFile file_;
    const TypeOps* type_;
    int indent_ = 2;
};

}  // namespace kiln::datasets
