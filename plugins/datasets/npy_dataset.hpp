// kiln.NpyDataset: a numeric array as a NumPy .npy file, for kiln::Tensor<T> (any rank) and
// std::vector<T> (rank 1) with T one of f32, f64, i8, i16, i32, i64, u8, u16, u32, u64.
//
//     "embeddings": {"type": "kiln.NpyDataset", "filepath": "data/04_feature/emb.npy"}
//
// Writes format version 1.0, little-endian, C order, data aligned to 64 bytes, as
// numpy.save does; reads versions 1.0 to 3.0. The file's dtype must match the element
// type exactly (no silent conversion). When no node fixes the value type, loads give a
// tensor of the file's dtype.
#pragma once

#include <kiln/dataset.hpp>

#include <kiln/dataset_file.hpp>

namespace kiln::datasets {

class NpyDataset : public Dataset {
public:
    explicit NpyDataset(const DatasetConfig& config);

    Value load() override;
    void save(const Value& value) override;
    bool exists() const override { return file_.exists(); }
    std::string describe() const override { return file_.describe(); }

private:
    DatasetFile file_;
    const TypeOps* type_;
    bool vector_ = false;  // std::vector<T> rather than kiln::Tensor<T>
    std::string element_;  // "f64"...; empty when the value type is unknown
};

}  // namespace kiln::datasets
