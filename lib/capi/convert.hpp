#pragma once
// C++ values -> C ABI structs.

#include <sotto/sotto.h>
#include <sotto/core/diagnosis_key.hpp>
#include <sotto/keyfile/export_reader.hpp>

namespace sotto::capi {

void to_c(const keyfile::ExportInfo& info, sotto_keyfile_info& out) noexcept;
void to_c(const core::DiagnosisKey& key, sotto_diagnosis_key& out) noexcept;

}  // namespace sotto::capi
