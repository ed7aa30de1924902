#pragma once
// Host only: random known answers computed by OpenSSL, for the portable backend's tests on the
// host and (written out as C++ by sotto-portable-kat) on the token under QEMU.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "checks.hpp"

namespace sotto::test::portable {

struct KatSet {
    std::vector<std::unique_ptr<std::vector<std::uint8_t>>> buffers;  // stable addresses
    std::vector<Kat> cases;
};

/// `per_kind` cases of each kind from a PRNG seeded with `seed`, with the boundary lengths
/// (SHA-256 padding at 55/56/64 bytes, HMAC keys of 64/65 bytes, CTR counters about to carry)
/// always included. Aborts if OpenSSL fails.
KatSet make_openssl_kats(std::uint64_t seed, std::size_t per_kind);

/// The set as a C++ source defining `const sotto::test::portable::Kat <name>[]` and
/// `const std::size_t <name>_count`.
std::string kats_to_cpp(const KatSet& set, const std::string& name);

}  // namespace sotto::test::portable
