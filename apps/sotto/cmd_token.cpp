// sotto token pairing-key -o FILE
// sotto token import --store PATH (--key-file F | --passphrase-file F) --pairing-key FILE
//                    [--now T] EXPORT
//
// Exit codes: 0 imported (or key written); 1 the store or an I/O operation failed; 2 bad
// arguments; 3 the export was refused (authentication failed, replayed, not an export).
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include <fmt/core.h>

#include <sotto/core/rng.hpp>
#include <sotto/flashlog/export_reader.hpp>
#include <sotto/flashlog/token_import.hpp>
#include <sotto/secret.hpp>

#include "commands.hpp"
#include "store_access.hpp"

namespace sotto::cli {
namespace {

using PairingKey = SecretBytes<32, struct PairingKeyTag>;

int write_pairing_key(const std::string& path) {
    auto rng = core::SystemRng::create();
    if (!rng) return fail(kExitFailure, "token pairing-key: no randomness");
    PairingKey key;
    rng->fill(key.expose_secret_mut());
    static const char* d = "0123456789abcdef";
    char hex[65];
    for (std::size_t i = 0; i < 32; ++i) {
        hex[2 * i] = d[key.expose_secret()[i] >> 4];
        hex[2 * i + 1] = d[key.expose_secret()[i] & 15];
    }
    hex[64] = '\n';
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(kExitFailure, "token pairing-key: cannot create " + path + " (exists?)");
    const bool good = ::write(fd, hex, sizeof hex) == static_cast<ssize_t>(sizeof hex);
    detail::secure_wipe(hex, sizeof hex);
    if (::close(fd) != 0 || !good) return fail(kExitFailure, "token pairing-key: write failed");
    fmt::print("pairing key written to {} (give it to the token over the pairing channel)\n", path);
    return kExitOk;
}

int import(const StoreOptions& so, const std::string& key_path, const std::string& file) {
    auto key_text = read_text_file(key_path, 256);
    if (!key_text) return fail(kExitUsage, "token import: cannot read --pairing-key " + key_path);
    std::string hex = *key_text;
    while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.pop_back();
    auto key = PairingKey::from_hex(hex);
    detail::secure_wipe(key_text->data(), key_text->size());
    detail::secure_wipe(hex.data(), hex.size());
    if (!key) return fail(kExitUsage, "token import: --pairing-key must hold 64 hex digits");
    std::string why;
    std::FILE* f = open_regular_file(file, flashlog::kMaxExportBytes, why);
    if (f == nullptr) return fail(kExitUsage, "token import: " + why);
    std::vector<std::uint8_t> bytes;
    std::uint8_t buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) {
        bytes.insert(bytes.end(), buf, buf + n);
        if (bytes.size() > flashlog::kMaxExportBytes) break;
    }
    std::fclose(f);
    std::int64_t now = 0;
    if (int rc = resolve_clock(so, now); rc != 0) return rc;
    std::optional<store::EncounterStore> st;
    if (int rc = open_store(so, true, st); rc != 0) return rc;
    auto r = flashlog::import_token_export(*st, bytes, key->expose_secret(), now);
    if (!r) {
        switch (r.error().code) {
            case ErrorCode::kAuthenticationFailed:
            case ErrorCode::kFailedPrecondition:
            case ErrorCode::kInvalidArgument:
            case ErrorCode::kStorageCorrupt:
                return fail(kExitRefused, std::string("token import: ") + r.error().what);
            default:
                return store_error(r.error());
        }
    }
    fmt::print("imported token export #{}: {} own keys, {} rows ({} new, {} past retention)\n",
               r->sequence, r->own_keys, r->rows, r->new_rows, r->expired_rows);
    if (r->refused_observations > 0)
        fmt::print("{} observations refused by the store (times in the future?)\n",
                   r->refused_observations);
    return kExitOk;
}

}  // namespace

void add_token_commands(CLI::App& app, Runner& run) {
    auto* token = app.add_subcommand("token", "Hand-over from a wearable token (docs/embedded.md)");
    token->require_subcommand(1);

    auto* pk = token->add_subcommand("pairing-key", "Create a pairing key for a token");
    auto out = std::make_shared<std::string>();
    pk->add_option("-o,--out", *out, "File to create (mode 0600; must not exist)")->required();
    pk->callback([&run, out] { run = [out] { return write_pairing_key(*out); }; });

    auto* im = token->add_subcommand("import", "Import a token's export into the store");
    auto so = std::make_shared<StoreOptions>();
    auto key = std::make_shared<std::string>();
    auto file = std::make_shared<std::string>();
    add_store_options(im, *so);
    im->add_option("--pairing-key", *key, "File with the token's pairing key (64 hex digits)")
        ->required();
    im->add_option("export", *file, "The token's export stream")->required();
    im->callback(
        [&run, so, key, file] { run = [so, key, file] { return import(*so, *key, *file); }; });
}

}  // namespace sotto::cli
