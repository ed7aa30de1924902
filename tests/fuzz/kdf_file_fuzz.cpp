// Fuzz target for the store's key-derivation side file parser (PATH.kdf, lib/store/kdf_file.cpp).
// A BLAKE2b checksum guards the file, so inputs whose first byte is odd get a correct checksum
// before parsing: the fuzzer then reaches the field checks behind it. Invariant: a parsed file
// holds one or two entries of a known kind, with a page size SQLCipher accepts.
#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "store/kdf_file.hpp"

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    static const bool ready = sodium_init() >= 0;
    check(ready);
    std::vector<std::uint8_t> bytes(data + 1, data + size);
    if ((data[0] & 1) != 0 && bytes.size() >= 16)
        crypto_generichash(bytes.data() + bytes.size() - 16, 16, bytes.data(), bytes.size() - 16,
                           nullptr, 0);
    auto f = sotto::store::detail::parse_kdf_file(bytes);
    if (!f) {
        check(f.error().what != nullptr);
        return 0;
    }
    check(!f->entries.empty() && f->entries.size() <= 2);
    check(f->page_size >= 512 && f->page_size <= 65536 && (f->page_size & (f->page_size - 1)) == 0);
    for (const auto& e : f->entries)
        check(e.kind == sotto::store::detail::KdfKind::kRawKey ||
              e.kind == sotto::store::detail::KdfKind::kArgon2id13);
    return 0;
}
