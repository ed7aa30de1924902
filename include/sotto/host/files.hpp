#pragma once
/// \file
/// Reading the files a host program (the `sotto` CLI, a daemon) is configured with: store
/// credentials and health-authority public keys. Shared so that every program applies the same
/// checks.
///
/// Every read is bounded: the file must be a regular file (a FIFO, a device such as /dev/zero or
/// a directory is refused without blocking), and at most `max_bytes` are read (a larger file is
/// refused, never truncated). Opening never blocks (`O_NONBLOCK`) and never follows the read past
/// the cap, so a hostile path costs bounded time and memory.
///
/// Errors are static strings (they never contain the path or the content):
/// * kStorageIo: the file cannot be opened or read (missing, no permission, I/O error).
/// * kInvalidArgument: not a regular file; larger than the cap; content malformed.
/// * kFailedPrecondition: a secret file is accessible by group or others (chmod 600 it).
/// * kOutOfMemory: allocation failed.
///
/// Thread-safety: the functions keep no state; call them from any thread.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sotto/keyfile/export_writer.hpp>
#include <sotto/keyfile/trust_store.hpp>
#include <sotto/result.hpp>
#include <sotto/store/credential.hpp>

namespace sotto::host {

/// Largest PEM public-key file accepted (a P-256 SPKI PEM is about 180 bytes).
inline constexpr std::size_t kMaxPemFileBytes = 64 * 1024;

/// The whole content of a regular file of at most `max_bytes` bytes.
Result<std::vector<std::uint8_t>> read_regular_file(const std::filesystem::path& path,
                                                    std::size_t max_bytes) noexcept;

/// A raw store key from a file holding 64 hex characters (one trailing "\n" or "\r\n" allowed).
/// The file must be readable by its owner only. The bytes read pass only through wiped memory.
Result<store::StoreKey> read_key_file(const std::filesystem::path& path) noexcept;

/// A passphrase from a file (its content minus one trailing "\n"; 1..1024 bytes). The file must
/// be readable by its owner only. The bytes read pass only through wiped memory.
Result<store::Passphrase> read_passphrase_file(const std::filesystem::path& path) noexcept;

/// Largest PEM private-key file accepted (a P-256 PKCS#8 or SEC1 PEM is about 250 bytes).
inline constexpr std::size_t kMaxPrivateKeyFileBytes = 16 * 1024;

/// The health authority's EC P-256 signing key from a PEM file (PKCS#8 or SEC1). The same rule
/// as for a store key: the file must be readable by its owner only (kFailedPrecondition
/// otherwise), and the bytes read pass only through wiped memory. kInvalidArgument when it is
/// larger than kMaxPrivateKeyFileBytes or not an EC P-256 private key.
Result<keyfile::ExportSigner> read_signing_key_file(const std::filesystem::path& path) noexcept;

/// Adds the PEM public key in each of `pem_files` to `trust`: bound to `key_id`/`key_version`
/// when `key_id` is not empty, otherwise trusted under any key id (see keyfile/trust_store.hpp).
/// Stops at the first failure and says which file in `failed_index` (`trust` then holds the keys
/// of the files before it). kInvalidArgument when a file is not an EC P-256 public key.
Result<void> add_pem_files(keyfile::TrustStore& trust,
                           std::span<const std::filesystem::path> pem_files,
                           std::string_view key_id, std::string_view key_version,
                           std::size_t* failed_index = nullptr) noexcept;

}  // namespace sotto::host
