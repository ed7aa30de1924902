// sotto keys list --store ... [--json]
// sotto keys publish --store ... -o FILE.zip --signing-key PEM --key-id ID --key-version V
//                    --region R --i-consent-to-upload-my-keys
//
// `keys list` shows the device's own TEKs without key material (validity, published or not).
// `keys publish` releases them through the Tracer's consent call (today's key is cut to the
// intervals broadcast so far and replaced) and writes them as a signed export.zip through the
// export writer. It refuses to run without the explicit confirmation flag.
//
// sotto keys upload --store ... --server URL --verification-code CODE --health-authority-id ID
//                   [--verification-server URL --api-key-file FILE]
//                   --i-consent-to-upload-my-keys [--json]
//
// `keys upload` is how a user hands their keys over: released through the same consent call and
// sent to a key server in the Exposure Notifications Server publish format (fetch::upload_keys).
// `keys publish` is the health authority's tool (it needs the authority's signing key).
//
// Exit codes: 0 ok, 1 store, I/O or server failure, 2 bad arguments (missing confirmation
// included), 3 the key server (or the verification server) refused the upload (e.g. a bad
// verification code).
#include <algorithm>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <sotto/core/rng.hpp>
#include <sotto/fetch/key_upload.hpp>
#include <sotto/fetch/url_policy.hpp>
#include <sotto/host/files.hpp>
#include <sotto/keyfile/export_writer.hpp>
#include <sotto/secret.hpp>
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
    std::optional<keyfile::ExportSigner> signer;
    if (int rc = read_signing_key("keys publish", o.signing_key, signer); rc != 0) return rc;
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

struct UploadOptions {
    StoreOptions store;
    std::string server;
    std::string code;
    std::string health_authority_id;
    std::string revision_token;
    std::string ca_file;
    std::string verification_server;
    std::string api_key_file;
    int transmission_risk = 0;
    std::uint32_t symptom_onset_interval = 0;
    std::uint32_t timeout_s = 30;
    bool consent = false;
    bool as_json = false;
};

int run_upload(const UploadOptions& o) {
    if (!o.consent)
        return fail(kExitUsage,
                    "keys upload: uploading your own keys needs --i-consent-to-upload-my-keys "
                    "(nothing was released or sent)");
    // Everything that can be refused is refused before a key is released.
    if (auto allowed = fetch::check_url(o.server); !allowed)
        return fail(kExitUsage,
                    "keys upload: --server: https://, or http:// to a loopback "
                    "address only (nothing was released or sent)");
    fetch::UploadOptions u;
    u.url = o.server;
    u.health_authority_id = o.health_authority_id;
    u.verification_payload = o.code;
    u.revision_token = o.revision_token;
    u.ca_file = o.ca_file;
    u.symptom_onset_interval = o.symptom_onset_interval;
    u.total_timeout_ms = o.timeout_s * 1000;
    if (o.verification_server.empty() != o.api_key_file.empty())
        return fail(kExitUsage,
                    "keys upload: --verification-server and --api-key-file go together");
    if (!o.verification_server.empty()) {
        if (auto allowed = fetch::check_url(o.verification_server); !allowed)
            return fail(kExitUsage,
                        "keys upload: --verification-server: https://, or http:// to a loopback "
                        "address only (nothing was released or sent)");
        u.verification_server = o.verification_server;
        // The key is a secret: never printed, wiped when done (u is wiped below).
        std::ifstream in(o.api_key_file, std::ios::binary);
        std::string key;
        char buf[512];
        while (in && key.size() <= fetch::kMaxUploadFieldBytes) {
            in.read(buf, sizeof buf);
            key.append(buf, static_cast<std::size_t>(in.gcount()));
        }
        sotto::detail::secure_wipe(buf, sizeof buf);
        while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' '))
            key.pop_back();
        const bool bad =
            !in.eof() || key.empty() || key.size() > fetch::kMaxUploadFieldBytes ||
            std::any_of(key.begin(), key.end(), [](char c) { return c < 0x21 || c > 0x7e; });
        if (bad) {
            sotto::detail::secure_wipe(key.data(), key.size());
            return fail(kExitUsage,
                        "keys upload: --api-key-file: cannot read one API key (printable ASCII "
                        "on one line) from that file");
        }
        u.api_key = std::move(key);
    }
    struct WipeKey {
        std::string& s;
        ~WipeKey() { sotto::detail::secure_wipe(s.data(), s.size()); }
    } wipe_key{u.api_key};
    if (o.code.empty() || o.code.size() > fetch::kMaxUploadFieldBytes ||
        o.health_authority_id.empty() || o.health_authority_id.size() > 256)
        return fail(kExitUsage, "keys upload: give --verification-code and --health-authority-id");
    for (const std::string* f : {&o.code, &o.health_authority_id, &o.revision_token})
        for (char c : *f)
            if (c < 0x20 || c > 0x7e)
                return fail(kExitUsage, "keys upload: codes and ids are printable ASCII");
    std::int64_t now = 0;
    if (int rc = resolve_clock(o.store, now); rc != 0) return rc;
    ManualClock clock(now * 1000);
    std::optional<Tracer> tracer;
    if (int rc = open_tracer(o.store, false, clock, TracerOptions{}, tracer); rc != 0) return rc;
    // The user confirmed on the command line with --i-consent-to-upload-my-keys.
    auto released = tracer->release_own_keys(user_confirmed_upload_of_own_keys());
    if (!released) return store_error(released.error());
    if (released->empty()) return fail(kExitFailure, "keys upload: the store holds no own key");
    std::vector<fetch::UploadKey> keys;
    bool again = false;
    for (auto& r : *released) {
        again = again || r.released_before;
        keys.push_back({std::move(r.key), o.transmission_risk});
    }
    auto reply = fetch::upload_keys(keys, u);
    if (!reply)
        return fail(reply.error().code == ErrorCode::kNetworkRefused ? kExitRefused : kExitFailure,
                    fmt::format("keys upload: {} (the keys stay marked published; run again to "
                                "send them again)",
                                reply.error().what));
    if (o.as_json) {
        nlohmann::ordered_json j;
        j["accepted"] = reply->accepted;
        j["stage"] = reply->stage;
        j["http_status"] = reply->http_status;
        j["keys_sent"] = reply->keys_sent;
        j["sent_before"] = again;
        j["inserted_exposures"] = reply->inserted_exposures;
        j["code"] = reply->code;
        j["error"] = reply->message;
        j["revision_token"] = reply->revision_token;
        fmt::print("{}\n", j.dump());
    } else if (reply->accepted) {
        fmt::print("uploaded {} own key(s): the server took {}{}\n", reply->keys_sent,
                   reply->inserted_exposures, reply->code.empty() ? "" : " (" + reply->code + ")");
        if (!reply->revision_token.empty())
            fmt::print("revision token (for a later upload): {}\n", reply->revision_token);
    }
    if (reply->accepted) return kExitOk;
    const std::string why = fmt::format(
        "keys upload: the {} refused the upload: HTTP {}{}{} (the keys stay marked published; "
        "run again to send them again)",
        reply->stage == "publish" ? "key server" : "verification server (" + reply->stage + ")",
        reply->http_status, reply->code.empty() ? "" : " " + reply->code,
        reply->message.empty() ? "" : ": " + reply->message);
    // 4xx: the server refused what was sent (a bad verification code); otherwise it failed.
    return fail(reply->http_status >= 400 && reply->http_status < 500 ? kExitRefused : kExitFailure,
                why);
}

}  // namespace

void add_keys_commands(CLI::App& app, Runner& run) {
    auto* group = app.add_subcommand(
        "keys",
        "The device's own keys: list them, upload them after a positive test (the health "
        "authority's `publish` writes a signed file)");
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
            "publish",
            "The health authority's tool (needs its private signing key): release own keys "
            "(consent) and write them as a signed export.zip. A user hands keys over with "
            "`keys upload`");
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
    {
        auto o = std::make_shared<UploadOptions>();
        auto* cmd = group->add_subcommand(
            "upload",
            "Send own keys to a key server after a positive test (Exposure Notifications Server "
            "publish API) with the verification code the health authority gave you. Exit 0 "
            "taken, 3 refused by the server, 1 failed, 2 bad arguments");
        add_store_options(cmd, o->store);
        cmd->add_option("--server", o->server,
                        "The key server's publish endpoint, e.g. "
                        "https://exposure.example.org/v1/publish (http:// only to loopback)")
            ->required();
        cmd->add_option("--verification-code", o->code,
                        "The verification code (or certificate) from the health authority")
            ->required();
        cmd->add_option("--health-authority-id", o->health_authority_id,
                        "The health authority's id on that server, e.g. com.example.ha")
            ->required();
        cmd->add_option("--transmission-risk", o->transmission_risk,
                        "Transmission risk level 0..8 (0: unknown, the server decides)")
            ->check(CLI::Range(0, 8))
            ->capture_default_str();
        cmd->add_option("--symptom-onset-interval", o->symptom_onset_interval,
                        "ENIN of the symptom onset day (0: not sent)");
        cmd->add_option("--revision-token", o->revision_token,
                        "The token an earlier upload of this device returned");
        cmd->add_option("--ca-file", o->ca_file,
                        "PEM CA certificates to trust instead of the "
                        "system's");
        cmd->add_option("--verification-server", o->verification_server,
                        "The verification server's base URL, e.g. https://encv.example.org: the "
                        "code is exchanged there for a certificate over the keys' HMAC");
        cmd->add_option("--api-key-file", o->api_key_file,
                        "File holding the app's API key for the verification server (never "
                        "printed)");
        cmd->add_option("--timeout", o->timeout_s, "Give up after this many seconds (1..600)")
            ->check(CLI::Range(1u, 600u))
            ->capture_default_str();
        cmd->add_flag("--json", o->as_json, "Print one JSON object");
        cmd->add_flag("--i-consent-to-upload-my-keys", o->consent,
                      "Required: you agree that your own keys leave this device");
        cmd->callback([o, &run] { run = [o] { return run_upload(*o); }; });
    }
}

}  // namespace sotto::cli
