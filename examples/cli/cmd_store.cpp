// sotto ingest --store PATH (--key-file F | --passphrase-file F) [--now T] FILE.csv
// sotto store stats|verify|rekey|erase ...
//
// Exit codes: 0 ok (ingest: the file was read, even if some lines were invalid; they are listed on
// stderr), 1 the store or an I/O operation failed, 2 bad arguments (including an unusable key or
// passphrase file), 3 refused (erase of something that is not a sotto store).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <sotto/bytes.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/core/sighting.hpp>
#include <sotto/secret.hpp>
#include <sotto/store/encounter_store.hpp>

#include "commands.hpp"

namespace sotto::cli {
namespace {

using store::Credential;
using store::EncounterStore;

constexpr std::size_t kIngestBatch = 1000;

/// Options shared by every command that opens the store.
struct StoreOptions {
    std::string store;
    std::string key_file;
    std::string passphrase_file;
    std::optional<std::int64_t> now;
    std::uint32_t retention_days = store::kDefaultRetentionDays;
};

void add_store_options(CLI::App* cmd, StoreOptions& o) {
    cmd->add_option("--store", o.store, "Path of the store database")->required();
    auto* k = cmd->add_option("--key-file", o.key_file,
                              "File with the raw 256-bit key: 64 hex characters (mode 600)");
    auto* p = cmd->add_option("--passphrase-file", o.passphrase_file,
                              "File whose content (minus one trailing newline) is the passphrase "
                              "(mode 600)");
    k->excludes(p);
    cmd->add_option("--now", o.now,
                    "Unix seconds used as the current time for retention and validity checks "
                    "(default: the system clock)");
    cmd->add_option("--retention-days", o.retention_days, "Days of data to keep (1..3650)")
        ->capture_default_str();
}

// Wipes a stack buffer when leaving scope.
template <std::size_t N>
struct WipedBuffer {
    std::array<std::uint8_t, N> bytes{};
    std::size_t size = 0;
    WipedBuffer() = default;
    WipedBuffer(const WipedBuffer&) = delete;
    WipedBuffer& operator=(const WipedBuffer&) = delete;
    ~WipedBuffer() { detail::secure_wipe(bytes.data(), bytes.size()); }
};

// Reads a secret file into `buf` after checking that only its owner may access it. Returns an
// exit code (0 on success) after printing one line.
template <std::size_t N>
int read_secret_file(const std::string& path, const char* what, WipedBuffer<N>& buf) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(kExitUsage, fmt::format("cannot open the {}", what));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return fail(kExitUsage, fmt::format("the {} is not a regular file", what));
    }
    if ((st.st_mode & 077) != 0) {
        ::close(fd);
        return fail(kExitUsage,
                    fmt::format("the {} is accessible by group or others; chmod 600 it", what));
    }
    buf.size = 0;
    while (buf.size < N) {
        const ssize_t got = ::read(fd, buf.bytes.data() + buf.size, N - buf.size);
        if (got < 0) {
            if (errno == EINTR) continue;
            ::close(fd);
            return fail(kExitUsage, fmt::format("cannot read the {}", what));
        }
        if (got == 0) break;
        buf.size += static_cast<std::size_t>(got);
    }
    ::close(fd);
    return 0;
}

int read_key_file(const std::string& path, std::optional<Credential>& out) {
    WipedBuffer<2 * store::kStoreKeyBytes + 3> buf;  // one byte more than allowed: detects excess
    if (int rc = read_secret_file(path, "key file", buf); rc != 0) return rc;
    std::size_t n = buf.size;
    if (n > 0 && buf.bytes[n - 1] == '\n') --n;
    if (n > 0 && buf.bytes[n - 1] == '\r') --n;
    auto key = store::StoreKey::from_hex(
        std::string_view(reinterpret_cast<const char*>(buf.bytes.data()), n));
    if (!key) return fail(kExitUsage, "the key file must hold exactly 64 hex characters");
    out = Credential::raw_key(std::move(*key));
    return 0;
}

int read_passphrase_file(const std::string& path, std::optional<Credential>& out) {
    WipedBuffer<store::Passphrase::kMaxBytes + 2> buf;
    if (int rc = read_secret_file(path, "passphrase file", buf); rc != 0) return rc;
    std::size_t n = buf.size;
    if (n > 0 && buf.bytes[n - 1] == '\n') --n;
    if (n == 0) return fail(kExitUsage, "the passphrase file is empty");
    if (n > store::Passphrase::kMaxBytes)
        return fail(kExitUsage, "the passphrase is longer than 1024 bytes");
    auto p = store::Passphrase::from(std::span<const std::uint8_t>(buf.bytes.data(), n));
    if (!p) return fail(kExitFailure, p.error().what);
    out = Credential::passphrase(std::move(*p), store::KdfParams::interactive());
    return 0;
}

// The credential named by --key-file / --passphrase-file (exactly one).
int read_credential(const std::string& key_file, const std::string& passphrase_file,
                    const char* key_flag, const char* pass_flag, std::optional<Credential>& out) {
    if (key_file.empty() == passphrase_file.empty())
        return fail(kExitUsage, fmt::format("give exactly one of {} and {}", key_flag, pass_flag));
    return key_file.empty() ? read_passphrase_file(passphrase_file, out)
                            : read_key_file(key_file, out);
}

int store_error(const Error& e) {
    return fail(kExitFailure, fmt::format("{} ({})", e.what, error_code_name(e.code)));
}

// Validates --now and --retention-days; fills `now`.
int resolve_clock(const StoreOptions& o, std::int64_t& now) {
    now = o.now ? *o.now
                : std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    if (!core::interval_number(now)) return fail(kExitUsage, "--now is outside the supported time range");
    if (o.retention_days < 1 || o.retention_days > 3650)
        return fail(kExitUsage, "--retention-days must be 1..3650");
    return 0;
}

// Reads the credential and opens the store. Returns an exit code; `out` is set on 0.
int open_store(const StoreOptions& o, bool create, std::optional<EncounterStore>& out,
               bool read_only = false) {
    std::optional<Credential> cred;
    if (int rc = read_credential(o.key_file, o.passphrase_file, "--key-file", "--passphrase-file", cred);
        rc != 0)
        return rc;
    store::OpenOptions opts;
    opts.create_if_missing = create;
    opts.read_only = read_only;
    opts.retention_days = o.retention_days;
    auto s = EncounterStore::open(o.store, std::move(*cred), opts);
    if (!s) {
        if (!create && s.error().code == ErrorCode::kStorageIo && !std::filesystem::exists(o.store))
            return fail(kExitFailure, "store: no store at this path");
        return store_error(s.error());
    }
    out.emplace(std::move(*s));
    return 0;
}

// ---- ingest ------------------------------------------------------------------------------------

struct IngestOptions {
    StoreOptions store;
    std::string input;
};

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

template <class T>
bool parse_int(std::string_view s, T& out) {
    if (s.empty()) return false;
    const char* b = s.data();
    if (*b == '+') ++b;  // from_chars takes no '+'
    const auto [p, ec] = std::from_chars(b, s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

// Parses `unix_seconds,rssi_dbm,hex`; on failure returns a static reason.
const char* parse_line(std::string_view line, core::Observation& o) {
    std::string_view fields[3];
    std::size_t n = 0;
    while (true) {
        const std::size_t c = line.find(',');
        if (n == 3) return "expected 3 fields: unix_seconds,rssi_dbm,service_data_hex";
        fields[n++] = trim(line.substr(0, c));
        if (c == std::string_view::npos) break;
        line.remove_prefix(c + 1);
    }
    if (n != 3) return "expected 3 fields: unix_seconds,rssi_dbm,service_data_hex";
    if (!parse_int(fields[0], o.time)) return "time is not an integer";
    int rssi = 0;
    if (!parse_int(fields[1], rssi)) return "RSSI is not an integer";
    if (rssi < core::kMinRssiDbm || rssi > core::kMaxRssiDbm) return "observation: RSSI out of range";
    o.rssi = static_cast<std::int8_t>(rssi);
    const std::string_view hex = fields[2];
    if (hex.size() > 2 * 31) return "payload longer than 31 bytes";
    std::array<std::uint8_t, 31> bytes{};
    if (hex.size() % 2 != 0 || !from_hex_into(hex, std::span(bytes.data(), hex.size() / 2)))
        return "payload is not hex";
    auto beacon = core::decode_beacon(std::span<const std::uint8_t>(bytes.data(), hex.size() / 2));
    if (!beacon) return beacon.error().what;
    o.beacon = *beacon;
    return nullptr;
}

int run_ingest(IngestOptions& o) {
    std::int64_t now = 0;
    if (int rc = resolve_clock(o.store, now); rc != 0) return rc;
    std::ifstream file;
    std::istream* in = &std::cin;
    if (o.input != "-") {
        file.open(o.input, std::ios::binary);
        if (!file) return fail(kExitFailure, "cannot read the input file");
        in = &file;
    }
    std::optional<EncounterStore> s;
    if (int rc = open_store(o.store, true, s); rc != 0) return rc;
    if (auto r = s->apply_retention(now); !r) return store_error(r.error());

    std::uint64_t accepted = 0, new_rows = 0, invalid = 0;
    std::vector<core::Observation> batch;
    std::vector<std::uint64_t> lines;  // line number of each batch entry
    batch.reserve(kIngestBatch);
    auto flush = [&]() -> int {
        if (batch.empty()) return 0;
        auto r = s->ingest(batch, now);
        if (!r) return store_error(r.error());
        accepted += r->accepted;
        new_rows += r->new_rows;
        for (const auto& rej : r->rejected) {
            ++invalid;
            fmt::print(stderr, "line {}: {}\n", lines[rej.index], rej.error.what);
        }
        batch.clear();
        lines.clear();
        return 0;
    };
    std::string line;
    std::uint64_t number = 0;
    while (std::getline(*in, line)) {
        ++number;
        const std::string_view t = trim(line);
        if (t.empty() || t.front() == '#') continue;
        core::Observation obs;
        if (const char* why = parse_line(t, obs)) {
            ++invalid;
            fmt::print(stderr, "line {}: {}\n", number, why);
            continue;
        }
        batch.push_back(obs);
        lines.push_back(number);
        if (batch.size() == kIngestBatch)
            if (int rc = flush(); rc != 0) return rc;
    }
    if (in->bad()) return fail(kExitFailure, "error while reading the input file");
    if (int rc = flush(); rc != 0) return rc;
    fmt::print("ingested {} sightings ({} new RPI-interval rows), {} invalid lines\n", accepted,
               new_rows, invalid);
    return kExitOk;
}

// ---- store subcommands ------------------------------------------------------------------------

int run_stats(StoreOptions& o) {
    std::int64_t now = 0;
    if (int rc = resolve_clock(o, now); rc != 0) return rc;
    std::optional<EncounterStore> s;
    if (int rc = open_store(o, false, s); rc != 0) return rc;
    if (auto r = s->apply_retention(now); !r) return store_error(r.error());
    auto st = s->stats();
    if (!st) return store_error(st.error());
    nlohmann::ordered_json j;
    j["sightings"] = st->sightings;
    j["rpis"] = st->rpis;
    j["days"] = st->days;
    j["own_keys"] = st->own_keys;
    j["exposure_records"] = st->exposure_records;
    fmt::print("{}\n", j.dump());
    return kExitOk;
}

int run_verify(StoreOptions& o) {
    std::int64_t now = 0;
    if (int rc = resolve_clock(o, now); rc != 0) return rc;
    std::optional<EncounterStore> s;
    // Read-only: verifying changes nothing, not even retention.
    if (int rc = open_store(o, false, s, /*read_only=*/true); rc != 0) return rc;
    if (auto r = s->verify(); !r) return store_error(r.error());
    auto st = s->stats();
    if (!st) return store_error(st.error());
    auto cutoff = store::retention_cutoff(now, o.retention_days);
    if (!cutoff) return fail(kExitUsage, "--now is outside the supported time range");
    auto expired = s->sightings_in_range(0, *cutoff);
    if (!expired) return store_error(expired.error());
    fmt::print("ok: {} sightings, {} own keys, {} sightings past the retention window\n",
               st->sightings, st->own_keys, expired->size());
    return kExitOk;
}

struct RekeyOptions {
    StoreOptions store;
    std::string new_key_file;
    std::string new_passphrase_file;
};

int run_rekey(RekeyOptions& o) {
    std::int64_t now = 0;
    if (int rc = resolve_clock(o.store, now); rc != 0) return rc;
    std::optional<Credential> fresh;
    if (int rc = read_credential(o.new_key_file, o.new_passphrase_file, "--new-key-file",
                                 "--new-passphrase-file", fresh);
        rc != 0)
        return rc;
    std::optional<EncounterStore> s;
    if (int rc = open_store(o.store, false, s); rc != 0) return rc;
    if (auto r = s->apply_retention(now); !r) return store_error(r.error());
    if (auto r = s->rekey(std::move(*fresh)); !r) return store_error(r.error());
    fmt::print("rekeyed\n");
    return kExitOk;
}

struct EraseOptions {
    std::string store;
    bool yes = false;
    std::optional<std::int64_t> now;
};

int run_erase(EraseOptions& o) {
    if (!o.yes) return fail(kExitUsage, "store erase deletes the store for good: add --yes");
    auto r = EncounterStore::destroy(o.store);
    if (!r) {
        if (r.error().code == ErrorCode::kStorageNotAStore)
            return fail(kExitRefused, "refusing to erase: not a sotto store (no key-derivation file)");
        return store_error(r.error());
    }
    fmt::print("erased\n");
    return kExitOk;
}

}  // namespace

void add_store_commands(CLI::App& app, Runner& run) {
    {
        auto o = std::make_shared<IngestOptions>();
        auto* cmd = app.add_subcommand(
            "ingest", "Store captured beacons: CSV lines unix_seconds,rssi_dbm,service_data_hex");
        add_store_options(cmd, o->store);
        cmd->add_option("FILE", o->input,
                        "CSV file ('-' for stdin); the hex is the 20-byte service data (RPI ‖ AEM) "
                        "or the full advertising data")
            ->required()
            ->check([](const std::string& f) -> std::string {
                return f == "-" || std::filesystem::is_regular_file(f) ? ""
                                                                       : "input file not found";
            });
        cmd->callback([o, &run] { run = [o] { return run_ingest(*o); }; });
    }
    auto* st = app.add_subcommand("store", "Inspect and maintain the encrypted store");
    st->require_subcommand(1);
    {
        auto o = std::make_shared<StoreOptions>();
        auto* cmd = st->add_subcommand(
            "stats", R"(Print {"sightings":n,"rpis":n,"days":n,"own_keys":n,...} as JSON)");
        add_store_options(cmd, *o);
        cmd->callback([o, &run] { run = [o] { return run_stats(*o); }; });
    }
    {
        auto o = std::make_shared<StoreOptions>();
        auto* cmd = st->add_subcommand("verify", "Check the store's integrity (reads every page)");
        add_store_options(cmd, *o);
        cmd->callback([o, &run] { run = [o] { return run_verify(*o); }; });
    }
    {
        auto o = std::make_shared<RekeyOptions>();
        auto* cmd = st->add_subcommand("rekey", "Change the store's key or passphrase (atomic)");
        add_store_options(cmd, o->store);
        auto* k = cmd->add_option("--new-key-file", o->new_key_file, "File with the new raw key");
        auto* p = cmd->add_option("--new-passphrase-file", o->new_passphrase_file,
                                  "File with the new passphrase");
        k->excludes(p);
        cmd->callback([o, &run] { run = [o] { return run_rekey(*o); }; });
    }
    {
        auto o = std::make_shared<EraseOptions>();
        auto* cmd = st->add_subcommand(
            "erase", "Delete the store and its side files for good (\"forget me\"); needs --yes");
        cmd->add_option("--store", o->store, "Path of the store database")->required();
        cmd->add_flag("--yes", o->yes, "Really delete");
        cmd->add_option("--now", o->now, "Accepted for symmetry; erase uses no clock");
        cmd->callback([o, &run] { run = [o] { return run_erase(*o); }; });
    }
}

}  // namespace sotto::cli
