#pragma once
/// \file
/// The on-disk layout of a pins dataset shared by the writer and the reader: array names
/// and the mapping between DatasetInfo and the root attributes. Private to pins::core.

#include <string>
#include <vector>

#include "pins/core/dataset.hpp"

namespace pins::dataset_layout {

/// The [N, ny, nx] float64 field arrays, in the order they are written.
inline const char* const kFieldArrays[] = {"kappa", "f", "u"};
inline constexpr const char* kIterations = "iterations";  ///< [N] int32
inline constexpr const char* kResidual = "residual";      ///< [N] float64
inline constexpr const char* kSeeds = "seeds";            ///< [N, 2] uint64
inline constexpr int kSeedColumns = 2;

inline constexpr const char* kSamplerPrefix = "sampler.";

/// The root attributes for `info`, in the documented order (format first, versions last).
std::vector<Attribute> to_attributes(const DatasetInfo& info);

/// Rebuilds DatasetInfo from root attributes read from `path` (for error messages).
/// Throws pins::Error naming the file and the attribute if one is missing, has the wrong
/// kind or an impossible value, or if the file is not a pins dataset of a known version.
DatasetInfo from_attributes(const std::vector<Attribute>& attributes, const std::string& path);

}  // namespace pins::dataset_layout
