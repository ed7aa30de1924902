#pragma once
// Helpers for the keyfile tests: test keys, key collection, crafting export.bin/zip files.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sotto/core/diagnosis_key.hpp>
#include <sotto/keyfile/export_reader.hpp>
#include <sotto/keyfile/export_writer.hpp>

#include "keyfile/proto/export.pb.h"
#include "support.hpp"

namespace sotto::test::keyfile {

using namespace sotto::keyfile;

/// A fresh EC P-256 key pair as PEM (EVP_EC_gen).
struct TestKeyPair {
    std::string private_pem;
    std::string public_pem;
};
TestKeyPair generate_p256();
/// An EC key on another curve (P-384), and an Ed25519 key: must be refused.
TestKeyPair generate_p384();
TestKeyPair generate_ed25519();

/// A trust store with one bound key read from a PEM file.
TrustStore trust_from_file(const std::filesystem::path& pem, std::string id, std::string version);

/// Collects delivered keys.
struct Collected {
    std::vector<core::DiagnosisKey> keys;
    KeySink sink() {
        return [this](core::DiagnosisKey&& k) { keys.push_back(std::move(k)); };
    }
};

/// Hex of a key's TEK (test output only).
std::string tek_hex(const core::DiagnosisKey& k);

/// A DiagnosisKey from hex and fields.
core::DiagnosisKey make_key(std::string_view tek_hex, std::uint32_t start,
                            std::uint32_t period = 144, std::int32_t trl = 0,
                            core::ReportType rt = core::ReportType::kUnknown,
                            std::optional<std::int32_t> dsos = std::nullopt);

/// export.bin = header + serialized message.
std::vector<std::uint8_t> bin_of(const sotto::keyfile::pb::TemporaryExposureKeyExport& e);
/// export.bin = header + raw protobuf bytes.
std::vector<std::uint8_t> bin_of_raw(std::span<const std::uint8_t> protobuf);

/// A zip of the given entries (name, bytes), deflated.
std::vector<std::uint8_t> zip_of(
    const std::vector<std::pair<std::string, std::vector<std::uint8_t>>>& entries);
/// The bytes of one entry of a zip.
std::vector<std::uint8_t> unzip_entry(std::span<const std::uint8_t> zip, std::string_view name);

/// Signs `bin` with `signer` as a TEKSignatureList of one signature named (id, version), batch 1/1.
std::vector<std::uint8_t> sign_bin(std::span<const std::uint8_t> bin, const ExportSigner& signer,
                                   const std::string& id, const std::string& version,
                                   std::int32_t batch_num = 1, std::int32_t batch_size = 1,
                                   const std::string& algorithm = "1.2.840.10045.4.3.2");

/// A minimal valid export header (times, region "XX", batch 1/1, one SignatureInfo id/version).
sotto::keyfile::pb::TemporaryExposureKeyExport header(const std::string& id = "test",
                                                      const std::string& version = "v1");
/// Adds a valid key (16 bytes of `fill`, start 2690000, period 144, TRL 1) and returns it.
sotto::keyfile::pb::TemporaryExposureKey* add_valid_key(
    sotto::keyfile::pb::TemporaryExposureKeyExport& e, std::uint8_t fill);

}  // namespace sotto::test::keyfile
