#pragma once
/// \file
/// What opens an encounter store: a raw 32-byte key handed over by the host, or a passphrase
/// stretched with Argon2id.
///
/// * Raw key: from Android Keystore, the iOS Keychain or a systemd credential. No KDF runs; the
///   key goes to SQLCipher as a raw key (`x'<64 hex>'`, built in a wiped buffer).
/// * Passphrase: stretched with Argon2id (libsodium `crypto_pwhash`, ALG_ARGON2ID13) into a raw
///   key. Salt and cost parameters are recorded in the store's side file (`PATH.kdf`), so they
///   are known before the key is.
///
/// Neither type is copyable, neither can be formatted, and both wipe their bytes when they die.

#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>

#include <sotto/result.hpp>
#include <sotto/secret.hpp>

namespace sotto::store {

/// Size of a raw store key.
inline constexpr std::size_t kStoreKeyBytes = 32;

/// A raw 256-bit store key.
using StoreKey = SecretBytes<kStoreKeyBytes, struct StoreKeyTag>;

/// A passphrase in guarded memory (`sodium_malloc`: guard pages, locked, wiped on free).
///
/// Never held in a `std::string`. Not copyable (use `clone()`); a move empties the source.
class Passphrase {
public:
    /// Longest accepted passphrase, in bytes.
    static constexpr std::size_t kMaxBytes = 1024;

    /// Copies `bytes` into guarded memory. The caller wipes its own copy.
    /// kInvalidArgument when empty or longer than kMaxBytes; kCryptoFailure when guarded memory
    /// cannot be allocated.
    static Result<Passphrase> from(std::span<const std::uint8_t> bytes) noexcept;

    Passphrase(const Passphrase&) = delete;
    Passphrase& operator=(const Passphrase&) = delete;
    Passphrase(Passphrase&& o) noexcept;
    Passphrase& operator=(Passphrase&& o) noexcept;
    ~Passphrase();

    /// An explicit copy (kCryptoFailure when guarded memory runs out).
    Result<Passphrase> clone() const noexcept;

    /// The passphrase bytes. Every call site is a place where the secret leaves its box.
    std::span<const std::uint8_t> expose_secret() const noexcept { return {data_, size_}; }

private:
    Passphrase(std::uint8_t* data, std::size_t size) noexcept : data_(data), size_(size) {}
    void release() noexcept;

    std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
};

/// Argon2id cost, used when a passphrase store is created or rekeyed (opening reads the
/// parameters recorded with the store).
struct KdfParams {
    std::uint64_t opslimit = 0;        ///< passes over memory
    std::uint64_t memlimit_bytes = 0;  ///< memory, in bytes

    /// libsodium's INTERACTIVE level (2 passes, 64 MiB, about 0.1 s on a phone core): the
    /// default, meant for unlocking at app start.
    static KdfParams interactive() noexcept;
    /// libsodium's MODERATE level (3 passes, 256 MiB).
    static KdfParams moderate() noexcept;
    /// The smallest cost libsodium accepts (1 pass, 8 KiB). Offers no protection against guessing:
    /// for tests only.
    static KdfParams minimum() noexcept;

    friend bool operator==(const KdfParams&, const KdfParams&) = default;
};

/// A raw key or a passphrase (with the Argon2id cost to use when creating or rekeying).
class Credential {
public:
    /// Opens the store with `key` as SQLCipher raw key.
    static Credential raw_key(StoreKey key) noexcept;
    /// Opens the store with a key stretched from `passphrase`.
    static Credential passphrase(Passphrase passphrase,
                                 KdfParams params = KdfParams::interactive()) noexcept;

    Credential(Credential&&) noexcept = default;
    Credential& operator=(Credential&&) noexcept = default;

    bool is_passphrase() const noexcept { return std::holds_alternative<Passphrase>(secret_); }
    /// The raw key, or nullptr for a passphrase credential.
    const StoreKey* raw() const noexcept { return std::get_if<StoreKey>(&secret_); }
    /// The passphrase, or nullptr for a raw-key credential.
    const Passphrase* pass() const noexcept { return std::get_if<Passphrase>(&secret_); }
    /// Argon2id cost for new stores and rekeying (meaningless for raw keys).
    const KdfParams& kdf_params() const noexcept { return params_; }

private:
    Credential(std::variant<StoreKey, Passphrase> secret, KdfParams params) noexcept
        : secret_(std::move(secret)), params_(params) {}

    std::variant<StoreKey, Passphrase> secret_;
    KdfParams params_;
};

}  // namespace sotto::store
