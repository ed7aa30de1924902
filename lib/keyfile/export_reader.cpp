#include <sotto/keyfile/export_reader.hpp>

#include <unistd.h>

#include <cerrno>

#include <exception>
#include <new>
#include <system_error>

#include <sotto/bytes.hpp>

#include "keyfile/byte_source.hpp"
#include "keyfile/export_parser.hpp"
#include "keyfile/key_rules.hpp"
#include "keyfile/signature.hpp"
#include "keyfile/zip_io.hpp"

namespace sotto::keyfile {

static_assert(static_cast<std::size_t>(InvalidKeyReason::kDaysSinceOnset) + 1 ==
                  kInvalidKeyReasonCount,
              "kInvalidKeyReasonCount must count every InvalidKeyReason");

const char* invalid_key_reason_name(InvalidKeyReason reason) noexcept {
    switch (reason) {
        case InvalidKeyReason::kKeyDataMissing:
            return "key_data missing";
        case InvalidKeyReason::kKeyDataLength:
            return "key_data is not 16 bytes";
        case InvalidKeyReason::kRollingStartMissing:
            return "rolling_start_interval_number missing";
        case InvalidKeyReason::kRollingStartRange:
            return "rolling_start_interval_number <= 0";
        case InvalidKeyReason::kRollingPeriodRange:
            return "rolling_period outside 1..144";
        case InvalidKeyReason::kRollingEndOverflow:
            return "rolling_start + rolling_period overflows";
        case InvalidKeyReason::kTransmissionRiskLevel:
            return "transmission_risk_level outside 0..8";
        case InvalidKeyReason::kReportType:
            return "report_type unknown";
        case InvalidKeyReason::kDaysSinceOnset:
            return "days_since_onset_of_symptoms outside -14..14";
        default:
            return "unknown reason";
    }
}

const char* signature_status_name(SignatureStatus status) noexcept {
    switch (status) {
        case SignatureStatus::kVerified:
            return "verified";
        case SignatureStatus::kUnsigned:
            return "unsigned";
        case SignatureStatus::kUntrustedKey:
            return "untrusted key";
        case SignatureStatus::kBadSignature:
            return "bad signature";
        case SignatureStatus::kMalformed:
            return "malformed";
        default:
            return "unknown";
    }
}

std::optional<InvalidKeyReason> check_key(const core::DiagnosisKey& key) noexcept {
    return detail::check_diagnosis_key(key);
}

std::string ExportInfo::export_bin_sha256_hex() const { return to_hex(export_bin_sha256); }

namespace {

using detail::ByteSource;

constexpr std::uint64_t kMaxBinLimit = std::uint64_t{1} << 30;

struct OpenedBin {
    std::unique_ptr<ByteSource> source;
    std::uint64_t size = 0;
};
using BinOpener = std::function<Result<OpenedBin>()>;

Result<void> check_options(const ReadOptions& o) {
    if (o.max_export_bin_bytes > kMaxBinLimit)
        return make_error(ErrorCode::kInvalidArgument,
                          "read options: max_export_bin_bytes > 1 GiB");
    if (o.max_export_sig_bytes > kMaxBinLimit)
        return make_error(ErrorCode::kInvalidArgument,
                          "read options: max_export_sig_bytes > 1 GiB");
    if (o.max_compression_ratio == 0)
        return make_error(ErrorCode::kInvalidArgument, "read options: max_compression_ratio is 0");
    return ok();
}

// Reads a whole (small) source of known size.
Result<std::vector<std::uint8_t>> read_all(ByteSource& src, std::uint64_t size) {
    std::vector<std::uint8_t> out(static_cast<std::size_t>(size));
    std::size_t got = 0;
    for (;;) {
        std::uint8_t extra;
        std::span<std::uint8_t> dst = got < out.size() ? std::span<std::uint8_t>(out).subspan(got)
                                                       : std::span<std::uint8_t>(&extra, 1);
        auto n = src.read(dst);
        if (!n) return n.error();
        if (*n == 0) break;
        if (got >= out.size())
            return make_error(ErrorCode::kKeyFileMalformed,
                              "export.sig: size differs from declared");
        got += *n;
    }
    if (got != out.size())
        return make_error(ErrorCode::kKeyFileMalformed, "export.sig: size differs from declared");
    return out;
}

void apply_verdict(const detail::Verdict& v, ExportInfo& info) {
    info.signature_status = v.status;
    info.signature_error = v.error;
    info.verified = v.status == SignatureStatus::kVerified;
    info.verified_key_id = info.verified ? v.key_id : std::string();
    info.verified_key_version = info.verified ? v.key_version : std::string();
}

// The part shared by every container: signatures first (small), then export.bin streamed.
Result<ExportInfo> read_common(const BinOpener& open_bin,
                               const std::optional<std::vector<std::uint8_t>>& sig,
                               const TrustStore& trust, VerifyMode mode, const KeySink& sink,
                               const ReadOptions& options) {
    std::vector<detail::TekSignature> sigs;
    bool sig_malformed = false;
    if (sig) {
        auto parsed = detail::parse_signature_list(*sig);
        if (parsed) {
            sigs = std::move(*parsed);
        } else {
            sig_malformed = true;
        }
    }
    const bool require = mode != VerifyMode::kParseOnly;
    if (require) {
        // Refuse before any key is delivered when the outcome is already known.
        if (sig_malformed) return *detail::malformed_signature_verdict().error;
        if (auto v = detail::precheck_signatures(sigs, trust)) return *v->error;
    }

    auto pass = [&](const KeySink* s) -> Result<ExportInfo> {
        auto bin = open_bin();
        if (!bin) return bin.error();
        ExportInfo info;
        if (auto r = detail::parse_export_bin(*bin->source, bin->size, options, s, info); !r)
            return r.error();
        for (const auto& t : sigs) info.signatures.push_back(t.info);
        apply_verdict(sig_malformed
                          ? detail::malformed_signature_verdict()
                          : detail::verify_signatures(sigs, info, info.export_bin_sha256, trust),
                      info);
        return info;
    };

    if (mode == VerifyMode::kRequireSignatureFirst) {
        auto first = pass(nullptr);
        if (!first) return first.error();
        if (!first->verified) return *first->signature_error;
        auto second = pass(&sink);
        if (!second) return second.error();
        if (second->export_bin_sha256 != first->export_bin_sha256)
            return make_error(ErrorCode::kAuthenticationFailed,
                              "export.bin changed between passes");
        if (!second->verified) return *second->signature_error;
        return second;
    }
    auto info = pass(&sink);
    if (!info) return info.error();
    if (require && !info->verified) return *info->signature_error;
    return info;
}

Result<ExportInfo> read_zip(detail::ZipReader& zip, const TrustStore& trust, VerifyMode mode,
                            const KeySink& sink, const ReadOptions& options) {
    const std::uint64_t n = zip.entry_count();
    if (n == 0) return make_error(ErrorCode::kKeyFileMalformed, "zip: no export.bin");
    if (n > 2)
        return make_error(ErrorCode::kKeyFileMalformed,
                          "zip: entries besides export.bin/export.sig");
    std::optional<std::uint64_t> bin_index, sig_index;
    detail::ZipEntryInfo bin_entry, sig_entry;
    for (std::uint64_t i = 0; i < n; ++i) {
        auto e = zip.entry(i);
        if (!e) return e.error();
        if (e->encrypted) return make_error(ErrorCode::kKeyFileMalformed, "zip: encrypted entry");
        if (!e->stored_or_deflated)
            return make_error(ErrorCode::kKeyFileMalformed, "zip: compression other than deflate");
        if (e->name == kExportBinName && !bin_index) {
            bin_index = i;
            bin_entry = std::move(*e);
        } else if (e->name == kExportSigName && !sig_index) {
            sig_index = i;
            sig_entry = std::move(*e);
        } else {
            return make_error(ErrorCode::kKeyFileMalformed,
                              "zip: entries besides export.bin/export.sig");
        }
    }
    if (!bin_index) return make_error(ErrorCode::kKeyFileMalformed, "zip: no export.bin");

    // Zip bombs: the declared size, then the ratio; the bytes actually inflated are checked
    // against both the declared size (ZipEntrySource) and the limit (parser) while reading.
    if (bin_entry.size > options.max_export_bin_bytes)
        return make_error(ErrorCode::kKeyFileTooLarge, "export.bin: larger than the limit");
    if (bin_entry.size > options.ratio_check_min_bytes &&
        (bin_entry.compressed_size == 0 ||
         bin_entry.size / bin_entry.compressed_size >= options.max_compression_ratio))
        return make_error(ErrorCode::kKeyFileTooLarge,
                          "export.bin: compression ratio above the limit");

    std::optional<std::vector<std::uint8_t>> sig;
    if (sig_index) {
        if (sig_entry.size > options.max_export_sig_bytes)
            return make_error(ErrorCode::kKeyFileTooLarge, "export.sig: larger than the limit");
        auto src = zip.open_entry(*sig_index, sig_entry.size);
        if (!src) return src.error();
        auto bytes = read_all(**src, sig_entry.size);
        if (!bytes) return bytes.error();
        sig = std::move(*bytes);
    }
    const std::uint64_t bin_size = bin_entry.size;
    const std::uint64_t index = *bin_index;
    BinOpener open_bin = [&zip, index, bin_size]() -> Result<OpenedBin> {
        auto src = zip.open_entry(index, bin_size);
        if (!src) return src.error();
        return OpenedBin{std::move(*src), bin_size};
    };
    return read_common(open_bin, sig, trust, mode, sink, options);
}

// No exception crosses the API: bad_alloc becomes kOutOfMemory, a throwing sink kInternal.
template <class F>
Result<ExportInfo> guarded(F&& f) noexcept {
    try {
        return f();
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "export: out of memory");
    } catch (...) {
        return make_error(ErrorCode::kInternal, "exception while reading an export");
    }
}

}  // namespace

Result<ExportInfo> read_export_zip(const std::filesystem::path& path, const TrustStore& trust,
                                   VerifyMode mode, const KeySink& sink,
                                   const ReadOptions& options) {
    return guarded([&]() -> Result<ExportInfo> {
        if (auto r = check_options(options); !r) return r.error();
        // The container holds export.bin and export.sig, compressed, plus the zip's own records.
        const std::uint64_t max_zip =
            options.max_export_bin_bytes + options.max_export_sig_bytes + (1u << 20);
        auto zip = detail::ZipReader::open_file(path, max_zip);
        if (!zip) return zip.error();
        return read_zip(*zip, trust, mode, sink, options);
    });
}

Result<ExportInfo> read_export_zip(std::span<const std::uint8_t> bytes, const TrustStore& trust,
                                   VerifyMode mode, const KeySink& sink,
                                   const ReadOptions& options) {
    return guarded([&]() -> Result<ExportInfo> {
        if (auto r = check_options(options); !r) return r.error();
        auto zip = detail::ZipReader::open_memory(bytes);
        if (!zip) return zip.error();
        return read_zip(*zip, trust, mode, sink, options);
    });
}

Result<ExportInfo> read_export_pair(const std::filesystem::path& bin,
                                    const std::filesystem::path& sig, const TrustStore& trust,
                                    VerifyMode mode, const KeySink& sink,
                                    const ReadOptions& options) {
    return guarded([&]() -> Result<ExportInfo> {
        if (auto r = check_options(options); !r) return r.error();
        std::optional<std::vector<std::uint8_t>> sig_bytes;
        std::error_code ec;
        if (std::filesystem::exists(sig, ec)) {
            auto src = detail::FileSource::open(sig);
            if (!src) return src.error();
            if (src->size() > options.max_export_sig_bytes)
                return make_error(ErrorCode::kKeyFileTooLarge, "export.sig: larger than the limit");
            auto bytes = read_all(*src, src->size());
            if (!bytes) return bytes.error();
            sig_bytes = std::move(*bytes);
        } else if (ec) {
            return make_error(ErrorCode::kKeyFileIo, "export.sig: cannot stat the file");
        }
        BinOpener open_bin = [&bin]() -> Result<OpenedBin> {
            auto src = detail::FileSource::open(bin);
            if (!src) return src.error();
            const std::uint64_t size = src->size();
            return OpenedBin{std::make_unique<detail::FileSource>(std::move(*src)), size};
        };
        return read_common(open_bin, sig_bytes, trust, mode, sink, options);
    });
}

Result<ExportInfo> read_export_pair(std::span<const std::uint8_t> bin,
                                    std::span<const std::uint8_t> sig, const TrustStore& trust,
                                    VerifyMode mode, const KeySink& sink,
                                    const ReadOptions& options) {
    return guarded([&]() -> Result<ExportInfo> {
        if (auto r = check_options(options); !r) return r.error();
        if (sig.size() > options.max_export_sig_bytes)
            return make_error(ErrorCode::kKeyFileTooLarge, "export.sig: larger than the limit");
        std::optional<std::vector<std::uint8_t>> sig_bytes;
        if (!sig.empty()) sig_bytes.emplace(sig.begin(), sig.end());
        BinOpener open_bin = [bin]() -> Result<OpenedBin> {
            return OpenedBin{std::make_unique<detail::MemorySource>(bin), bin.size()};
        };
        return read_common(open_bin, sig_bytes, trust, mode, sink, options);
    });
}

ExportLocation locate_export(const std::filesystem::path& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::is_directory(path, ec))
        return {ExportLocation::Kind::kPair, path / "export.bin", path / "export.sig"};
    // Not a regular file (a FIFO, a device): the zip reader refuses it with a clear error.
    std::uint64_t size = 0;
    auto fd = detail::open_regular_file(path, size);
    if (!fd) return {ExportLocation::Kind::kZip, path, {}};
    char head[kExportBinHeader.size()] = {};
    std::size_t got = 0;
    while (got < sizeof head) {
        const ssize_t n = ::read(*fd, head + got, sizeof head - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    ::close(*fd);
    if (got == sizeof head && std::string_view(head, sizeof head) == kExportBinHeader) {
        fs::path sig = path;
        sig.replace_extension(".sig");
        return {ExportLocation::Kind::kPair, path, sig};
    }
    return {ExportLocation::Kind::kZip, path, {}};
}

Result<ExportInfo> read_export_file(const std::filesystem::path& path, const TrustStore& trust,
                                    VerifyMode mode, const KeySink& sink,
                                    const ReadOptions& options) {
    const ExportLocation at = locate_export(path);
    return at.kind == ExportLocation::Kind::kZip
               ? read_export_zip(at.bin, trust, mode, sink, options)
               : read_export_pair(at.bin, at.sig, trust, mode, sink, options);
}

}  // namespace sotto::keyfile
