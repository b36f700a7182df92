// kiln.BinaryDataset: one value of any type with a codec, in the codec's bytes.
//
//     "model": {"type": "kiln.BinaryDataset", "filepath": "data/06_models/model.bin"}
//
// File layout (integers little-endian):
//     "KILNBIN1" | u32 type-name length | type name | u64 payload length | payload
// The type name is checked on load, so a file written for one type is never decoded as
// another.
#pragma once

#include <kiln/dataset.hpp>

#include <kiln/dataset_file.hpp>

namespace kiln::datasets {

class BinaryDataset : public Dataset {
public:
    explicit BinaryDataset(const DatasetConfig& config);

    Value load() override;
    void save(const Value& value) override;
    bool exists() const override { return file_.exists(); }
    std::string describe() const override { return file_.describe(); }

private:
    DatasetFile file_;
    const TypeOps* type_;
};

}  // namespace kiln::datasets
