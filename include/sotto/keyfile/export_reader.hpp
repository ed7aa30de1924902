#pragma once
/// \file
/// Streaming reader of GAEN diagnosis-key files: export.zip (export.bin + export.sig), or the
/// loose export.bin / export.sig pair.
///
/// **When keys are trustworthy.** Keys are handed to the `KeySink` one by one *while* export.bin
/// is decompressed, parsed and hashed, so memory does not grow with the number of keys. The
/// signature covers all of export.bin, so it can only be checked after the last key. Therefore:
///
///   * with `VerifyMode::kRequireSignature`, every key the sink received is a **candidate**
///     until the call returns. Only a successful return (`ExportInfo::verified == true`) makes
///     them trustworthy; on any error the caller must discard everything the sink received
///     (e.g. the matcher keeps matches of this file pending and reports them only on success);
///   * with `VerifyMode::kRequireSignatureFirst`, the file is read twice: the keys are delivered
///     only after the signature verified, and the second pass is hashed again and must give the
///     same digest. Costs a second decompression and parse; for sinks that cannot roll back.
///     The rule above still holds (the call can still fail after delivery if the file changed
///     on disk between the passes);
///   * with `VerifyMode::kParseOnly` the file is never refused on signature grounds; the result
///     says what the signature check found (`signature_status`). For inspection tools, fuzzing
///     and unsigned files (Immuni export.bin). Never match against keys read this way unless
///     `verified` is true.
///
/// See docs/keyfile.md for the format, the validation rules and the limits.

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sotto/core/diagnosis_key.hpp>
#include <sotto/keyfile/trust_store.hpp>
#include <sotto/result.hpp>

namespace sotto::keyfile {

/// The 16 bytes every export.bin starts with.
inline constexpr std::string_view kExportBinHeader = "EK Export v1    ";
/// OID of ECDSA with SHA-256, the only signature algorithm GAEN uses (with curve P-256).
inline constexpr std::string_view kEcdsaWithSha256Oid = "1.2.840.10045.4.3.2";
/// Entry names inside export.zip.
inline constexpr std::string_view kExportBinName = "export.bin";
inline constexpr std::string_view kExportSigName = "export.sig";

/// How the signature is enforced. See the file comment.
enum class VerifyMode : std::uint8_t {
    kRequireSignature,       ///< one pass; fail unless verified; keys are candidates until success
    kRequireSignatureFirst,  ///< two passes; keys delivered only after the signature verified
    kParseOnly,              ///< never refuse on signature grounds; report the status
};

/// Limits and delivery policy. The defaults suit real GAEN files (Apple: <= 16 MB per zip,
/// <= 750,000 keys; a 1,000,000-key export.bin is about 28-31 MB).
struct ReadOptions {
    /// Largest export.bin accepted, uncompressed: checked against the size the zip declares and
    /// against the bytes actually read. kKeyFileTooLarge beyond. At most 1 GiB.
    std::uint64_t max_export_bin_bytes = std::uint64_t{32} << 20;
    /// Largest export.sig accepted. kKeyFileTooLarge beyond.
    std::uint64_t max_export_sig_bytes = std::uint64_t{64} << 10;
    /// Largest uncompressed/compressed ratio of export.bin inside a zip, checked when the entry
    /// declares more than `ratio_check_min_bytes`. Real files compress about 1.6:1 (TEKs are
    /// random); zip bombs about 1000:1. kKeyFileTooLarge beyond.
    std::uint32_t max_compression_ratio = 100;
    std::uint64_t ratio_check_min_bytes = std::uint64_t{1} << 20;
    /// Deliver valid keys of `revised_keys` (field 8) too. They are counted either way.
    bool deliver_revised_keys = false;
    /// Deliver valid keys whose report_type is REVOKED (5). Off: they are counted in
    /// `ExportInfo::keys_revoked` and skipped, so a matcher that ignores report_type cannot match
    /// a revoked key.
    bool deliver_revoked_keys = false;
};

/// Why a key was skipped. Every invalid key is counted under exactly one reason (the first rule
/// it breaks, in this order) and never delivered.
enum class InvalidKeyReason : std::uint8_t {
    kKeyDataMissing = 0,     ///< no key_data
    kKeyDataLength,          ///< key_data is not 16 bytes
    kRollingStartMissing,    ///< no rolling_start_interval_number
    kRollingStartRange,      ///< rolling_start_interval_number <= 0
    kRollingPeriodRange,     ///< rolling_period outside 1..144 (absent means 144)
    kRollingEndOverflow,     ///< rolling_start + rolling_period exceeds INT32_MAX
    kTransmissionRiskLevel,  ///< transmission_risk_level outside 0..8
    kReportType,             ///< report_type outside the known enum 0..5
    kDaysSinceOnset,         ///< days_since_onset_of_symptoms outside -14..14
};
inline constexpr std::size_t kInvalidKeyReasonCount = 9;

/// Short static description of a reason ("key_data is not 16 bytes").
const char* invalid_key_reason_name(InvalidKeyReason reason) noexcept;

/// The reader's validation rules applied to a key (e.g. before writing it): the first rule it
/// breaks, or nothing when it is valid. A `DiagnosisKey` always has key data and a start, so
/// only the range rules can fail.
std::optional<InvalidKeyReason> check_key(const core::DiagnosisKey& key) noexcept;

/// Outcome of the signature check.
enum class SignatureStatus : std::uint8_t {
    kVerified = 0,  ///< a signature verified with a trusted key; no trusted key failed
    kUnsigned,      ///< no export.sig, or it holds no signature (kUnsigned)
    kUntrustedKey,  ///< no signature names a key of the trust store (kUntrustedKey)
    kBadSignature,  ///< a trusted key did not verify, or an unsupported algorithm
                    ///< (kAuthenticationFailed)
    kMalformed,     ///< export.sig unreadable, or its signatures do not match export.bin
                    ///< (count vs signature_infos, batch_num/batch_size) (kKeyFileMalformed)
};

/// Short static name of a status ("verified", "unsigned", ...).
const char* signature_status_name(SignatureStatus status) noexcept;

/// A SignatureInfo: which key signed, with which algorithm. Absent fields are empty strings.
struct SignatureInfo {
    std::string key_id;       ///< verification_key_id, e.g. "262"
    std::string key_version;  ///< verification_key_version, e.g. "v1"
    std::string algorithm;    ///< signature_algorithm OID, e.g. "1.2.840.10045.4.3.2"
};

/// Everything the file says besides its keys, the key counts and the signature verdict.
struct ExportInfo {
    std::optional<std::uint64_t> start_timestamp;  ///< UTC seconds
    std::optional<std::uint64_t> end_timestamp;    ///< UTC seconds
    std::string region;                            ///< e.g. "DE"; empty when absent
    std::optional<std::int32_t> batch_num;
    std::optional<std::int32_t> batch_size;
    std::vector<SignatureInfo> signature_infos;  ///< from export.bin (covered by the signature)
    std::vector<SignatureInfo> signatures;       ///< from export.sig, one per TEKSignature

    std::uint64_t keys_valid = 0;          ///< valid keys in `keys` (field 7), revoked included
    std::uint64_t revised_keys_valid = 0;  ///< valid keys in `revised_keys` (field 8)
    std::uint64_t keys_revoked = 0;        ///< valid keys (either list) with report_type REVOKED
    std::uint64_t keys_delivered = 0;      ///< keys handed to the sink
    std::uint64_t keys_invalid = 0;        ///< invalid keys (either list), skipped
    /// `keys_invalid` split by reason, indexed by `InvalidKeyReason`.
    std::array<std::uint64_t, kInvalidKeyReasonCount> invalid_by_reason{};

    std::uint64_t export_bin_bytes = 0;                ///< size of export.bin, header included
    std::array<std::uint8_t, 32> export_bin_sha256{};  ///< SHA-256 of export.bin (what is signed)

    /// True only when `signature_status == kVerified`.
    bool verified = false;
    SignatureStatus signature_status = SignatureStatus::kUnsigned;
    /// The error `kRequireSignature` fails with; empty when verified.
    std::optional<Error> signature_error;
    /// Name of the key that verified, as the signature gave it (may be empty for a signature that
    /// named no key and verified with an any-id or single configured key).
    std::string verified_key_id;
    std::string verified_key_version;

    /// Invalid keys for one reason.
    std::uint64_t invalid(InvalidKeyReason r) const noexcept {
        return invalid_by_reason[static_cast<std::size_t>(r)];
    }
    /// Lowercase hex of `export_bin_sha256`: a stable identifier of the file's content (the zip
    /// around it may differ), e.g. for "already imported" checks.
    std::string export_bin_sha256_hex() const;
};

/// Receives keys one by one, in file order, on the calling thread. May be empty (keys are then
/// only counted). It must not throw. See the file comment for when the keys may be trusted.
using KeySink = std::function<void(core::DiagnosisKey&&)>;

/// Reads an export.zip from disk. The zip must hold `export.bin` and at most `export.sig`
/// besides (no other entries; names are case-sensitive; stored or deflated; not encrypted).
///
/// Errors: kKeyFileIo (cannot open/read), kKeyFileMalformed (not a zip, wrong entries, bad
/// header, protobuf error, truncation, signature mismatch), kKeyFileTooLarge (limits),
/// kUnsigned / kUntrustedKey / kAuthenticationFailed (signature, unless kParseOnly),
/// kInvalidArgument (bad options).
Result<ExportInfo> read_export_zip(const std::filesystem::path& zip, const TrustStore& trust,
                                   VerifyMode mode, const KeySink& sink,
                                   const ReadOptions& options = {});

/// Reads an export.zip held in memory. Same contract. The bytes must stay valid during the call.
Result<ExportInfo> read_export_zip(std::span<const std::uint8_t> zip, const TrustStore& trust,
                                   VerifyMode mode, const KeySink& sink,
                                   const ReadOptions& options = {});

/// Reads a loose export.bin with its export.sig (as some servers and archives publish them).
/// A missing `sig` file means the export is unsigned (kUnsigned unless kParseOnly).
Result<ExportInfo> read_export_pair(const std::filesystem::path& bin,
                                    const std::filesystem::path& sig, const TrustStore& trust,
                                    VerifyMode mode, const KeySink& sink,
                                    const ReadOptions& options = {});

/// In-memory export.bin and export.sig. An empty `sig` means unsigned.
Result<ExportInfo> read_export_pair(std::span<const std::uint8_t> bin,
                                    std::span<const std::uint8_t> sig, const TrustStore& trust,
                                    VerifyMode mode, const KeySink& sink,
                                    const ReadOptions& options = {});

/// How a path names a key file.
struct ExportLocation {
    enum class Kind : std::uint8_t { kZip, kPair } kind = Kind::kZip;
    std::filesystem::path bin;  ///< the zip, or the loose export.bin
    std::filesystem::path sig;  ///< for kPair: the export.sig beside it (may not exist)
};

/// Classifies `path`: a directory holding export.bin + export.sig; a file starting with the
/// export.bin header (its signature is the same name with extension .sig); anything else is
/// read as a zip. Reads at most 16 bytes.
ExportLocation locate_export(const std::filesystem::path& path);

/// `read_export_zip` or `read_export_pair`, as `locate_export(path)` says.
Result<ExportInfo> read_export_file(const std::filesystem::path& path, const TrustStore& trust,
                                    VerifyMode mode, const KeySink& sink,
                                    const ReadOptions& options = {});

/// True when `code` (from the readers above) refuses the file's bytes for what they are: a bad,
/// missing or untrusted signature, a damaged or oversized export. Reading the same bytes with
/// the same trust store and limits fails the same way again, so a downloader may drop them
/// (`fetch::Downloader::mark_refused`). False for failures that may pass next time: I/O,
/// out of memory, a crypto-library failure, a bug.
constexpr bool refuses_content(ErrorCode code) noexcept {
    return code == ErrorCode::kAuthenticationFailed || code == ErrorCode::kUntrustedKey ||
           code == ErrorCode::kUnsigned || code == ErrorCode::kKeyFileMalformed ||
           code == ErrorCode::kKeyFileTooLarge;
}

}  // namespace sotto::keyfile
