#pragma once
/// \file
/// The on-disk layout of a pins dataset shared by the writer and the reader: array names
/// and the mapping between DatasetInfo and the root attributes. Private to pins::core.

#include <string>
#include <vector>

#include "pins/core/dataset.hpp"

namespace pins::dataset_layout {

/// The solution array; the input arrays are named by DatasetInfo::inputs.
inline constexpr const char* kSolution = "u";
inline constexpr const char* kIterations = "iterations";  ///< [N] int32
inline constexpr const char* kResidual = "residual";      ///< [N] float64
inline constexpr const char* kSeeds = "seeds";            ///< [N, seed_streams] uint64

inline constexpr const char* kSamplerPrefix = "sampler.";

/// The root attributes for `info`, in the documented order (format first, versions last).
std::vector<Attribute> to_attributes(const DatasetInfo& info);

/// What format version 1 files (2-D Darcy, before families had their own inputs) hold.
inline const FieldSpec kVersion1Inputs[] = {{"kappa", 1}, {"f", 1}};

/// Rebuilds DatasetInfo from root attributes read from `path` (for error messages).
/// Throws pins::Error naming the file and the attribute if one is missing, has the wrong
/// kind or an impossible value, or if the file is not a pins dataset of a known version.
DatasetInfo from_attributes(const std::vector<Attribute>& attributes, const std::string& path);

}  // namespace pins::dataset_layout
