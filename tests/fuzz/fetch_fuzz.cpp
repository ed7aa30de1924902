// Fuzz target: the downloader's two text parsers, index.txt and the fetch state file. Invariants:
// never crash; every accepted index entry is a valid export path, unique, within the limits;
// whatever state decodes re-encodes to text that decodes to the same state.
#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include <sotto/bytes.hpp>
#include <sotto/fetch/fetch_state.hpp>
#include <sotto/fetch/index.hpp>

namespace {

void check_index(std::string_view text) {
    using namespace sotto::fetch;
    IndexLimits limits;
    limits.max_entries = 64;
    auto idx = parse_index(text, limits);
    if (!idx) return;
    std::set<std::string_view> seen;
    for (const auto& e : idx->entries) {
        if (!is_valid_export_path(e, limits.max_line_bytes) || !seen.insert(e).second) std::abort();
    }
    if (idx->entries.size() > limits.max_entries) std::abort();
}

void check_state(std::string_view text) {
    using namespace sotto::fetch;
    auto st = decode_state(text);
    if (!st) return;
    auto again = encode_state(*st);
    if (!again) std::abort();
    auto back = decode_state(*again);
    if (!back) std::abort();
    if (back->index_entries != st->index_entries || back->files.size() != st->files.size() ||
        back->index_etag != st->index_etag ||
        back->index_last_modified != st->index_last_modified) {
        std::abort();
    }
    for (std::size_t i = 0; i < st->files.size(); ++i) {
        const auto& a = st->files[i];
        const auto& b = back->files[i];
        if (a.path != b.path || a.sha256 != b.sha256 || a.bytes != b.bytes || a.etag != b.etag ||
            a.last_modified != b.last_modified || a.used != b.used) {
            std::abort();
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (sodium_init() < 0) std::abort();
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_index(text);
    check_state(text);
    // The input with a valid checksum line appended, so the fuzzer reaches the record parser
    // behind the checksum.
    std::array<std::uint8_t, 32> digest{};
    crypto_hash_sha256(digest.data(), data, size);
    check_state(std::string(text) + "sha256 " + sotto::to_hex(digest) + "\n");
    return 0;
}
