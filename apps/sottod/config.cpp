#include "config.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <CLI/CLI.hpp>

#include <sotto/fetch/url_policy.hpp>
#include <sotto/version.hpp>

#include "status_socket.hpp"

namespace sotto::sottod {

Result<std::int64_t> parse_duration_ms(const std::string& text) noexcept {
    const Error bad{ErrorCode::kInvalidArgument, "duration: expected e.g. 90s, 15m, 4h, 1d, 250ms"};
    if (text.empty() || text.size() > 24) return bad;
    std::size_t i = 0;
    std::int64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        n = n * 10 + (text[i] - '0');
        if (n > 100'000'000) return bad;
        ++i;
    }
    if (i == 0) return bad;
    const std::string unit = text.substr(i);
    std::int64_t factor = 0;
    if (unit.empty() || unit == "s")
        factor = 1000;
    else if (unit == "ms")
        factor = 1;
    else if (unit == "m" || unit == "min")
        factor = 60'000;
    else if (unit == "h")
        factor = 3'600'000;
    else if (unit == "d")
        factor = 86'400'000;
    else
        return bad;
    const std::int64_t ms = n * factor;
    if (ms <= 0 || ms > std::int64_t{30} * 86'400'000) return bad;
    return ms;
}

ParsedCommandLine parse_command_line(int argc, char** argv) {
    Config c;
    std::string radio = "bluez", check_every = "4h", http_timeout = "120s", flush_every = "30s";
    std::string store, key_file, keys_dir, fetch_dir, status_socket;
    CLI::App app{
        "sottod: the sotto exposure-notification daemon (GAEN v1.2). "
        "Advertises and scans, stores what it hears encrypted, downloads and checks "
        "diagnosis keys. See docs/daemon.md."};
    app.add_option("--radio", radio, "bluez (BlueZ over the D-Bus system bus) or simulated")
        ->check(CLI::IsMember({"bluez", "simulated"}));
    app.add_option("--store", store, "encrypted store file (created if missing)")->required();
    app.add_option(
        "--key-file", key_file,
        "store key: 64 hex characters, mode 0600 (default: $CREDENTIALS_DIRECTORY/store-key)");
    app.add_option("--adapter", c.adapter, "BlueZ adapter (default hci0)");
    app.add_option("--keys-url", c.keys_url,
                   "key server root with index.txt (https://, or http:// to a loopback address)");
    app.add_option("--keys-dir", keys_dir, "local directory in the same layout (or holding *.zip)");
    app.add_option("--pubkey", c.pubkeys, "PEM public key(s) key files must be signed with");
    app.add_option("--check-every", check_every,
                   "time between key downloads and checks (default 4h)");
    app.add_option("--fetch-dir", fetch_dir, "download state and spool (default <store>.fetch)");
    app.add_option("--status-socket", status_socket,
                   "Unix socket for `sotto status` (default $RUNTIME_DIRECTORY/status.sock, else "
                   "$XDG_RUNTIME_DIR/sotto/status.sock); must name a socket or nothing");
    app.add_option("--http-timeout", http_timeout, "longest transfer of one file (default 120s)");
    app.add_option("--max-file-bytes", c.max_file_bytes,
                   "largest key file downloaded (default 32 MiB)");
    const CLI::Option* spool_option = app.add_option(
        "--max-spool-bytes", c.max_spool_bytes,
        "most bytes of downloaded key files not yet used, kept at once (default 256 MiB, or "
        "--max-file-bytes if larger)");
    app.add_option("--ca-file", c.ca_file,
                   "PEM CA certificates to trust for --keys-url (default: the system's)");
    app.add_flag("--scan-continuous", c.scan_continuous,
                 "scan all the time instead of GAEN's 4 s every 3.5-5 min");
    app.add_option("--flush-every", flush_every,
                   "write heard beacons at least this often (default 30s)");
    app.add_flag("--debug", c.debug, "also log <7> debug lines (still no identifiers)");
    app.add_flag("--trust-clock", c.trust_clock,
                 "the clock is reliable without NTP (battery-backed RTC): retention after days "
                 "off needs no synchronized clock");
    app.add_option("--sim-peers", c.sim_peers,
                   "simulated radio: phones standing nearby (0-50, default 3)")
        ->check(CLI::Range(0, 50));
    app.add_option("--sim-seed", c.sim_seed,
                   "simulated radio: seed of the peers' keys and the air");
    app.add_option("--sim-start", c.sim_start_ms, "simulated radio: simulated start time, Unix ms");
    app.add_option("--sim-speed", c.sim_speed, "simulated radio: simulated ms per real ms (1-3600)")
        ->check(CLI::Range(1, 3600));
    app.set_version_flag("--version", std::string("sottod ") + version_string(),
                         "Print the version and exit");
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return {std::nullopt, app.exit(e)};
    } catch (const CLI::CallForVersion& e) {
        return {std::nullopt, app.exit(e)};
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "<3>sottod: %s\n", e.what());
        return {std::nullopt, 2};
    }
    const auto usage = [](const char* what) {
        std::fprintf(stderr, "<3>sottod: %s\n", what);
        return ParsedCommandLine{std::nullopt, 2};
    };
    c.radio = radio == "simulated" ? RadioKind::kSimulated : RadioKind::kBluez;
    c.store = store;
    c.key_file = key_file;
    c.keys_dir = keys_dir;
    if (key_file.empty()) {
        const char* creds = std::getenv("CREDENTIALS_DIRECTORY");
        if (creds == nullptr || *creds == '\0')
            return usage("no --key-file and no systemd credential ($CREDENTIALS_DIRECTORY unset)");
        c.key_file = std::filesystem::path(creds) / "store-key";
    }
    const auto every = parse_duration_ms(check_every);
    if (!every) return usage("--check-every: expected e.g. 30s, 15m, 4h");
    c.check_every_ms = *every;
    const auto timeout = parse_duration_ms(http_timeout);
    if (!timeout || *timeout > 3'600'000)
        return usage("--http-timeout: expected e.g. 30s (at most 1h)");
    c.http_timeout_ms = *timeout;
    const auto flush = parse_duration_ms(flush_every);
    if (!flush) return usage("--flush-every: expected e.g. 30s");
    c.flush_interval_ms = *flush;
    if (c.max_file_bytes < 1024 || c.max_file_bytes > (std::uint64_t{1} << 30))
        return usage("--max-file-bytes: 1 KiB .. 1 GiB");
    // Without --max-spool-bytes the cap never refuses a file --max-file-bytes allows (as in
    // `sotto fetch`); only an explicit value below --max-file-bytes is the operator's mistake.
    if (spool_option->count() == 0)
        c.max_spool_bytes = std::max(c.max_spool_bytes, c.max_file_bytes);
    if (c.max_spool_bytes < c.max_file_bytes || c.max_spool_bytes > (std::uint64_t{1} << 40))
        return usage("--max-spool-bytes: --max-file-bytes .. 1 TiB");
    if ((!c.keys_url.empty() || !keys_dir.empty()) && c.pubkeys.empty())
        return usage("--keys-url/--keys-dir need --pubkey (key files are only used once verified)");
    if (!c.keys_url.empty() && !keys_dir.empty())
        return usage("give --keys-url or --keys-dir, not both");
    if (!c.keys_url.empty() && !fetch::check_url(c.keys_url))
        return usage("--keys-url: https://, or http:// to a loopback address only");
    c.fetch_dir = fetch_dir.empty() ? std::filesystem::path(store + ".fetch")
                                    : std::filesystem::path(fetch_dir);
    if (!status_socket.empty()) {
        c.status_socket = status_socket;
    } else if (const char* run = std::getenv("RUNTIME_DIRECTORY"); run != nullptr && *run != '\0') {
        // RuntimeDirectory= may list several directories (separated by ':'): the first one.
        const std::string first = std::string(run).substr(0, std::string(run).find(':'));
        c.status_socket = std::filesystem::path(first) / "status.sock";
    } else if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg != nullptr && *xdg == '/') {
        c.status_socket_make_dir = std::filesystem::path(xdg) / "sotto";
        c.status_socket = c.status_socket_make_dir / "status.sock";
    }
    // Checked before anything is opened: a path naming a regular file (or anything but a
    // socket) is refused, never replaced. The XDG directory may not exist yet.
    if (!c.status_socket.empty() && c.status_socket_make_dir.empty()) {
        if (auto ok = check_status_socket_path(c.status_socket); !ok) {
            std::fprintf(stderr, "<3>sottod: %s\n", ok.error().what);
            return {std::nullopt, 2};
        }
    }
    if (c.radio == RadioKind::kBluez && (c.sim_start_ms != 0 || c.sim_speed != 1))
        return usage("--sim-* options need --radio simulated");
    return {c, 0};
}

}  // namespace sotto::sottod
