// sotto keys list --store ... [--json]
// sotto keys publish --store ... -o FILE.zip --signing-key PEM --key-id ID --key-version V
//                    --region R --i-consent-to-upload-my-keys
//
// `keys list` shows the device's own TEKs without key material (validity, published or not).
// `keys publish` releases them through the Tracer's consent call (today's key is cut to the
// intervals broadcast so far and replaced) and writes them as a signed export.zip through the
// export writer. It refuses to run without the explicit confirmation flag.
//
// Exit codes: 0 ok, 1 store or I/O failure, 2 bad arguments (missing confirmation included).
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <sotto/core/rng.hpp>
#include <sotto/host/files.hpp>
#include <sotto/keyfile/export_writer.hpp>
#include <sotto/tracer.hpp>

#include "commands.hpp"
#include "store_access.hpp"

namespace sotto::cli {
namespace {

struct ListOptions {
    StoreOptions store;
    bool as_json = false;
};

int run_list(const ListOptions& o) {
    std::optional<store::EncounterStore> s;
    if (int rc = open_store(o.store, false, s, true); rc != 0) return rc;
    auto keys = s->own_keys();
    if (!keys) return store_error(keys.error());
    if (o.as_json) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& k : *keys)
            arr.push_back(
                {{"rolling_start_interval", k.key.rolling_start},
                 {"rolling_period", k.key.rolling_period},
                 {"valid_from", utc_time(static_cast<std::int64_t>(k.key.rolling_start) * 600)},
                 {"created", k.created},
                 {"published", k.published}});
        fmt::print("{}\n", nlohmann::json{{"own_keys", arr}}.dump());
        return kExitOk;
    }
    fmt::print("{} own key(s) (key material is never printed)\n", keys->size());
    for (const auto& k : *keys)
        fmt::print("  valid from {} for {} intervals{}\n",
                   utc_time(static_cast<std::int64_t>(k.key.rolling_start) * 600),
                   k.key.rolling_period, k.published ? ", published" : "");
    return kExitOk;
}

struct PublishOptions {
    StoreOptions store;
    std::string out;
    std::string signing_key;
    std::string key_id, key_version, region;
    bool consent = false;
    int transmission_risk = 6;
    int days_since_onset = 2;
};

int run_publish(const PublishOptions& o) {
    if (!o.consent)
        return fail(kExitUsage,
                    "keys publish: uploading your own keys needs --i-consent-to-upload-my-keys "
                    "(nothing was released)");
    std::int64_t now = 0;
    if (int rc = resolve_clock(o.store, now); rc != 0) return rc;
    auto pem = host::read_regular_file(o.signing_key, 64 * 1024);
    if (!pem) return fail(kExitUsage, "keys publish: cannot read --signing-key");
    auto signer = keyfile::ExportSigner::from_pem(
        std::string_view(reinterpret_cast<const char*>(pem->data()), pem->size()));
    if (!signer)
        return fail(kExitUsage, "keys publish: --signing-key is not an EC P-256 private key");
    ManualClock clock(now * 1000);
    std::optional<Tracer> tracer;
    if (int rc = open_tracer(o.store, false, clock, TracerOptions{}, tracer); rc != 0) return rc;
    // The user confirmed on the command line with --i-consent-to-upload-my-keys.
    auto released = tracer->release_own_keys(user_confirmed_upload_of_own_keys());
    if (!released) return store_error(released.error());
    if (released->empty()) return fail(kExitFailure, "keys publish: the store holds no own key");
    std::vector<core::DiagnosisKey> keys;
    std::uint64_t start = UINT64_MAX, end = 0;
    for (auto& r : *released) {
        core::DiagnosisKey k;
        start =
            std::min<std::uint64_t>(start, static_cast<std::uint64_t>(r.key.rolling_start) * 600);
        end = std::max<std::uint64_t>(end, r.key.rolling_end() * 600);
        k.exposure_key = std::move(r.key);
        k.transmission_risk_level = o.transmission_risk;
        k.report_type = core::ReportType::kConfirmedTest;
        k.days_since_onset = o.days_since_onset;
        keys.push_back(std::move(k));
    }
    keyfile::ExportWriteOptions wo;
    wo.key_id = o.key_id;
    wo.key_version = o.key_version;
    wo.region = o.region;
    wo.start_timestamp = start;
    wo.end_timestamp = end;
    auto rng = core::SystemRng::create();
    if (!rng) return fail(kExitFailure, "keys publish: no system randomness");
    if (auto r = keyfile::write_export_zip(o.out, keys, *signer, wo, *rng); !r) {
        if (r.error().code == ErrorCode::kInvalidArgument)
            return fail(kExitUsage, fmt::format("keys publish: {}", r.error().what));
        return fail(kExitFailure,
                    fmt::format("keys publish: cannot write the export ({})", r.error().what));
    }
    fmt::print("published {} own key(s) to {}\n", keys.size(), printable(o.out));
    return kExitOk;
}

}  // namespace

void add_keys_commands(CLI::App& app, Runner& run) {
    auto* group = app.add_subcommand(
        "keys", "The device's own keys: list them, publish them after a positive test");
    group->require_subcommand(1);
    {
        auto o = std::make_shared<ListOptions>();
        auto* cmd = group->add_subcommand(
            "list", "List own keys (validity and published flag, no key material)");
        add_store_options(cmd, o->store);
        cmd->add_flag("--json", o->as_json, "Print one JSON object");
        cmd->callback([o, &run] { run = [o] { return run_list(*o); }; });
    }
    {
        auto o = std::make_shared<PublishOptions>();
        auto* cmd = group->add_subcommand(
            "publish", "Release own keys (consent) and write them as a signed export.zip");
        add_store_options(cmd, o->store);
        cmd->add_option("-o,--output", o->out, "Output export.zip")->required();
        cmd->add_option("--signing-key", o->signing_key, "EC P-256 private key (PEM) to sign with")
            ->required();
        cmd->add_option("--key-id", o->key_id, "verification_key_id, e.g. 262")->required();
        cmd->add_option("--key-version", o->key_version, "verification_key_version, e.g. v1")
            ->required();
        cmd->add_option("--region", o->region, "Region, e.g. DE")->required();
        cmd->add_option("--transmission-risk", o->transmission_risk, "Transmission risk level 0..8")
            ->check(CLI::Range(0, 8))
            ->capture_default_str();
        cmd->add_option("--days-since-onset", o->days_since_onset,
                        "Days since onset of symptoms (-14..14)")
            ->check(CLI::Range(-14, 14))
            ->capture_default_str();
        cmd->add_flag("--i-consent-to-upload-my-keys", o->consent,
                      "Required: you agree that your own keys leave this device");
        cmd->callback([o, &run] { run = [o] { return run_publish(*o); }; });
    }
}

}  // namespace sotto::cli
