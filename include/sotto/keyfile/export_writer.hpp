#pragma once
/// \file
/// Writing signed GAEN export files: the key-server (publisher) side. Used by tests, the demo
/// and `sotto export build`.
///
/// The output follows Google's reference server: export.bin = "EK Export v1    " + a
/// TemporaryExposureKeyExport with keys sorted by key_data, export.sig = a TEKSignatureList with
/// one ECDSA P-256 / SHA-256 signature over all of export.bin, both deflated into a zip with the
/// entries `export.bin` and `export.sig`.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sotto/core/diagnosis_key.hpp>
#include <sotto/core/rng.hpp>
#include <sotto/result.hpp>

namespace sotto::keyfile {

/// An EC P-256 private key that signs export files. Valid once constructed; move-only; the key
/// lives in OpenSSL memory and is freed (and cleansed by OpenSSL) with the object.
class ExportSigner {
public:
    /// Parses a PEM private key (`BEGIN PRIVATE KEY` PKCS#8 or `BEGIN EC PRIVATE KEY`), not
    /// encrypted. kInvalidArgument unless it is an EC P-256 private key.
    static Result<ExportSigner> from_pem(std::string_view pem);

    /// A fresh EC P-256 key pair from OpenSSL's CSPRNG (for tests, demos and new deployments; a
    /// health authority keeps its key in an HSM and loads it with `from_pem`).
    static Result<ExportSigner> generate();

    ~ExportSigner();
    ExportSigner(ExportSigner&&) noexcept;
    ExportSigner& operator=(ExportSigner&&) noexcept;
    ExportSigner(const ExportSigner&) = delete;
    ExportSigner& operator=(const ExportSigner&) = delete;

    /// The matching public key as PEM SubjectPublicKeyInfo, for a `TrustStore`.
    Result<std::string> public_key_pem() const;

    /// ASN.1 DER ECDSA signature (70-72 bytes) of a SHA-256 digest.
    Result<std::vector<std::uint8_t>> sign_digest(std::span<const std::uint8_t, 32> digest) const;

private:
    struct Impl;
    explicit ExportSigner(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
};

/// What goes into the file besides the keys.
struct ExportWriteOptions {
    std::string key_id;                 ///< verification_key_id, [A-Za-z0-9_]{1,64}, e.g. "262"
    std::string key_version;            ///< verification_key_version, [A-Za-z0-9_]{1,64}, e.g. "v1"
    std::string region;                 ///< e.g. "DE"; up to 64 bytes; may be empty (then omitted)
    std::uint64_t start_timestamp = 0;  ///< UTC seconds; must be <= end_timestamp
    std::uint64_t end_timestamp = 0;
    std::int32_t batch_num = 1;   ///< 1..batch_size
    std::int32_t batch_size = 1;  ///< >= 1
    /// Number of random fake keys added to hide the real count (Google's server pads small
    /// files). Each copies rolling start, period, transmission risk, report type and days since
    /// onset from a randomly chosen real key and gets 16 random key bytes, so it looks like a real
    /// key; with no real keys it gets a UTC-midnight start within the 14 days before
    /// `end_timestamp`, period 144, risk level 1..8 and CONFIRMED_TEST.
    std::uint32_t padding_keys = 0;
    /// Google's server omits rolling_period when it is 144 (readers default to 144); CWA writes
    /// it always. Default: omit, like Google.
    bool always_write_rolling_period = false;
};

/// The two files of an export, in memory.
struct ExportFiles {
    std::vector<std::uint8_t> export_bin;
    std::vector<std::uint8_t> export_sig;
};

/// Builds and signs export.bin and export.sig. Keys are validated with the reader's rules
/// (kInvalidArgument for an invalid key or option) and written sorted by key_data (memcmp
/// order), padding included. `rng` supplies the padding keys and the choices around them.
/// Report type UNKNOWN and absent days-since-onset are omitted.
Result<ExportFiles> build_export(std::span<const core::DiagnosisKey> keys,
                                 const ExportSigner& signer, const ExportWriteOptions& options,
                                 core::Rng& rng);

/// Zips the two files (deflate, fixed 1980-01-01 timestamps, entries `export.bin` then
/// `export.sig`). An empty `export_sig` is left out (an unsigned zip, for tests).
Result<std::vector<std::uint8_t>> zip_export(const ExportFiles& files);

/// `build_export` + `zip_export`, written to `path` through a temporary file in the same
/// directory that is renamed over `path` (readers never see a half-written zip).
/// kKeyFileIo when the file cannot be written.
Result<void> write_export_zip(const std::filesystem::path& path,
                              std::span<const core::DiagnosisKey> keys, const ExportSigner& signer,
                              const ExportWriteOptions& options, core::Rng& rng);

}  // namespace sotto::keyfile
