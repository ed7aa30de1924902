// sotto export inspect FILE [--pubkey PEM]... [--key-id ID --key-version V] [--keys]
// sotto export build --keys CSV --signing-key PEM --key-id ID --key-version V --region R
//                    [--pad N] [--start-timestamp T --end-timestamp T]
//                    [--batch-num N --batch-size N] -o OUT.zip
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <sotto/bytes.hpp>
#include <sotto/core/diagnosis_key.hpp>
#include <sotto/core/rng.hpp>
#include <sotto/keyfile/export_reader.hpp>
#include <sotto/keyfile/export_writer.hpp>
#include <sotto/keyfile/trust_store.hpp>
#include <sotto/secret.hpp>

#include "commands.hpp"

namespace sotto::cli {
namespace {

namespace fs = std::filesystem;
using namespace sotto::keyfile;

// The key CSV and the private key PEM do not outlive their use.
void detail_wipe(std::string& s) { sotto::detail::secure_wipe(s.data(), s.size()); }

std::string timestamp_line(const std::optional<std::uint64_t>& t) {
    return t ? fmt::format(
                   "{} ({})", *t,
                   utc_time(static_cast<std::int64_t>(std::min<std::uint64_t>(*t, INT64_MAX))))
             : std::string("(absent)");
}

std::string optional_int(const std::optional<std::int32_t>& v) {
    return v ? std::to_string(*v) : std::string("?");
}

std::string key_csv(const core::DiagnosisKey& k) {
    return fmt::format("{},{},{},{},{},{}", to_hex(k.exposure_key.tek.expose_secret()),
                       k.exposure_key.rolling_start, k.exposure_key.rolling_period,
                       k.transmission_risk_level, static_cast<int>(k.report_type),
                       k.days_since_onset ? std::to_string(*k.days_since_onset) : std::string());
}

// ---------------------------------------------------------------------------------------------
// inspect

struct InspectOptions {
    std::string file;
    std::vector<std::string> pubkeys;
    std::string key_id;
    std::string key_version;
    bool list_keys = false;
    bool as_json = false;
};

void print_inspect_json(const InspectOptions& o, const std::string& form, const ExportInfo& info,
                        const std::string& verdict, const std::vector<core::DiagnosisKey>& keys) {
    using nlohmann::ordered_json;
    ordered_json j;
    j["file"] = o.file;
    j["form"] = form;
    j["export_bin_bytes"] = info.export_bin_bytes;
    j["export_bin_sha256"] = info.export_bin_sha256_hex();
    j["start_timestamp"] = info.start_timestamp ? ordered_json(*info.start_timestamp) : nullptr;
    j["end_timestamp"] = info.end_timestamp ? ordered_json(*info.end_timestamp) : nullptr;
    j["region"] = printable(info.region);
    j["batch_num"] = info.batch_num ? ordered_json(*info.batch_num) : nullptr;
    j["batch_size"] = info.batch_size ? ordered_json(*info.batch_size) : nullptr;
    ordered_json sig_infos = ordered_json::array();
    for (const auto& si : info.signature_infos)
        sig_infos.push_back({{"key_id", printable(si.key_id)},
                             {"key_version", printable(si.key_version)},
                             {"algorithm", printable(si.algorithm)}});
    j["signature_infos"] = sig_infos;
    j["signatures"] = info.signatures.size();
    j["keys_valid"] = info.keys_valid;
    j["keys_invalid"] = info.keys_invalid;
    ordered_json invalid = ordered_json::object();
    for (std::size_t r = 0; r < kInvalidKeyReasonCount; ++r)
        if (info.invalid_by_reason[r] > 0)
            invalid[invalid_key_reason_name(static_cast<InvalidKeyReason>(r))] =
                info.invalid_by_reason[r];
    j["invalid_by_reason"] = invalid;
    j["revised_keys_valid"] = info.revised_keys_valid;
    j["keys_revoked"] = info.keys_revoked;
    j["verified"] = info.verified;
    j["signature"] = verdict;
    if (info.verified) {
        j["verified_key_id"] = printable(info.verified_key_id);
        j["verified_key_version"] = printable(info.verified_key_version);
    }
    if (o.list_keys) {
        ordered_json arr = ordered_json::array();
        for (const auto& k : keys) {
            ordered_json e;
            e["tek"] = to_hex(k.exposure_key.tek.expose_secret());  // published: not secret
            e["rolling_start"] = k.exposure_key.rolling_start;
            e["rolling_period"] = k.exposure_key.rolling_period;
            e["transmission_risk_level"] = k.transmission_risk_level;
            e["report_type"] = static_cast<int>(k.report_type);
            e["days_since_onset"] =
                k.days_since_onset ? ordered_json(*k.days_since_onset) : nullptr;
            arr.push_back(e);
        }
        j["keys"] = arr;
    }
    // File names need not be UTF-8: replace what is not.
    fmt::print("{}\n", j.dump(-1, ' ', false, ordered_json::error_handler_t::replace));
}

int run_inspect(const InspectOptions& o) {
    if (int rc = require_existing("export inspect", o.file); rc != 0) return rc;
    TrustStore trust;
    if (int rc = load_trust_store(o.pubkeys, o.key_id, o.key_version, "export inspect", trust);
        rc != 0)
        return rc;

    const keyfile::ExportLocation in = keyfile::locate_export(o.file);
    const bool is_zip = in.kind == keyfile::ExportLocation::Kind::kZip;
    std::vector<core::DiagnosisKey> keys;
    KeySink sink;
    if (o.list_keys) sink = [&keys](core::DiagnosisKey&& k) { keys.push_back(std::move(k)); };
    // Parse-only so that everything is printed; the verdict decides the exit code below and is
    // exactly what VerifyMode::kRequireSignature would have decided.
    auto info = read_export_file(o.file, trust, VerifyMode::kParseOnly, sink);
    if (!info) {
        const int code =
            info.error().code == ErrorCode::kKeyFileIo || info.error().code == ErrorCode::kInternal
                ? kExitFailure
                : kExitRefused;
        return fail(
            code, fmt::format("export inspect: {}{} ({})", code == kExitRefused ? "refused: " : "",
                              info.error().what, error_code_name(info.error().code)));
    }

    // Without --pubkey nothing can verify; say so rather than "untrusted key".
    const bool no_key = trust.empty() && info->signature_status == SignatureStatus::kUntrustedKey;
    std::error_code ec;
    const bool has_sig = is_zip || fs::exists(in.sig, ec);
    const std::string form = is_zip    ? std::string("zip")
                             : has_sig ? "export.bin + " + in.sig.filename().string()
                                       : "export.bin, no " + in.sig.filename().string();
    const std::string verdict = info->verified ? "verified"
                                : no_key
                                    ? "no --pubkey given"
                                    : std::string(signature_status_name(info->signature_status));
    if (o.as_json) {
        print_inspect_json(o, form, *info, verdict, keys);
    } else {
        // With --keys the report lines are CSV comments, so that the whole output is a key CSV
        // `export build --keys` reads back.
        const char* p = o.list_keys ? "# " : "";
        fmt::print("{}file:            {} ({})\n", p, printable(o.file), form);
        fmt::print("{}export.bin:      {} bytes, sha256 {}\n", p, info->export_bin_bytes,
                   info->export_bin_sha256_hex());
        fmt::print("{}start_timestamp: {}\n", p, timestamp_line(info->start_timestamp));
        fmt::print("{}end_timestamp:   {}\n", p, timestamp_line(info->end_timestamp));
        fmt::print("{}region:          {}\n", p,
                   info->region.empty() ? "(absent)" : printable(info->region));
        fmt::print("{}batch:           {} of {}\n", p, optional_int(info->batch_num),
                   optional_int(info->batch_size));
        for (const auto& si : info->signature_infos)
            fmt::print("{}signature_info:  key_id={} key_version={} algorithm={}\n", p,
                       printable(si.key_id), printable(si.key_version),
                       si.algorithm.empty() ? "(absent)" : printable(si.algorithm));
        fmt::print("{}signatures:      {} in export.sig\n", p, info->signatures.size());
        fmt::print("{}keys:            {} valid, {} invalid\n", p, info->keys_valid,
                   info->keys_invalid);
        for (std::size_t r = 0; r < kInvalidKeyReasonCount; ++r)
            if (info->invalid_by_reason[r] > 0)
                fmt::print("{}  invalid:       {} {}\n", p, info->invalid_by_reason[r],
                           invalid_key_reason_name(static_cast<InvalidKeyReason>(r)));
        fmt::print("{}revised_keys:    {} valid\n", p, info->revised_keys_valid);
        fmt::print("{}revoked:         {}\n", p, info->keys_revoked);
        if (info->verified) {
            fmt::print(
                "{}signature:       verified (key {}/{})\n", p,
                info->verified_key_id.empty() ? "?" : printable(info->verified_key_id),
                info->verified_key_version.empty() ? "?" : printable(info->verified_key_version));
        } else {
            fmt::print("{}signature:       NOT verified: {}\n", p, verdict);
        }
        if (o.list_keys) {
            fmt::print(
                "tek_hex,rolling_start,rolling_period,transmission_risk_level,report_type,"
                "days_since_onset\n");
            for (const auto& k : keys) fmt::print("{}\n", key_csv(k));
        }
    }
    std::fflush(stdout);
    if (info->verified) return kExitOk;
    if (no_key) return fail(kExitRefused, "export inspect: refused: no --pubkey to verify with");
    return fail(kExitRefused,
                fmt::format("export inspect: refused: {} ({})", info->signature_error->what,
                            error_code_name(info->signature_error->code)));
}

// ---------------------------------------------------------------------------------------------
// build

struct BuildOptions {
    std::string keys_csv;
    std::string signing_key;
    std::string key_id;
    std::string key_version;
    std::string region;
    std::uint32_t pad = 0;
    std::optional<std::uint64_t> start_timestamp;
    std::optional<std::uint64_t> end_timestamp;
    std::int32_t batch_num = 1;
    std::int32_t batch_size = 1;
    std::string out;
};

template <class T>
bool parse_number(std::string_view s, T& out) {
    if (s.empty()) return false;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::vector<std::string_view> split(std::string_view line) {
    std::vector<std::string_view> f;
    std::size_t start = 0;
    for (;;) {
        const std::size_t c = line.find(',', start);
        f.push_back(
            line.substr(start, c == std::string_view::npos ? std::string_view::npos : c - start));
        if (c == std::string_view::npos) return f;
        start = c + 1;
    }
}

// Parses the key CSV. On error, `error` says "line N: ...".
std::optional<std::vector<core::DiagnosisKey>> parse_keys_csv(std::string_view text,
                                                              std::string& error) {
    std::vector<core::DiagnosisKey> keys;
    std::size_t pos = 0;
    int line_no = 0;
    bool first_content = true;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty() || line.front() == '#') continue;
        const auto f = split(line);
        if (first_content && f[0] == "tek_hex") {  // optional header line
            first_content = false;
            continue;
        }
        first_content = false;
        auto bad = [&](const char* what) {
            error = fmt::format("line {}: {}", line_no, what);
            return std::nullopt;
        };
        if (f.size() < 4 || f.size() > 6)
            return bad(
                "expected tek_hex,rolling_start,rolling_period,transmission_risk_level"
                "[,report_type,days_since_onset]");
        core::DiagnosisKey k;
        auto tek = core::TemporaryExposureKey::from_hex(f[0]);
        if (!tek) return bad("tek_hex must be 32 hex digits");
        k.exposure_key.tek = std::move(*tek);
        if (!parse_number(f[1], k.exposure_key.rolling_start))
            return bad("rolling_start is not a number");
        if (!parse_number(f[2], k.exposure_key.rolling_period))
            return bad("rolling_period is not a number");
        if (!parse_number(f[3], k.transmission_risk_level))
            return bad("transmission_risk_level is not a number");
        if (f.size() >= 5 && !f[4].empty()) {
            int rt = 0;
            if (!parse_number(f[4], rt) || rt < 0 || rt > 5) return bad("report_type must be 0..5");
            k.report_type = static_cast<core::ReportType>(rt);
        }
        if (f.size() == 6 && !f[5].empty()) {
            std::int32_t d = 0;
            if (!parse_number(f[5], d)) return bad("days_since_onset is not a number");
            k.days_since_onset = d;
        }
        if (auto reason = check_key(k)) return bad(invalid_key_reason_name(*reason));
        keys.push_back(std::move(k));
    }
    return keys;
}

int run_build(const BuildOptions& o) {
    if (o.start_timestamp.has_value() != o.end_timestamp.has_value())
        return fail(kExitUsage,
                    "export build: give --start-timestamp and --end-timestamp together");
    auto csv = read_text_file(o.keys_csv);
    if (!csv) return fail(kExitUsage, "export build: cannot read --keys " + o.keys_csv);
    std::string error;
    auto keys = parse_keys_csv(*csv, error);
    detail_wipe(*csv);
    if (!keys) return fail(kExitUsage, "export build: " + o.keys_csv + " " + error);

    std::optional<ExportSigner> signer;
    if (int rc = read_signing_key("export build", o.signing_key, signer); rc != 0) return rc;

    ExportWriteOptions w;
    w.key_id = o.key_id;
    w.key_version = o.key_version;
    w.region = o.region;
    w.batch_num = o.batch_num;
    w.batch_size = o.batch_size;
    w.padding_keys = o.pad;
    if (o.start_timestamp) {
        w.start_timestamp = *o.start_timestamp;
        w.end_timestamp = *o.end_timestamp;
    } else if (!keys->empty()) {
        // Default window: from the first key's start to the last key's end.
        std::uint64_t lo = std::numeric_limits<std::uint64_t>::max(), hi = 0;
        for (const auto& k : *keys) {
            lo = std::min<std::uint64_t>(lo, k.exposure_key.rolling_start);
            hi = std::max<std::uint64_t>(hi, k.exposure_key.rolling_end());
        }
        w.start_timestamp = lo * 600;
        w.end_timestamp = hi * 600;
    } else {
        return fail(kExitUsage,
                    "export build: no keys: give --start-timestamp and --end-timestamp");
    }

    auto rng = core::SystemRng::create();
    if (!rng) return fail(kExitFailure, rng.error().what);
    auto r = write_export_zip(o.out, *keys, *signer, w, *rng);
    if (!r) {
        const int code = r.error().code == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
        return fail(code, fmt::format("export build: {} ({})", r.error().what,
                                      error_code_name(r.error().code)));
    }
    fmt::print("wrote {}: {} keys + {} padding, signed as {}/{}\n", o.out, keys->size(), o.pad,
               o.key_id, o.key_version);
    return kExitOk;
}

}  // namespace

void add_export_command(CLI::App& app, Runner& run) {
    auto* group = app.add_subcommand("export", "Diagnosis-key export files (export.zip)");
    group->require_subcommand(1);

    auto io = std::make_shared<InspectOptions>();
    auto* inspect = group->add_subcommand(
        "inspect",
        "Print an export's header, key counts and signature status. FILE is an export.zip, a "
        "loose export.bin (with export.sig beside it) or a directory holding both. Exit 0 only "
        "when it parses and verifies with a --pubkey; 3 when refused");
    inspect->add_option("file", io->file, "export.zip, export.bin or a directory")->required();
    inspect
        ->add_option("--pubkey", io->pubkeys,
                     "Trusted P-256 public key (PEM), repeatable. Without --key-id it is trusted "
                     "under any key id/version the file names; the signature must verify with "
                     "one of them")
        ->allow_extra_args(false)  // one PEM per --pubkey: never swallow FILE
        ->check(CLI::ExistingFile);
    inspect->add_option("--key-id", io->key_id, "Trust the --pubkey keys only under this key id");
    inspect->add_option("--key-version", io->key_version, "... and this key version");
    inspect->add_flag("--keys", io->list_keys,
                      "Also list the delivered keys as CSV (the report lines become '# ' "
                      "comments: the output is a key CSV for `export build --keys`)");
    inspect->add_flag("--json", io->as_json,
                      "Print one JSON object (with --keys: the keys in it); the exit code is the "
                      "same");
    inspect->callback([io, &run] { run = [io] { return run_inspect(*io); }; });

    auto bo = std::make_shared<BuildOptions>();
    auto* build = group->add_subcommand("build", "Build and sign an export.zip from a key CSV");
    build
        ->add_option("--keys", bo->keys_csv,
                     "CSV: tek_hex,rolling_start,rolling_period,transmission_risk_level"
                     "[,report_type,days_since_onset]; header line optional")
        ->required()
        ->check(CLI::ExistingFile);
    build->add_option("--signing-key", bo->signing_key, "EC P-256 private key (PEM, mode 600)")
        ->required();
    build->add_option("--key-id", bo->key_id, "verification_key_id, e.g. 262")->required();
    build->add_option("--key-version", bo->key_version, "verification_key_version, e.g. v1")
        ->required();
    build->add_option("--region", bo->region, "Region, e.g. DE")->required();
    build->add_option("--pad", bo->pad, "Add N random fake keys")->capture_default_str();
    build->add_option("--start-timestamp", bo->start_timestamp,
                      "Export window start, UTC seconds (default: first key's start)");
    build->add_option("--end-timestamp", bo->end_timestamp,
                      "Export window end, UTC seconds (default: last key's end)");
    build->add_option("--batch-num", bo->batch_num, "Batch number")->capture_default_str();
    build->add_option("--batch-size", bo->batch_size, "Batch size")->capture_default_str();
    build->add_option("-o,--output", bo->out, "Output export.zip")->required();
    build->callback([bo, &run] { run = [bo] { return run_build(*bo); }; });
}

}  // namespace sotto::cli
