// A dataset type written in a file that includes only <kiln/sdk.hpp> (the node header):
// the first error must say kiln::Dataset is incomplete and point at the line naming the
// header to include.
#include <kiln/sdk.hpp>

class LinesDataset : public kiln::Dataset {
public:
    explicit LinesDataset(const kiln::DatasetConfig&) {}
};

KILN_PLUGIN(compile_fail) { reg.dataset<LinesDataset>("LinesDataset"); }
