#pragma once
// The one place libsodium is initialized (internal to sotto: core, store and later libraries call
// it before using libsodium's CSPRNG, guarded memory or Argon2id).

#include <sotto/result.hpp>

namespace sotto::detail {

/// Runs `sodium_init()` once per process (thread-safe; later calls return the first outcome).
/// kCryptoFailure when libsodium cannot initialize (no entropy source).
Result<void> init_sodium() noexcept;

}  // namespace sotto::detail
