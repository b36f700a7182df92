// The one error hierarchy of Kiln, rooted at kiln::Error. Each stage has its subclass;
// a message names the object (file, node, dataset), what went wrong and what to do.
#pragma once

#include "kiln/detail/require_cxx20.hpp"

#include <stdexcept>
#include <string>

namespace kiln {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class PluginError : public Error { public: using Error::Error; };        // loading, ABI, registration
class ConfigError : public Error { public: using Error::Error; };        // pipeline/catalog/parameters files, CLI
class PipelineError : public Error { public: using Error::Error; };      // pipeline structure
class TypeError : public Error { public: using Error::Error; };          // value types and codecs
class DatasetError : public Error { public: using Error::Error; };       // load/save/exists
class NodeError : public Error { public: using Error::Error; };          // a node function failed
class RunnerError : public Error { public: using Error::Error; };        // runner set-up and scheduling

}  // namespace kiln
