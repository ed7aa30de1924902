// Fuzz target for export.sig alone (TEKSignatureList, lib/keyfile/signature.cpp): parsing, the
// verdict before export.bin is read, and ECDSA verification of whatever DER it carries.
// Invariant: a verdict is never "verified" without a trusted key and a valid signature, and every
// error carries a static text.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "keyfile/signature.hpp"

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sotto::keyfile;
    auto sigs = detail::parse_signature_list(std::span<const std::uint8_t>(data, size));
    if (!sigs) {
        check(sigs.error().what != nullptr && sigs.error().code != sotto::ErrorCode::kOk);
        return 0;
    }
    static const TrustStore empty;
    auto pre = detail::precheck_signatures(*sigs, empty);
    // With no trusted key nothing can be verified.
    check(pre.has_value() && pre->status != SignatureStatus::kVerified);
    ExportInfo info;
    info.batch_num = 1;
    info.batch_size = 1;
    const std::uint8_t digest[32] = {};
    const auto v =
        detail::verify_signatures(*sigs, info, std::span<const std::uint8_t, 32>(digest), empty);
    check(v.status != SignatureStatus::kVerified && v.error.has_value() &&
          v.error->what != nullptr);
    return 0;
}
