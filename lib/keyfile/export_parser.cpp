#include "keyfile/export_parser.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>
#include <openssl/evp.h>

#include <cstring>
#include <limits>
#include <memory>

#include "keyfile/key_rules.hpp"
#include "keyfile/proto/export.pb.h"

namespace sotto::keyfile::detail {

namespace {

namespace io = google::protobuf::io;
using WFL = google::protobuf::internal::WireFormatLite;

// Chunk size of the reads from the (decompressing) source into protobuf's buffer.
constexpr int kChunkBytes = 64 * 1024;
// Header strings and SignatureInfo are tiny in every real file; refuse absurd ones.
constexpr int kMaxHeaderStringBytes = 256;
constexpr int kMaxSignatureInfoBytes = 4096;
constexpr std::size_t kMaxSignatureInfos = 16;

constexpr std::uint32_t tag(int field, WFL::WireType type) { return WFL::MakeTag(field, type); }

using Export = pb::TemporaryExposureKeyExport;
using Key = pb::TemporaryExposureKey;
using SigInfo = pb::SignatureInfo;

/// Feeds protobuf from a ByteSource while hashing every byte and enforcing the size limit.
/// protobuf sees a failed read as the end of the stream, so the error is kept here and checked
/// by the parser after every step that may have hit it.
class HashingStream final : public io::CopyingInputStream {
public:
    HashingStream(ByteSource& src, std::uint64_t max_bytes, EVP_MD_CTX* sha)
        : src_(src), max_(max_bytes), sha_(sha) {}

    int Read(void* buffer, int size) override {
        if (failed_) return -1;
        auto n = src_.read({static_cast<std::uint8_t*>(buffer), static_cast<std::size_t>(size)});
        if (!n) return fail(n.error());
        if (*n == 0) {
            at_end_ = true;
            return 0;
        }
        total_ += *n;
        if (total_ > max_)
            return fail({ErrorCode::kKeyFileTooLarge, "export.bin: larger than the limit"});
        if (EVP_DigestUpdate(sha_, buffer, *n) != 1)
            return fail({ErrorCode::kCryptoFailure, "export.bin: SHA-256 failed"});
        return static_cast<int>(*n);
    }

    bool failed() const noexcept { return failed_; }
    const Error& error() const noexcept { return error_; }
    bool at_end() const noexcept { return at_end_; }
    std::uint64_t total() const noexcept { return total_; }

private:
    int fail(Error e) {
        failed_ = true;
        error_ = e;
        return -1;
    }

    ByteSource& src_;
    std::uint64_t max_;
    EVP_MD_CTX* sha_;
    std::uint64_t total_ = 0;
    bool failed_ = false;
    bool at_end_ = false;
    Error error_{};
};

struct Parser {
    io::CodedInputStream& in;
    const HashingStream& stream;
    std::uint64_t size;  // declared size of export.bin
    const ReadOptions& options;
    const KeySink* sink;
    ExportInfo& info;

    Unexpected<Error> malformed(const char* what) const {
        // A read error or the size limit surfaces to protobuf as a premature end: report it.
        if (stream.failed()) return {stream.error()};
        return make_error(ErrorCode::kKeyFileMalformed, what);
    }

    // Reads a length prefix and checks it against what is left of export.bin and of the
    // enclosing message, so that no absurd length reaches an allocation or a long skip.
    Result<int> length() {
        int n = 0;
        if (!in.ReadVarintSizeAsInt(&n)) return malformed("export.bin: bad length varint");
        const auto pos = static_cast<std::uint64_t>(in.CurrentPosition());
        if (pos > size || static_cast<std::uint64_t>(n) > size - pos)
            return malformed("export.bin: length beyond the end of the file");
        const int until_limit = in.BytesUntilLimit();
        if (until_limit >= 0 && n > until_limit)
            return malformed("export.bin: length beyond the enclosing message");
        return n;
    }

    Result<void> read_string(std::string& out, int max_bytes, const char* too_long) {
        auto n = length();
        if (!n) return n.error();
        if (*n > max_bytes) return make_error(ErrorCode::kKeyFileMalformed, too_long);
        if (!in.ReadString(&out, *n)) return malformed("export.bin: truncated string");
        return ok();
    }

    Result<void> signature_info() {
        if (info.signature_infos.size() >= kMaxSignatureInfos)
            return make_error(ErrorCode::kKeyFileMalformed, "export.bin: too many signature_infos");
        auto n = length();
        if (!n) return n.error();
        if (*n > kMaxSignatureInfoBytes)
            return make_error(ErrorCode::kKeyFileMalformed, "export.bin: SignatureInfo too long");
        std::string bytes;
        if (!in.ReadString(&bytes, *n)) return malformed("export.bin: truncated SignatureInfo");
        // Unknown and reserved fields (1 app_bundle_id, 2 android_package) are skipped.
        SigInfo si;
        if (!si.ParseFromString(bytes)) return malformed("export.bin: bad SignatureInfo");
        info.signature_infos.push_back(
            {si.verification_key_id(), si.verification_key_version(), si.signature_algorithm()});
        return ok();
    }

    // One TemporaryExposureKey submessage, parsed in place: no allocation per key.
    Result<void> key(bool revised) {
        auto n = length();
        if (!n) return n.error();
        const auto limit = in.PushLimit(*n);
        core::DiagnosisKey dk;
        KeyFields f;
        for (;;) {
            const std::uint32_t t = in.ReadTag();
            if (t == 0) break;
            switch (t) {
                case tag(Key::kKeyDataFieldNumber, WFL::WIRETYPE_LENGTH_DELIMITED): {
                    auto len = length();
                    if (!len) return len.error();
                    f.has_key_data = true;
                    f.key_data_length = static_cast<std::uint32_t>(*len);
                    const bool ok =
                        *len == static_cast<int>(core::kTekBytes)
                            ? in.ReadRaw(dk.exposure_key.tek.expose_secret_mut().data(), *len)
                            : in.Skip(*len);
                    if (!ok) return malformed("export.bin: truncated key_data");
                    break;
                }
                case tag(Key::kTransmissionRiskLevelFieldNumber, WFL::WIRETYPE_VARINT):
                    if (!varint32(f.transmission_risk_level))
                        return malformed("export.bin: bad varint");
                    f.has_transmission_risk_level = true;
                    break;
                case tag(Key::kRollingStartIntervalNumberFieldNumber, WFL::WIRETYPE_VARINT):
                    if (!varint32(f.rolling_start)) return malformed("export.bin: bad varint");
                    f.has_rolling_start = true;
                    break;
                case tag(Key::kRollingPeriodFieldNumber, WFL::WIRETYPE_VARINT):
                    if (!varint32(f.rolling_period)) return malformed("export.bin: bad varint");
                    f.has_rolling_period = true;
                    break;
                case tag(Key::kReportTypeFieldNumber, WFL::WIRETYPE_VARINT):
                    if (!varint32(f.report_type)) return malformed("export.bin: bad varint");
                    f.has_report_type = true;
                    break;
                case tag(Key::kDaysSinceOnsetOfSymptomsFieldNumber, WFL::WIRETYPE_VARINT): {
                    std::uint32_t v = 0;
                    if (!in.ReadVarint32(&v)) return malformed("export.bin: bad varint");
                    f.days_since_onset = WFL::ZigZagDecode32(v);  // sint32
                    f.has_days_since_onset = true;
                    break;
                }
                default:
                    // Unknown fields (variant_of_concern, future fields) and known fields with an
                    // unexpected wire type are skipped, as protobuf itself does.
                    if (!skip(t)) return malformed("export.bin: bad field in TemporaryExposureKey");
            }
        }
        if (!in.ConsumedEntireMessage()) return malformed("export.bin: bad TemporaryExposureKey");
        in.PopLimit(limit);

        if (auto reason = check_key_fields(f)) {
            ++info.keys_invalid;
            ++info.invalid_by_reason[static_cast<std::size_t>(*reason)];
            return ok();
        }
        dk.exposure_key.rolling_start = static_cast<core::IntervalNumber>(f.rolling_start);
        dk.exposure_key.rolling_period = f.has_rolling_period
                                             ? static_cast<std::uint32_t>(f.rolling_period)
                                             : core::kTekRollingPeriod;
        dk.transmission_risk_level = f.transmission_risk_level;
        dk.report_type = static_cast<core::ReportType>(f.report_type);
        if (f.has_days_since_onset) dk.days_since_onset = f.days_since_onset;

        revised ? ++info.revised_keys_valid : ++info.keys_valid;
        const bool revoked = dk.report_type == core::ReportType::kRevoked;
        if (revoked) ++info.keys_revoked;
        if (revised && !options.deliver_revised_keys) return ok();
        if (revoked && !options.deliver_revoked_keys) return ok();
        ++info.keys_delivered;
        if (sink != nullptr && *sink) (*sink)(std::move(dk));
        return ok();
    }

    bool varint32(std::int32_t& out) {
        std::uint32_t v = 0;
        if (!in.ReadVarint32(&v)) return false;
        out = static_cast<std::int32_t>(v);  // int32 fields: negative values are 10-byte varints
        return true;
    }

    bool skip(std::uint32_t t) {
        if (WFL::GetTagFieldNumber(t) == 0) return false;  // field number 0 is never valid
        if (WFL::GetTagWireType(t) == WFL::WIRETYPE_LENGTH_DELIMITED) {
            auto n = length();
            return n && in.Skip(*n);
        }
        return WFL::SkipField(&in, t);
    }

    Result<void> top_level() {
        for (;;) {
            const std::uint32_t t = in.ReadTag();
            if (t == 0) break;
            switch (t) {
                case tag(Export::kStartTimestampFieldNumber, WFL::WIRETYPE_FIXED64): {
                    std::uint64_t v = 0;
                    if (!in.ReadLittleEndian64(&v))
                        return malformed("export.bin: truncated timestamp");
                    info.start_timestamp = v;
                    break;
                }
                case tag(Export::kEndTimestampFieldNumber, WFL::WIRETYPE_FIXED64): {
                    std::uint64_t v = 0;
                    if (!in.ReadLittleEndian64(&v))
                        return malformed("export.bin: truncated timestamp");
                    info.end_timestamp = v;
                    break;
                }
                case tag(Export::kRegionFieldNumber, WFL::WIRETYPE_LENGTH_DELIMITED):
                    if (auto r = read_string(info.region, kMaxHeaderStringBytes,
                                             "export.bin: region too long");
                        !r)
                        return r;
                    break;
                case tag(Export::kBatchNumFieldNumber, WFL::WIRETYPE_VARINT): {
                    std::int32_t v = 0;
                    if (!varint32(v)) return malformed("export.bin: bad varint");
                    info.batch_num = v;
                    break;
                }
                case tag(Export::kBatchSizeFieldNumber, WFL::WIRETYPE_VARINT): {
                    std::int32_t v = 0;
                    if (!varint32(v)) return malformed("export.bin: bad varint");
                    info.batch_size = v;
                    break;
                }
                case tag(Export::kSignatureInfosFieldNumber, WFL::WIRETYPE_LENGTH_DELIMITED):
                    if (auto r = signature_info(); !r) return r;
                    break;
                case tag(Export::kKeysFieldNumber, WFL::WIRETYPE_LENGTH_DELIMITED):
                    if (auto r = key(false); !r) return r;
                    break;
                case tag(Export::kRevisedKeysFieldNumber, WFL::WIRETYPE_LENGTH_DELIMITED):
                    if (auto r = key(true); !r) return r;
                    break;
                default:
                    if (!skip(t))
                        return malformed("export.bin: bad field in TemporaryExposureKeyExport");
            }
        }
        // ReadTag() returns 0 both at the clean end of the input and on a bad tag (a 0 byte, a
        // broken varint); only the first is a legitimate end.
        if (!in.ConsumedEntireMessage()) return malformed("export.bin: bad field tag");
        return ok();
    }
};

}  // namespace

Result<void> parse_export_bin(ByteSource& source, std::uint64_t size, const ReadOptions& options,
                              const KeySink* sink, ExportInfo& info) {
    if (size > options.max_export_bin_bytes)
        return make_error(ErrorCode::kKeyFileTooLarge, "export.bin: larger than the limit");
    if (size < kExportBinHeader.size())
        return make_error(ErrorCode::kKeyFileMalformed, "export.bin: shorter than its header");

    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> sha(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!sha || EVP_DigestInit_ex(sha.get(), EVP_sha256(), nullptr) != 1)
        return make_error(ErrorCode::kCryptoFailure, "export.bin: SHA-256 failed");

    HashingStream hashing(source, options.max_export_bin_bytes, sha.get());
    {
        io::CopyingInputStreamAdaptor adaptor(&hashing, kChunkBytes);
        io::CodedInputStream in(&adaptor);
        // CodedInputStream counts in int; the caller's limit is at most 1 GiB.
        in.SetTotalBytesLimit(std::numeric_limits<int>::max());

        char header[kExportBinHeader.size()];
        if (!in.ReadRaw(header, static_cast<int>(sizeof header))) {
            if (hashing.failed()) return hashing.error();
            return make_error(ErrorCode::kKeyFileMalformed, "export.bin: shorter than its header");
        }
        if (std::memcmp(header, kExportBinHeader.data(), sizeof header) != 0)
            return make_error(ErrorCode::kKeyFileMalformed, "export.bin: bad header");

        Parser p{in, hashing, size, options, sink, info};
        if (auto r = p.top_level(); !r) return r;
    }
    // The parser stops at protobuf's end of input, which a failed read also produces.
    if (hashing.failed()) return hashing.error();
    if (!hashing.at_end())
        return make_error(ErrorCode::kInternal, "export.bin: parser stopped before the end");
    if (hashing.total() != size)
        return make_error(ErrorCode::kKeyFileMalformed, "export.bin: size differs from declared");

    if (info.batch_size && *info.batch_size < 1)
        return make_error(ErrorCode::kKeyFileMalformed, "export.bin: batch_size < 1");
    if (info.batch_num && (*info.batch_num < 1 || *info.batch_num > info.batch_size.value_or(1)))
        return make_error(ErrorCode::kKeyFileMalformed,
                          "export.bin: batch_num outside 1..batch_size");

    unsigned int len = 0;
    if (EVP_DigestFinal_ex(sha.get(), info.export_bin_sha256.data(), &len) != 1 ||
        len != info.export_bin_sha256.size())
        return make_error(ErrorCode::kCryptoFailure, "export.bin: SHA-256 failed");
    info.export_bin_bytes = hashing.total();
    return ok();
}

}  // namespace sotto::keyfile::detail
