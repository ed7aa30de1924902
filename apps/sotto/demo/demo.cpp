#include "demo.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>

#include <sotto/core/rng.hpp>
#include <sotto/keyfile/export_writer.hpp>
#include <sotto/platform/simulated/air.hpp>
#include <sotto/platform/simulated/simulated_radio.hpp>
#include <sotto/store/encounter_store.hpp>
#include <sotto/tracer.hpp>
#include <sotto/update/key_updater.hpp>

#include "bucket_server.hpp"
#include "story.hpp"
#include "timeline_svg.hpp"

namespace sotto::demo {

namespace {

namespace fs = std::filesystem;
namespace sim = platform::simulated;

struct Failed {
    const char* what;
    Error error;
};

template <class T>
T need(Result<T> r, const char* what) {
    if (!r) throw Failed{what, r.error()};
    return std::move(*r);
}
void need(Result<void> r, const char* what) {
    if (!r) throw Failed{what, r.error()};
}

std::string hhmm(std::int64_t t) {
    const std::int64_t s = ((t % 86400) + 86400) % 86400;
    return fmt::format("{:02}:{:02}", s / 3600, s / 60 % 60);
}
std::string day_name(std::int64_t t) {
    static const char* names[] = {"Mon 16 Nov", "Tue 17 Nov", "Wed 18 Nov", "Thu 19 Nov",
                                  "Fri 20 Nov"};
    const auto d = (t - kMonday) / kDaySeconds;
    return d >= 0 && d < 5 ? names[d] : "?";
}
const char* distance_words(int attenuation_db) {
    if (attenuation_db < 55) return "very close";
    if (attenuation_db < 63) return "close (1-3 m)";
    if (attenuation_db < 73) return "a few metres away";
    return "far";
}
std::string risk_word(const CheckReport& r) {
    std::string w = to_string(r.risk);
    for (char& c : w) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return w;
}

struct Phone {
    std::string name;
    std::optional<Tracer> tracer;
};

/// One phone runs the library's key updater once: downloads the bucket, verifies each file
/// (fail-closed), checks the verified ones, marks them used and the forged one refused.
struct PhoneResult {
    CheckReport report;
    std::vector<UpdateFile> files;
    std::size_t refused = 0, used = 0, downloaded = 0;
};

PhoneResult download_and_check(Phone& p, const std::string& url, const fs::path& dir) {
    auto updater = need(KeyUpdater::create(*p.tracer, fetch::Source{url}, dir / (p.name + ".keys")),
                        "key updater");
    auto round = need(updater.run(), "download and check");
    if (round.index_status == fetch::IndexStatus::kFailed)
        throw Failed{"download index", round.index_error};
    PhoneResult out;
    for (const auto& f : round.files) {
        if (f.downloaded) ++out.downloaded;
        if (f.outcome == UpdateOutcome::kChecked) ++out.used;
        if (f.outcome == UpdateOutcome::kRefused) ++out.refused;
    }
    if (round.check) out.report = std::move(*round.check);
    out.files = std::move(round.files);
    return out;
}

void tell(const Phone& p, const PhoneResult& r, const std::vector<std::string>& names) {
    fmt::print("\n{}'s phone downloaded {} key file(s) from the health authority's server:\n",
               p.name, r.downloaded);
    for (const auto& f : r.files)
        fmt::print("  {}: {}\n", f.outcome == UpdateOutcome::kChecked ? "export" : "another file",
                   f.outcome == UpdateOutcome::kChecked
                       ? fmt::format("signature verified, {} keys checked against {} stored "
                                     "sightings",
                                     f.keys, r.report.sightings)
                       : fmt::format("REFUSED, not used ({})", f.reason.what));
    if (r.report.report.encounters.empty()) fmt::print("  no exposure found.\n");
    for (const auto& e : r.report.report.encounters)
        fmt::print("  exposure on {}, {}-{} UTC: about {} min, {} (typical attenuation {} dB)\n",
                   day_name(e.first_seen), hhmm(e.first_seen), hhmm(e.last_seen + 60), e.minutes,
                   distance_words(e.typical_attenuation_db), e.typical_attenuation_db);
    // Relayed RPIs: how many, how many packets of them were heard, and over which time (the
    // matches are ordered by file and key, not by time).
    std::size_t suspect_rpis = 0;
    std::uint64_t suspect_packets = 0;
    std::int64_t first = INT64_MAX, last = INT64_MIN;
    for (const auto& m : r.report.matches)
        if (m.status == core::MatchStatus::kSuspect) {
            ++suspect_rpis;
            suspect_packets += m.sightings;
            first = std::min(first, m.first_seen);
            last = std::max(last, m.last_seen);
        }
    if (suspect_rpis > 0)
        fmt::print(
            "  {} packets ({} RPIs) of {}'s key, heard {} {} - {} {}, were broadcast hours "
            "earlier: relayed, SUSPECT, not counted\n",
            suspect_packets, suspect_rpis, names[0], day_name(first), hhmm(first), day_name(last),
            hhmm(last));
    fmt::print("  => risk {}{}\n", risk_word(r.report),
               r.report.report.risk.total_risk_level == core::CwaRiskLevel::kHigh
                   ? ": please get tested."
                   : ".");
}

int run(const DemoOptions& options) {
    fs::path dir;
    if (options.keep) {
        dir = *options.keep;
        fs::create_directories(dir);
    } else {
        std::string tmpl = (fs::temp_directory_path() / "sotto-demo-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            fmt::print(stderr, "sotto demo: cannot create a temporary directory\n");
            return 1;
        }
        dir = tmpl;
    }
    const bool progress = ::isatty(2) != 0;
    auto rng = need(core::SystemRng::create(), "randomness");

    fmt::print("sotto demo: four phones, three days, GAEN v1.2 beacons on a simulated air.\n");
    fmt::print("Each phone is a full Tracer with its own encrypted store in {}\n", dir.string());

    ManualClock world(kMonday * 1000);
    sim::AirConfig air_config;
    air_config.seed = 2026;
    air_config.noise_sigma_db = 2;
    air_config.packet_loss = 0.05;
    air_config.step_ms = 1000;
    auto air = need(sim::Air::create(world, air_config), "air");

    auto health = need(keyfile::ExportSigner::generate(), "health authority key");
    keyfile::TrustStore trust;  // shipped with the app
    need(trust.add_pem("262", "v1", need(health.public_key_pem(), "public key")), "trust store");

    const auto cast = people();
    std::vector<Phone> phones(cast.size());
    std::vector<sim::NodeId> ids;
    for (std::size_t i = 0; i < cast.size(); ++i) {
        phones[i].name = cast[i].name;
        auto radio = need(air->add_radio(cast[i].stays.front().at), "radio");
        ids.push_back(radio->id());
        need(air->set_path(radio->id(), cast[i].path()), "path");
        store::StoreKey key;  // in a real app: from the platform keystore
        rng.fill(key.expose_secret_mut());
        const fs::path path = dir / (cast[i].name + ".db");
        if (fs::exists(path)) need(store::EncounterStore::destroy(path), "remove an old store");
        TracerOptions o;
        o.trust = trust;
        o.engine.match.prefilter = false;  // all 144 RPIs of every key: also finds far-off replays
        // A simulation: each phone's TEKs, addresses and scan phases come from a seeded stream, so
        // every run tells the same story (a real Tracer leaves `rng` null: the system CSPRNG).
        o.rng = std::make_shared<core::DeterministicRng>(air_config.seed + i);
        phones[i].tracer.emplace(need(
            Tracer::open(path, store::Credential::raw_key(std::move(key)), world, std::move(o)),
            "open store"));
        need(phones[i].tracer->attach_radio(std::move(radio)), "attach radio");
    }
    need(air->add_relay({relay_listen_point(), relay_emit_point(), kRelayDelayMs, 0}), "relay");

    fmt::print(
        "\nThe week (UTC):\n"
        "  Mon, Tue  08:00  Alice and Bob take the same tram, side by side; they work in one "
        "office, 8 m apart\n"
        "  Mon       17:05  ... and ride home together\n"
        "  Tue       12:05  Alice buys a coffee at the cafe where Carol works, a few metres from "
        "the counter\n"
        "  Mon, Tue         a relay hidden next to Alice's desk records every beacon and replays "
        "it 3 h\n"
        "                   later outside Dave's flat across town; Dave never meets Alice\n"
        "  Wed              Alice stays at home, ill\n");

    // Three days of air in 2-second steps: every Tracer rotates its RPI (10-20 min), opens and
    // closes its 4-second scan windows (every 3.5-5 min) and writes batches on its own tick.
    const std::int64_t end = kMonday + kDays * kDaySeconds;
    for (std::int64_t t = kMonday + 2; t <= end; t += 2) {
        need(air->advance_to(t * 1000), "air");
        for (auto& p : phones) need(p.tracer->tick(), "tick");
        if (progress && (t - kMonday) % (3 * kHour) == 0)
            fmt::print(stderr, "\r  simulating {} {} ...", day_name(t - 1), hhmm(t));
    }
    if (progress) fmt::print(stderr, "\r{:40}\r", "");
    const auto counters = air->counters();
    fmt::print(
        "\nThe air carried {} beacons to listening phones (the relay captured {} to replay).\n",
        counters.packets_delivered, counters.packets_relayed);
    for (auto& p : phones) {
        need(p.tracer->flush(), "flush");
        const auto stats = need(p.tracer->store_stats(), "stats");
        fmt::print("  {:5}'s phone stored {} beacons as {} sightings (encrypted, {:.0f} kB)\n",
                   p.name, p.tracer->status().stored, stats.sightings,
                   static_cast<double>(fs::file_size(dir / (p.name + ".db"))) / 1024.0);
    }
    {
        std::ifstream f(dir / "Bob.db", std::ios::binary);
        char head[16] = {};
        f.read(head, sizeof head);
        fmt::print("  Bob.db as a thief sees it: SQLite header {}\n",
                   std::string(head, 15) == "SQLite format 3" ? "PRESENT" : "absent");
    }

    // Thursday 09:00: Alice tests positive and, after she confirms, her phone releases her keys.
    const std::int64_t thursday = kMonday + 3 * kDaySeconds;
    need(air->advance_to((thursday + 9 * kHour) * 1000), "air");
    auto released = need(phones[0].tracer->release_own_keys(user_confirmed_upload_of_own_keys()),
                         "release keys");
    std::vector<core::DiagnosisKey> keys;
    for (auto& r : released)
        keys.push_back(
            {std::move(r.key), 6, core::ReportType::kConfirmedTest, 2});  // infectious: CWA "high"
    keyfile::ExportWriteOptions wo;
    wo.key_id = "262";
    wo.key_version = "v1";
    wo.region = "XX";
    wo.start_timestamp = static_cast<std::uint64_t>(thursday - 14 * kDaySeconds);
    wo.end_timestamp = static_cast<std::uint64_t>(thursday + 9 * kHour);
    wo.padding_keys = 99;
    const auto bin = need(keyfile::build_export(keys, health, wo, rng), "build export");
    auto server = need(BucketServer::start(), "key server");
    const std::string good = "exposureKeyExport-XX/1795593600-00001.zip";
    const std::string forged = "exposureKeyExport-XX/1795593600-00002.zip";
    server->put("/" + good, need(keyfile::zip_export(bin), "zip export"));
    auto mallory = need(keyfile::ExportSigner::generate(), "forger key");
    const auto fake = need(keyfile::build_export(keys, mallory, wo, rng), "build forged export");
    server->put("/" + forged, need(keyfile::zip_export(fake), "zip forged export"));
    server->put("/index.txt", [&] {
        const std::string index = good + "\n" + forged + "\n";
        return std::vector<std::uint8_t>(index.begin(), index.end());
    }());
    fmt::print(
        "\nThu 19 Nov, 09:00: Alice tests positive and agrees to share her keys. The health "
        "authority\n"
        "signs {} keys ({} hers, {} padding) and serves them at {} (export-bucket layout).\n"
        "Mallory slips a second file into the bucket, signed with her own key under the same key "
        "id.\n",
        keys.size() + wo.padding_keys, keys.size(), wo.padding_keys, server->url());

    // Thursday 12:00: everyone else downloads, verifies and checks on their own phone.
    need(air->advance_to((thursday + 12 * kHour) * 1000), "air");
    Timeline timeline;
    timeline.people = cast;
    timeline.positive = 0;
    timeline.relay_capture_from = kMonday + 8 * kHour + 35 * kMinute;
    timeline.relay_capture_to = kMonday + kDaySeconds + 17 * kHour;
    timeline.relay_capture_hours = 8;  // 08:35-16:35 drawn; Alice sits at her desk until 17:00
    std::vector<std::string> names;
    for (const auto& p : cast) names.push_back(p.name);
    std::vector<std::string> summary;
    for (std::size_t i = 1; i < phones.size(); ++i) {
        const auto r = download_and_check(phones[i], server->url(), dir);
        tell(phones[i], r, names);
        std::size_t suspect = 0;
        for (const auto& m : r.report.matches)
            if (m.status == core::MatchStatus::kSuspect) {
                ++suspect;
                timeline.findings.push_back({i, m.first_seen, m.last_seen, true, 0});
            }
        for (const auto& e : r.report.report.encounters)
            timeline.findings.push_back(
                {i, e.first_seen, e.last_seen + 60, false, e.typical_attenuation_db});
        summary.push_back(
            fmt::format("  {}: risk {}, {} exposure window(s), {} suspect beacon(s), {} file(s) "
                        "refused, {} used",
                        phones[i].name, risk_word(r.report), r.report.report.windows.size(),
                        suspect, r.refused, r.used));
    }
    timeline.contacts = contacts(cast, *air, ids);

    for (auto& p : phones) p.tracer.reset();  // detach the radios, close the stores
    fs::create_directories(options.out_dir);
    const fs::path svg = fs::absolute(options.out_dir / "timeline.svg");
    {
        std::ofstream f(svg, std::ios::binary | std::ios::trunc);
        f << timeline_svg(timeline);
        if (!f) throw Failed{"timeline", Error{ErrorCode::kStorageIo, "cannot write timeline.svg"}};
    }
    fmt::print("\nSummary (what each phone concluded on its own):\n");
    for (const auto& line : summary) fmt::print("{}\n", line);
    fmt::print("\nTimeline (open it in a browser): {}\n", svg.string());
    fmt::print("Nothing left the phones except Alice's published keys.\n");
    if (!options.keep) {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    return 0;
}

}  // namespace

int run_demo(const DemoOptions& options) noexcept {
    try {
        return run(options);
    } catch (const Failed& f) {
        std::fprintf(stderr, "sotto demo: %s: %s\n", f.what, f.error.what);
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "sotto demo: out of memory\n");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sotto demo: %s\n", e.what());
    }
    return 1;
}

}  // namespace sotto::demo
