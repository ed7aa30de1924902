// Fuzz target for the export.zip container alone (libzip behind lib/keyfile/zip_io.cpp): open
// from memory, list the entries, stream each one with the reader's own length checks. Invariant:
// an entry stream never yields more bytes than the entry declares.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "keyfile/zip_io.hpp"

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sotto::keyfile::detail;
    auto zip = ZipReader::open_memory(std::span<const std::uint8_t>(data, size));
    if (!zip) {
        check(zip.error().what != nullptr);
        return 0;
    }
    const std::uint64_t n = zip->entry_count();
    for (std::uint64_t i = 0; i < n && i < 16; ++i) {
        auto e = zip->entry(i);
        if (!e || e->encrypted || !e->stored_or_deflated || e->size > (std::uint64_t{1} << 20))
            continue;
        auto src = zip->open_entry(i, e->size);
        if (!src) continue;
        std::uint8_t buf[4096];
        std::uint64_t total = 0;
        while (true) {
            auto got = (*src)->read(buf);
            if (!got || *got == 0) break;
            total += *got;
            check(total <= e->size);
        }
    }
    return 0;
}
