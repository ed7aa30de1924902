// Fuzz target: the strict BLE payload decoder and the metadata decoder. Invariants: never crash or
// read out of bounds; whatever decodes re-encodes to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <sotto/core/metadata.hpp>
#include <sotto/core/payload.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sotto::core;
    const std::span<const std::uint8_t> in(data, size);
    if (auto b = decode_advertising_data(in)) {
        // Accepted: it must be exactly one of the two forms, byte for byte.
        const bool with_flags = size == 31;
        const auto again = encode_advertising_data(
            *b, with_flags ? AdvertisingForm::kWithFlags : AdvertisingForm::kWithoutFlags,
            with_flags ? data[2] : kDefaultAdvertisingFlags);
        if (again.size != size || std::memcmp(again.bytes.data(), data, size) != 0) std::abort();
    }
    if (auto b = decode_beacon(in); b && size == kServiceDataBytes) {
        const auto s = encode_service_data(*b);
        if (std::memcmp(s.data(), data, size) != 0) std::abort();
    }
    if (size >= 4) {
        MetadataBytes m{data[0], data[1], data[2], data[3]};
        if (validate_metadata(m) && !decode_metadata(m)) std::abort();  // strict implies lenient
        if (auto d = decode_metadata(m); d && validate_metadata(m) && encode_metadata(*d) != m)
            std::abort();
    }
    return 0;
}
