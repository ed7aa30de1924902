#pragma once
// The structs behind the C ABI's opaque handles (C++ types, never seen by C).

#include <vector>

#include <sotto/core/diagnosis_key.hpp>
#include <sotto/keyfile/export_reader.hpp>
#include <sotto/keyfile/trust_store.hpp>

struct sotto_trust_store {
    sotto::keyfile::TrustStore store;
};

struct sotto_keyfile {
    sotto::keyfile::ExportInfo info;
    std::vector<sotto::core::DiagnosisKey> keys;
};
