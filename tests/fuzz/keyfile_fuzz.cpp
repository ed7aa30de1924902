// Fuzz target for the diagnosis-key file reader (lib/keyfile), parse-only.
//
// Every input is tried three ways: as an export.zip, as a loose export.bin without signature, and
// split as [2-byte little-endian length n][export.bin: n bytes][export.sig: the rest]. The trust
// store holds the test key the seed corpus is signed with (make_keyfile_seeds.py), so the
// verification paths run too. Invariants that must hold for any input abort the process.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>

#include <sotto/keyfile/export_reader.hpp>

namespace {

using namespace sotto::keyfile;

// Public half of keyfile_seed_key.pem (a test-only key).
constexpr const char* kSeedPublicKey =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEulSQvF1to8ojTUMV3/Zk9sQxw+z6\n"
    "Ced8ZWKL3e/xXGFqE2GvcZG9wn5Mgd3eV5VFTKTIdLX5zALvZv1lgjuvfA==\n"
    "-----END PUBLIC KEY-----\n";

const TrustStore& trust() {
    static const TrustStore t = [] {
        TrustStore s;
        if (!s.add_pem("fuzz", "v1", kSeedPublicKey)) std::abort();
        return s;
    }();
    return t;
}

void check(bool ok) {
    if (!ok) std::abort();
}

void run(const sotto::Result<ExportInfo>& r, std::uint64_t delivered) {
    if (!r) {
        check(r.error().what != nullptr && r.error().code != sotto::ErrorCode::kOk);
        return;
    }
    const ExportInfo& i = *r;
    check(i.keys_delivered == delivered);
    check(i.keys_delivered <= i.keys_valid + i.revised_keys_valid);
    check(i.keys_revoked <= i.keys_valid + i.revised_keys_valid);
    std::uint64_t invalid = 0;
    for (auto n : i.invalid_by_reason) invalid += n;
    check(invalid == i.keys_invalid);
    check(i.verified == (i.signature_status == SignatureStatus::kVerified));
    check(i.verified == !i.signature_error.has_value());
    check(i.export_bin_bytes >= kExportBinHeader.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> in(data, size);
    ReadOptions options;
    options.max_export_bin_bytes = std::uint64_t{4} << 20;  // keep iterations fast
    options.deliver_revised_keys = true;
    std::uint64_t delivered = 0;
    const KeySink sink = [&delivered](sotto::core::DiagnosisKey&& k) {
        ++delivered;
        check(!check_key(k).has_value());  // only valid keys are ever delivered
    };

    {
        delivered = 0;
        const auto r = read_export_zip(in, trust(), VerifyMode::kParseOnly, sink, options);
        run(r, delivered);
    }
    {
        delivered = 0;
        const auto r = read_export_pair(in, {}, trust(), VerifyMode::kParseOnly, sink, options);
        run(r, delivered);
    }
    if (size >= 2) {
        const std::size_t n =
            std::min<std::size_t>(data[0] | (std::size_t{data[1]} << 8), size - 2);
        delivered = 0;
        const auto r = read_export_pair(in.subspan(2, n), in.subspan(2 + n), trust(),
                                        VerifyMode::kParseOnly, sink, options);
        run(r, delivered);
        // Require-signature mode must agree with the parse-only verdict.
        const auto strict = read_export_pair(in.subspan(2, n), in.subspan(2 + n), trust(),
                                             VerifyMode::kRequireSignature, sink, options);
        if (r && r->verified) {
            check(strict.has_value() && strict->verified);
        } else {
            check(!strict.has_value());
            if (r) check(r->signature_error && strict.error().code == r->signature_error->code);
        }
    }
    return 0;
}
