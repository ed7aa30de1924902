#include <sotto/keyfile/export_writer.hpp>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>
#include <system_error>

#include <sotto/keyfile/export_reader.hpp>

#include "keyfile/key_rules.hpp"
#include "keyfile/proto/export.pb.h"
#include "keyfile/trust_store_internal.hpp"
#include "keyfile/zip_io.hpp"

namespace sotto::keyfile {

// ---------------------------------------------------------------------------------------------
// ExportSigner

struct ExportSigner::Impl {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, EVP_PKEY_free};
};

ExportSigner::ExportSigner(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
ExportSigner::~ExportSigner() = default;
ExportSigner::ExportSigner(ExportSigner&&) noexcept = default;
ExportSigner& ExportSigner::operator=(ExportSigner&&) noexcept = default;

Result<ExportSigner> ExportSigner::from_pem(std::string_view pem) {
    if (pem.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        return make_error(ErrorCode::kInvalidArgument, "signing key: not a PEM private key");
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    if (bio == nullptr) return make_error(ErrorCode::kOutOfMemory, "signing key: out of memory");
    // A null passphrase callback with an empty passphrase: encrypted keys fail instead of
    // prompting on the terminal.
    char empty[1] = {0};
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, empty);
    BIO_free(bio);
    ERR_clear_error();
    if (key == nullptr)
        return make_error(ErrorCode::kInvalidArgument, "signing key: not a PEM private key");
    auto impl = std::make_unique<Impl>();
    impl->key.reset(key);
    if (!detail::is_p256(key))
        return make_error(ErrorCode::kInvalidArgument, "signing key: not an EC P-256 key");
    return ExportSigner(std::move(impl));
}

Result<ExportSigner> ExportSigner::generate() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    ERR_clear_error();
    if (key == nullptr)
        return make_error(ErrorCode::kCryptoFailure, "signing key: cannot generate a P-256 key");
    auto impl = std::make_unique<Impl>();
    impl->key.reset(key);
    return ExportSigner(std::move(impl));
}

Result<std::string> ExportSigner::public_key_pem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    if (bio == nullptr) return make_error(ErrorCode::kOutOfMemory, "signing key: out of memory");
    std::string out;
    if (PEM_write_bio_PUBKEY(bio, impl_->key.get()) == 1) {
        char* data = nullptr;
        const long len = BIO_get_mem_data(bio, &data);
        if (len > 0) out.assign(data, static_cast<std::size_t>(len));
    }
    BIO_free(bio);
    ERR_clear_error();
    if (out.empty())
        return make_error(ErrorCode::kCryptoFailure, "signing key: cannot export public key");
    return out;
}

Result<std::vector<std::uint8_t>> ExportSigner::sign_digest(
    std::span<const std::uint8_t, 32> digest) const {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(impl_->key.get(), nullptr);
    std::vector<std::uint8_t> sig;
    std::size_t len = 0;
    bool ok = ctx != nullptr && EVP_PKEY_sign_init(ctx) == 1 &&
              EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
              EVP_PKEY_sign(ctx, nullptr, &len, digest.data(), digest.size()) == 1;
    if (ok) {
        sig.resize(len);
        ok = EVP_PKEY_sign(ctx, sig.data(), &len, digest.data(), digest.size()) == 1;
        sig.resize(len);  // DER length varies (70-72 bytes for P-256)
    }
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    if (!ok) return make_error(ErrorCode::kCryptoFailure, "signing failed");
    return sig;
}

// ---------------------------------------------------------------------------------------------
// build_export

namespace {

namespace io = google::protobuf::io;
using WFL = google::protobuf::internal::WireFormatLite;
using Key = pb::TemporaryExposureKey;
using Export = pb::TemporaryExposureKeyExport;

constexpr std::size_t kMaxNameBytes = 64;

bool valid_name(std::string_view s) {
    if (s.empty() || s.size() > kMaxNameBytes) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
    });
}

Result<void> check_options(const ExportWriteOptions& o) {
    if (!valid_name(o.key_id))
        return make_error(ErrorCode::kInvalidArgument,
                          "export options: key id must be [A-Za-z0-9_]{1,64}");
    if (!valid_name(o.key_version))
        return make_error(ErrorCode::kInvalidArgument,
                          "export options: key version must be [A-Za-z0-9_]{1,64}");
    if (o.region.size() > kMaxNameBytes)
        return make_error(ErrorCode::kInvalidArgument,
                          "export options: region longer than 64 bytes");
    if (o.start_timestamp > o.end_timestamp)
        return make_error(ErrorCode::kInvalidArgument, "export options: start after end timestamp");
    if (o.batch_size < 1 || o.batch_num < 1 || o.batch_num > o.batch_size)
        return make_error(ErrorCode::kInvalidArgument,
                          "export options: batch_num outside 1..batch_size");
    return ok();
}

// Uniform in [0, n), n > 0, by rejection (no modulo bias).
std::uint32_t uniform(core::Rng& rng, std::uint32_t n) {
    const std::uint32_t limit =
        std::numeric_limits<std::uint32_t>::max() - std::numeric_limits<std::uint32_t>::max() % n;
    for (;;) {
        std::uint8_t b[4];
        rng.fill(b);
        std::uint32_t v = 0;
        std::memcpy(&v, b, sizeof v);
        if (v < limit) return v % n;
    }
}

core::DiagnosisKey fake_key(std::span<const core::DiagnosisKey> real, const ExportWriteOptions& o,
                            core::Rng& rng) {
    core::DiagnosisKey k;
    rng.fill(k.exposure_key.tek.expose_secret_mut());
    if (!real.empty()) {
        const auto& r = real[uniform(rng, static_cast<std::uint32_t>(real.size()))];
        k.exposure_key.rolling_start = r.exposure_key.rolling_start;
        k.exposure_key.rolling_period = r.exposure_key.rolling_period;
        k.transmission_risk_level = r.transmission_risk_level;
        k.report_type = r.report_type;
        k.days_since_onset = r.days_since_onset;
        return k;
    }
    // No real key to imitate: a UTC-midnight start within the 14 days before the window's end.
    const auto end_enin = static_cast<core::IntervalNumber>(std::min<std::uint64_t>(
        o.end_timestamp / 600, std::numeric_limits<std::int32_t>::max() - 144));
    const core::IntervalNumber today = core::day_start_interval(end_enin);
    const std::uint32_t days_back = 1 + uniform(rng, 14);
    k.exposure_key.rolling_start = today >= days_back * core::kTekRollingPeriod
                                       ? today - days_back * core::kTekRollingPeriod
                                       : core::kTekRollingPeriod;
    k.exposure_key.rolling_period = core::kTekRollingPeriod;
    k.transmission_risk_level = static_cast<std::int32_t>(1 + uniform(rng, 8));
    k.report_type = core::ReportType::kConfirmedTest;
    return k;
}

// Appends bytes written by a CodedOutputStream to a vector.
class VectorOutput final : public io::CopyingOutputStream {
public:
    explicit VectorOutput(std::vector<std::uint8_t>& out) : out_(out) {}
    bool Write(const void* buffer, int size) override {
        const auto* p = static_cast<const std::uint8_t*>(buffer);
        out_.insert(out_.end(), p, p + size);
        return true;
    }

private:
    std::vector<std::uint8_t>& out_;
};

void write_key(io::CodedOutputStream& out, const core::DiagnosisKey& k, bool always_period) {
    using CO = io::CodedOutputStream;
    const auto start = static_cast<std::uint32_t>(k.exposure_key.rolling_start);
    const bool period = always_period || k.exposure_key.rolling_period != core::kTekRollingPeriod;
    const bool report = k.report_type != core::ReportType::kUnknown;
    const auto trl = static_cast<std::uint32_t>(k.transmission_risk_level);  // 0..8
    const std::uint32_t dsos = k.days_since_onset ? WFL::ZigZagEncode32(*k.days_since_onset) : 0;
    std::size_t size = 1 + 1 + core::kTekBytes;  // key_data
    size += 1 + CO::VarintSize32(trl);           // transmission_risk_level
    size += 1 + CO::VarintSize32(start);         // rolling_start
    if (period) size += 1 + CO::VarintSize32(k.exposure_key.rolling_period);
    if (report) size += 1 + 1;  // report_type 1..5
    if (k.days_since_onset) size += 1 + CO::VarintSize32(dsos);

    out.WriteTag(WFL::MakeTag(Export::kKeysFieldNumber, WFL::WIRETYPE_LENGTH_DELIMITED));
    out.WriteVarint32(static_cast<std::uint32_t>(size));
    out.WriteTag(WFL::MakeTag(Key::kKeyDataFieldNumber, WFL::WIRETYPE_LENGTH_DELIMITED));
    out.WriteVarint32(static_cast<std::uint32_t>(core::kTekBytes));
    out.WriteRaw(k.exposure_key.tek.expose_secret().data(), static_cast<int>(core::kTekBytes));
    out.WriteTag(WFL::MakeTag(Key::kTransmissionRiskLevelFieldNumber, WFL::WIRETYPE_VARINT));
    out.WriteVarint32(trl);
    out.WriteTag(WFL::MakeTag(Key::kRollingStartIntervalNumberFieldNumber, WFL::WIRETYPE_VARINT));
    out.WriteVarint32(start);
    if (period) {
        out.WriteTag(WFL::MakeTag(Key::kRollingPeriodFieldNumber, WFL::WIRETYPE_VARINT));
        out.WriteVarint32(k.exposure_key.rolling_period);
    }
    if (report) {
        out.WriteTag(WFL::MakeTag(Key::kReportTypeFieldNumber, WFL::WIRETYPE_VARINT));
        out.WriteVarint32(static_cast<std::uint32_t>(k.report_type));
    }
    if (k.days_since_onset) {
        out.WriteTag(WFL::MakeTag(Key::kDaysSinceOnsetOfSymptomsFieldNumber, WFL::WIRETYPE_VARINT));
        out.WriteVarint32(dsos);
    }
}

void fill_signature_info(pb::SignatureInfo& si, const ExportWriteOptions& o) {
    si.set_verification_key_version(o.key_version);
    si.set_verification_key_id(o.key_id);
    si.set_signature_algorithm(std::string(kEcdsaWithSha256Oid));
}

Result<ExportFiles> build_export_impl(std::span<const core::DiagnosisKey> keys,
                                      const ExportSigner& signer, const ExportWriteOptions& o,
                                      core::Rng& rng) {
    if (auto r = check_options(o); !r) return r.error();
    for (const auto& k : keys)
        if (detail::check_diagnosis_key(k))
            return make_error(ErrorCode::kInvalidArgument,
                              "export: invalid key (see validation rules)");
    if (keys.size() + o.padding_keys >
        static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
        return make_error(ErrorCode::kInvalidArgument, "export: too many keys");

    std::vector<core::DiagnosisKey> fakes;
    fakes.reserve(o.padding_keys);
    for (std::uint32_t i = 0; i < o.padding_keys; ++i) fakes.push_back(fake_key(keys, o, rng));

    // Google's server sorts by key_data, so the order says nothing about who uploaded what and
    // fake keys mix in.
    std::vector<const core::DiagnosisKey*> order;
    order.reserve(keys.size() + fakes.size());
    for (const auto& k : keys) order.push_back(&k);
    for (const auto& k : fakes) order.push_back(&k);
    std::sort(
        order.begin(), order.end(), [](const core::DiagnosisKey* a, const core::DiagnosisKey* b) {
            return std::memcmp(a->exposure_key.tek.expose_secret().data(),
                               b->exposure_key.tek.expose_secret().data(), core::kTekBytes) < 0;
        });

    // Header fields through the generated class; keys appended by hand (repeated fields of
    // concatenated protobuf encodings merge), without a std::string per key.
    Export header;
    header.set_start_timestamp(o.start_timestamp);
    header.set_end_timestamp(o.end_timestamp);
    if (!o.region.empty()) header.set_region(o.region);
    header.set_batch_num(o.batch_num);
    header.set_batch_size(o.batch_size);
    fill_signature_info(*header.add_signature_infos(), o);
    const std::string header_bytes = header.SerializeAsString();

    ExportFiles files;
    auto& bin = files.export_bin;
    bin.reserve(kExportBinHeader.size() + header_bytes.size() + order.size() * 34);
    bin.resize(kExportBinHeader.size() + header_bytes.size());
    std::memcpy(bin.data(), kExportBinHeader.data(), kExportBinHeader.size());
    std::memcpy(bin.data() + kExportBinHeader.size(), header_bytes.data(), header_bytes.size());
    {
        VectorOutput sink(bin);
        io::CopyingOutputStreamAdaptor adaptor(&sink);
        io::CodedOutputStream out(&adaptor);
        for (const auto* k : order) write_key(out, *k, o.always_write_rolling_period);
        out.Trim();
        if (out.HadError()) return make_error(ErrorCode::kInternal, "export: serialization failed");
    }

    std::array<std::uint8_t, 32> digest{};
    unsigned int len = 0;
    if (EVP_Digest(bin.data(), bin.size(), digest.data(), &len, EVP_sha256(), nullptr) != 1)
        return make_error(ErrorCode::kCryptoFailure, "export: SHA-256 failed");
    auto der = signer.sign_digest(digest);
    if (!der) return der.error();

    pb::TEKSignatureList list;
    auto* s = list.add_signatures();
    fill_signature_info(*s->mutable_signature_info(), o);
    s->set_batch_num(o.batch_num);
    s->set_batch_size(o.batch_size);
    s->set_signature(der->data(), der->size());
    const std::string sig = list.SerializeAsString();
    files.export_sig.assign(sig.begin(), sig.end());
    return files;
}

}  // namespace

Result<ExportFiles> build_export(std::span<const core::DiagnosisKey> keys,
                                 const ExportSigner& signer, const ExportWriteOptions& options,
                                 core::Rng& rng) {
    try {
        return build_export_impl(keys, signer, options, rng);
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "export: out of memory");
    }
}

Result<std::vector<std::uint8_t>> zip_export(const ExportFiles& files) {
    try {
        std::vector<detail::ZipEntryOut> entries;
        entries.push_back({std::string(kExportBinName), files.export_bin, true});
        if (!files.export_sig.empty())
            entries.push_back({std::string(kExportSigName), files.export_sig, true});
        return detail::make_zip(entries);
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "export: out of memory");
    }
}

Result<void> write_export_zip(const std::filesystem::path& path,
                              std::span<const core::DiagnosisKey> keys, const ExportSigner& signer,
                              const ExportWriteOptions& options, core::Rng& rng) {
    auto files = build_export(keys, signer, options, rng);
    if (!files) return files.error();
    auto zip = zip_export(*files);
    if (!zip) return zip.error();
    try {
        // Temporary file beside the target, then rename: readers see the old or the new zip.
        std::string tmp = path.string() + ".tmp-XXXXXX";
        const int fd = ::mkstemp(tmp.data());
        if (fd < 0) return make_error(ErrorCode::kKeyFileIo, "export: cannot create the file");
        ::fchmod(fd, 0644);  // mkstemp makes 0600; the export is meant to be published
        std::size_t done = 0;
        while (done < zip->size()) {
            const ssize_t n = ::write(fd, zip->data() + done, zip->size() - done);
            if (n <= 0) break;
            done += static_cast<std::size_t>(n);
        }
        const bool written = done == zip->size() && ::fsync(fd) == 0;
        ::close(fd);
        std::error_code ec;
        if (written) std::filesystem::rename(tmp, path, ec);
        if (!written || ec) {
            std::filesystem::remove(tmp, ec);
            return make_error(ErrorCode::kKeyFileIo, "export: cannot write the file");
        }
        return ok();
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kOutOfMemory, "export: out of memory");
    }
}

}  // namespace sotto::keyfile
