// sotto-demo: a day in the life of three phones, told with the real library.
//
// Alice, Bob and Carol each run sotto: every phone broadcasts the beacons of its own Temporary
// Exposure Key and writes what it hears into its own encrypted store. On the tram Alice and Bob
// sit together; at lunch Alice stands a few metres from Carol; a prankster records Alice's beacon
// and replays it near Carol in the afternoon. The next day Alice tests positive and publishes her
// keys; the health authority signs them into an export.zip. Bob and Carol download it and check,
// each on their own phone, whether they were exposed. A forged key file is refused.
//
// Usage: sotto-demo [--keep DIR]   (keeps the stores and key files in DIR)
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>

#include <sotto/bytes.hpp>
#include <sotto/core/keys.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/core/rolling_id.hpp>
#include <sotto/keyfile/export_writer.hpp>
#include <sotto/store/encounter_store.hpp>
#include <sotto/tracer.hpp>

namespace {

namespace fs = std::filesystem;
using namespace sotto;
using namespace sotto::core;

constexpr std::int64_t kDay = 1795305600;      // Tue 2026-11-17 00:00:00 UTC: the day of the story
constexpr std::int64_t kHour = 3600, kMinute = 60;
constexpr std::int64_t kScanEvery = 2 * kMinute;  // each phone scans for a few seconds every 2 minutes

std::string clock(std::int64_t t) {
    const std::int64_t s = ((t % 86400) + 86400) % 86400;
    return fmt::format("{:02}:{:02}", s / 3600, s / 60 % 60);
}

std::string day_name(std::int64_t t) { return (t - kDay) / 86400 == 0 ? "Tue 17 Nov" : "Wed 18 Nov"; }

const char* distance_words(int attenuation_db) {
    if (attenuation_db < 55) return "very close";
    if (attenuation_db < 63) return "close (about 1-2 m)";
    if (attenuation_db < 73) return "a few metres away";
    return "several metres away";
}

[[noreturn]] void die(const char* what, const Error& e) {
    fmt::print(stderr, "sotto-demo: {}: {} ({})\n", what, e.what, error_code_name(e.code));
    std::exit(1);
}

template <class T>
T check(Result<T> r, const char* what) {
    if (!r) die(what, r.error());
    return std::move(*r);
}
void check(Result<void> r, const char* what) {
    if (!r) die(what, r.error());
}

// The story's time: every phone's Tracer reads this clock. Each Tracer also changes its phone's
// RPI every 10-20 minutes (lib/ble's rotation scheduler).
ManualClock world;

// A phone: its Tracer (own keys, encrypted store, what it heard) and the metadata it broadcasts.
struct Phone {
    std::string name;
    Metadata metadata;
    std::optional<Tracer> tracer;

    // What the phone broadcasts at `t` (its Tracer creates the day's key at the first call).
    ServiceData broadcast_at(std::int64_t t) {
        world.set_ms(t * 1000);
        const auto adv = check(tracer->current_advertisement(), "advertisement");
        if (!adv.active) die("advertisement", Error{ErrorCode::kInternal, "nothing to broadcast"});
        return adv.service_data;
    }
};

struct Meeting {
    Phone* a;
    Phone* b;
    std::int64_t from, to;
    int rssi;  // typical received signal strength, dBm
    const char* where;
};

// What one phone learns from the published files, in plain words.
void tell(const std::string& name, const CheckReport& r) {
    fmt::print("\n{}'s phone checked {} published keys against {} stored sightings:\n", name,
               r.keys.keys - r.keys.keys_revoked, r.sightings);
    for (const auto& f : r.files)
        fmt::print("  {}: {}\n", fs::path(f.source).filename().string(),
                   f.verified ? fmt::format("signature verified (health authority key {}/{})",
                                            f.info.verified_key_id, f.info.verified_key_version)
                              : fmt::format("REFUSED, not used: {}", f.error ? f.error->what : ""));
    if (r.report.encounters.empty()) fmt::print("  no exposure found.\n");
    for (const auto& e : r.report.encounters)
        fmt::print("  exposure on {}, {}-{} UTC: about {} minutes, {} (closest {} dB, typical {} dB attenuation)\n",
                   day_name(e.first_seen), clock(e.first_seen), clock(e.last_seen + kMinute), e.minutes,
                   distance_words(e.typical_attenuation_db), e.min_attenuation_db, e.typical_attenuation_db);
    for (const auto& m : r.matches)
        if (m.status == MatchStatus::kSuspect)
            fmt::print("  a beacon heard at {} belongs to a positive key but was made for {}: {} -> not counted\n",
                       clock(m.first_seen), clock(interval_start_seconds(m.interval)), m.reason);
    const auto& risk = r.report.risk;
    if (risk.total_risk_level == CwaRiskLevel::kHigh) {
        fmt::print("  => risk HIGH (Corona-Warn-App rules): {} day(s) with high risk. Please get tested.\n",
                   risk.number_of_days_with_high_risk);
    } else if (risk.number_of_days_with_low_risk > 0) {
        fmt::print("  => risk LOW: an encounter, but below the warning threshold.\n");
    } else {
        fmt::print("  => risk LOW: {}.\n", r.report.encounters.empty() ? "nothing to worry about"
                                                                      : "too short or too far to count");
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::optional<fs::path> keep;
    if (argc == 3 && std::strcmp(argv[1], "--keep") == 0) {
        keep = argv[2];
    } else if (argc != 1) {
        fmt::print(stderr, "usage: sotto-demo [--keep DIR]\n");
        return 2;
    }
    fs::path dir;
    if (keep) {
        dir = *keep;
        fs::create_directories(dir);
    } else {
        std::string tmpl = (fs::temp_directory_path() / "sotto-demo-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            fmt::print(stderr, "sotto-demo: cannot create a temporary directory\n");
            return 1;
        }
        dir = tmpl;
    }
    auto rng = check(SystemRng::create(), "randomness");
    DeterministicRng noise(17);  // radio noise: reproducible

    fmt::print("sotto demo: three phones, one day, GAEN v1.2 beacons, everything on the devices.\n");
    fmt::print("Files: {}\n\n", dir.string());

    // ---- Tuesday: three phones, each with a Tracer over its own encrypted store -----------------
    world.set_ms(kDay * 1000);
    Phone alice{"Alice", {1, 1, CalibrationConfidence::kHigh}, {}};
    Phone bob{"Bob", {0, -14, CalibrationConfidence::kLowest}, {}};
    Phone carol{"Carol", {1, -8, CalibrationConfidence::kMedium}, {}};
    keyfile::TrustStore trust;  // shipped with the app: the health authority's public key
    auto signer = check(keyfile::ExportSigner::generate(), "signing key");  // the authority's
    check(trust.add_pem("999", "v1", check(signer.public_key_pem(), "public key")), "trust store");
    for (Phone* p : {&alice, &bob, &carol}) {
        store::StoreKey key;  // in a real app: from Android Keystore / iOS Keychain
        rng.fill(key.expose_secret_mut());
        const fs::path path = dir / (p->name + ".db");
        if (fs::exists(path)) check(store::EncounterStore::destroy(path), "remove the old store");  // --keep reruns
        TracerOptions o;
        o.metadata = p->metadata;
        o.trust = trust;
        o.engine.match.prefilter = false;  // all 144 RPIs of every key: also finds far-off replays
        p->tracer.emplace(check(Tracer::open(path, store::Credential::raw_key(std::move(key)), world, std::move(o)),
                                "open tracer"));
    }
    world.set_ms((kDay + 8 * kHour) * 1000);
    const auto sample = check(alice.tracer->current_advertisement(), "advertisement").advertising_data;
    fmt::print("Alice's phone at 08:00 advertises (31 bytes, changes every 10 min): {}\n", to_hex(sample.view()));

    const Meeting meetings[] = {
        {&alice, &bob, kDay + 8 * kHour + 5 * kMinute, kDay + 8 * kHour + 41 * kMinute, -58, "sit together on the tram"},
        {&alice, &carol, kDay + 12 * kHour + 30 * kMinute, kDay + 12 * kHour + 41 * kMinute, -80, "queue for lunch several metres apart"},
        {&bob, &carol, kDay + 17 * kHour, kDay + 17 * kHour + 21 * kMinute, -60, "have a coffee"},
    };
    std::optional<ServiceData> recorded;  // what the prankster records
    fmt::print("\nTuesday 17 Nov (UTC):\n");
    for (const auto& m : meetings) {
        fmt::print("  {}-{}  {} and {} {}\n", clock(m.from), clock(m.to), m.a->name, m.b->name, m.where);
        for (std::int64_t t = m.from; t < m.to; t += kScanEvery) {
            for (auto [rx, tx] : {std::pair{m.a, m.b}, std::pair{m.b, m.a}}) {
                const ServiceData sd = tx->broadcast_at(t);
                // A prankster records Alice's beacon on the tram just after 08:10.
                if (tx == &alice && !recorded && t >= kDay + 8 * kHour + 10 * kMinute) recorded = sd;
                for (int packet = 0; packet < 4; ++packet) {  // a 4-second scan hears ~4 packets
                    std::uint8_t r = 0;
                    noise.fill(std::span(&r, 1));
                    check(rx->tracer->on_advertisement(sd, m.rssi - 3 + r % 7, (t + packet) * 1000), "heard");
                }
            }
        }
    }
    // ... and replays it next to Carol at 15:30.
    for (int packet = 0; packet < 4; ++packet)
        check(carol.tracer->on_advertisement(*recorded, -55, (kDay + 15 * kHour + 30 * kMinute + packet) * 1000), "heard");
    fmt::print("  15:30        a prankster replays near Carol the beacon of Alice he recorded at 08:10\n");

    world.set_ms((kDay + 22 * kHour) * 1000);
    for (Phone* p : {&alice, &bob, &carol}) {
        check(p->tracer->flush(), "flush");
        const auto stats = check(p->tracer->store_stats(), "stats");
        fmt::print("  {}'s phone stored {} packets as {} RPI-interval rows in its encrypted store ({:.0f} kB on disk)\n",
                   p->name, p->tracer->status().stored, stats.sightings,
                   static_cast<double>(fs::file_size(dir / (p->name + ".db"))) / 1024.0);
    }
    {
        // What a thief who copies Bob's store sees: no SQLite header, no RPI in the clear.
        std::ifstream f(dir / "Bob.db", std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        const auto rpi = std::span(*recorded).first(kRpiBytes);
        const bool header = bytes.rfind("SQLite format 3", 0) == 0;
        const bool leak = bytes.find(std::string(reinterpret_cast<const char*>(rpi.data()), rpi.size())) != std::string::npos;
        fmt::print("  Bob.db as a thief sees it: SQLite header {}, Alice's RPI in the clear {}\n",
                   header ? "PRESENT" : "absent", leak ? "FOUND" : "absent");
    }

    // ---- Wednesday: Alice tests positive and publishes her keys ----------------------------------
    const std::int64_t morning = kDay + 86400 + 10 * kHour;
    fmt::print("\nWednesday 18 Nov, 10:00: Alice (ill since Sunday) tests positive and shares her keys.\n");
    world.set_ms(morning * 1000);
    // Consent is a value only this deliberately named call makes: the upload screen's "Share" button.
    std::vector<DiagnosisKey> published;
    for (auto& own : check(alice.tracer->release_own_keys(user_confirmed_upload_of_own_keys()), "release keys"))
        published.push_back({std::move(own.key), 6, ReportType::kConfirmedTest, 2});  // 2 days after onset
    keyfile::ExportWriteOptions wo;
    wo.key_id = "999";
    wo.key_version = "v1";
    wo.region = "XX";
    wo.start_timestamp = static_cast<std::uint64_t>(morning);
    wo.end_timestamp = wo.start_timestamp + 86400;
    wo.padding_keys = 499;  // the file does not tell how many people uploaded
    const fs::path zip = dir / "export.zip";
    check(keyfile::write_export_zip(zip, published, signer, wo, rng), "write export");
    fmt::print("The health authority publishes export.zip: {} keys (1 real, {} padding), signed with ECDSA P-256.\n",
               published.size() + wo.padding_keys, wo.padding_keys);
    // Mallory forges a file with her own key and the same key id.
    auto mallory = check(keyfile::ExportSigner::generate(), "forger key");
    const fs::path forged = dir / "forged-export.zip";
    check(keyfile::write_export_zip(forged, published, mallory, wo, rng), "write forged export");
    fmt::print("Mallory puts up forged-export.zip, signed with her own key under the same key id.\n");

    // ---- Everyone else checks, on their own phone ----------------------------------------------
    const fs::path files[] = {zip, forged};
    world.set_ms((kDay + 86400 + 12 * kHour) * 1000);
    for (Phone* p : {&bob, &carol}) tell(p->name, check(p->tracer->check_files(files), "check"));

    for (Phone* p : {&alice, &bob, &carol}) p->tracer.reset();  // close the stores
    if (!keep) {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    fmt::print("\nNothing left the phones except Alice's published key.\n");
    return 0;
}
