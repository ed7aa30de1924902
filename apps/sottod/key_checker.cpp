#include "key_checker.hpp"

#include <algorithm>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include <sotto/host/files.hpp>
#include <sotto/log.hpp>

namespace sotto::sottod {

namespace {

// Files refused for an untrusted signer would pass with the right --pubkey: when the configured
// public keys differ from those of the last start (kept in <fetch-dir>/trust.pem, public data),
// every refusal is forgotten and the refused files are downloaded and checked again.
Result<void> forget_refusals_if_trust_changed(const Config& config, fetch::Downloader& d) {
    std::vector<std::string> pems;
    for (const auto& p : config.pubkeys) {
        auto bytes = host::read_regular_file(p, 1 << 20);
        if (!bytes) return bytes.error();
        pems.emplace_back(bytes->begin(), bytes->end());
    }
    std::sort(pems.begin(), pems.end());
    std::string trust;
    for (const auto& p : pems) trust += p + "\n";
    const auto file = config.fetch_dir / "trust.pem";
    std::string before;
    if (auto old = host::read_regular_file(file, 1 << 24); old)
        before.assign(old->begin(), old->end());
    if (before == trust) return {};
    auto forgotten = d.forget_refusals();
    if (!forgotten) return forgotten.error();
    if (*forgotten > 0)
        write_log_count(
            LogLevel::kInfo,
            "keys: the public keys changed; refused files are checked again:", *forgotten);
    const auto tmp = config.fetch_dir / "trust.pem.tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << trust;
        if (!out.flush()) return Error{ErrorCode::kStorageIo, "key download: cannot write trust"};
    }
    std::error_code ec;
    std::filesystem::rename(tmp, file, ec);
    if (ec) return Error{ErrorCode::kStorageIo, "key download: cannot write trust"};
    return {};
}

}  // namespace

Result<std::unique_ptr<KeyChecker>> KeyChecker::create(const Config& config, Tracer& tracer,
                                                       const Clock& clock) noexcept {
    try {
        fetch::Source source;
        source.location = config.keys_url.empty() ? config.keys_dir.string() : config.keys_url;
        std::error_code ec;
        std::filesystem::create_directories(config.fetch_dir, ec);
        if (ec)
            return Error{ErrorCode::kStorageIo, "key download: cannot create the fetch directory"};
        std::filesystem::permissions(config.fetch_dir, std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::replace, ec);
        fetch::DownloadOptions options;
        options.total_timeout_ms = static_cast<std::uint32_t>(config.http_timeout_ms);
        options.connect_timeout_ms =
            static_cast<std::uint32_t>(std::min<std::int64_t>(config.http_timeout_ms, 10'000));
        options.low_speed_time_s = static_cast<std::uint32_t>(
            std::max<std::int64_t>(1, std::min<std::int64_t>(30, config.http_timeout_ms / 1000)));
        options.max_file_bytes = config.max_file_bytes;
        options.max_spool_bytes = config.max_spool_bytes;
        options.ca_file = config.ca_file;
        auto downloader = fetch::Downloader::create(
            std::move(source),
            std::make_unique<fetch::FileFetchState>(config.fetch_dir / "fetch.state"),
            config.fetch_dir / "spool", options);
        if (!downloader) return downloader.error();
        if (auto r = forget_refusals_if_trust_changed(config, *downloader); !r) return r.error();
        return std::unique_ptr<KeyChecker>(new KeyChecker(std::move(*downloader), tracer, clock));
    } catch (const std::bad_alloc&) {
        return Error{ErrorCode::kOutOfMemory, "key download: out of memory"};
    }
}

KeySummary KeyChecker::summary() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return summary_;
}

void KeyChecker::add_results(const CheckReport& report) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++summary_.checks;
    summary_.exposure_windows += report.report.windows.size();
    summary_.valid_matches += report.report.valid_matches;
    summary_.suspect_matches += report.report.suspect_matches;
    const auto& risk = report.report.risk;
    if (!report.report.windows.empty()) {
        summary_.risk_level = std::max(summary_.risk_level, static_cast<int>(report.risk));
        if (risk.most_recent_date_with_high_risk)
            summary_.most_recent_high_risk_day =
                std::max(summary_.most_recent_high_risk_day.value_or(0),
                         *risk.most_recent_date_with_high_risk);
        if (risk.most_recent_date_with_low_risk)
            summary_.most_recent_low_risk_day =
                std::max(summary_.most_recent_low_risk_day.value_or(0),
                         *risk.most_recent_date_with_low_risk);
    }
}

Result<void> KeyChecker::use_file(const fetch::FetchedFile& file) noexcept {
    ImportOptions import;
    // A pending file was downloaded before and not marked used: it was refused (or the check
    // failed). Match it again in full.
    import.rematch = file.status == fetch::FileStatus::kPending;
    auto outcome = tracer_->import_key_file(file.spool_file, import);
    if (!outcome) return outcome.error();
    if (outcome->status ==
        KeyFileStatus::kAlreadyProcessed) {  // same content, already checked under another name
        if (auto r = downloader_.mark_used(file.path, file.sha256); !r) return r.error();
        std::lock_guard<std::mutex> lock(mutex_);
        ++summary_.files_unchanged;
        return {};
    }
    if (!outcome->matched()) {
        // Refused for its bytes (signature, signer, damaged zip): dropped from the spool and not
        // offered again until the server's file changes, so it cannot hold the spool's cap.
        // Anything else (I/O) may pass next round: it stays pending.
        const bool content = outcome->reason && keyfile::refuses_content(outcome->reason->code);
        write_log(LogLevel::kWarning,
                  content ? "keys: a key file was refused (not verified); dropped until it changes"
                          : "keys: a key file could not be checked; kept to retry");
        if (outcome->reason) write_log(LogLevel::kWarning, outcome->reason->what);
        if (content) {
            if (auto r = downloader_.mark_refused(file.path, file.sha256); !r) return r.error();
        }
        std::lock_guard<std::mutex> lock(mutex_);
        ++summary_.files_refused;
        return {};
    }
    auto report = tracer_->check();
    if (!report) return report.error();
    add_results(*report);
    if (!report->report.windows.empty())
        write_log_count(LogLevel::kWarning,
                        "keys: exposure windows found:", report->report.windows.size());
    if (auto r = downloader_.mark_used(file.path, file.sha256); !r) return r.error();
    std::lock_guard<std::mutex> lock(mutex_);
    ++summary_.files_used;
    return {};
}

Result<void> KeyChecker::run_round(const std::atomic<bool>& stop) noexcept {
    try {
        auto report = downloader_.fetch_round(
            [&stop](const std::string&, std::uint64_t, std::uint64_t) { return !stop.load(); });
        {
            std::lock_guard<std::mutex> lock(mutex_);
            ++summary_.rounds;
            summary_.last_round_unix = clock_->now_ms() / 1000;
            summary_.last_round_ok = false;
            if (!report) ++summary_.rounds_failed;
        }
        if (!report) return report.error();
        if (report->state_was_damaged)
            write_log(LogLevel::kWarning, "keys: download state was damaged and rebuilt");
        if (report->index_status == fetch::IndexStatus::kFailed) {
            write_log(LogLevel::kWarning,
                      "keys: the index could not be fetched; next round retries");
            write_log(LogLevel::kWarning, report->index_error.what);
            std::lock_guard<std::mutex> lock(mutex_);
            ++summary_.rounds_failed;
            return {};
        }
        std::uint64_t failed = 0, fresh = 0, unchanged = 0;
        for (const auto& f : report->files) {
            if (stop.load()) break;
            switch (f.status) {
                case fetch::FileStatus::kFailed:
                    ++failed;
                    write_log(LogLevel::kWarning,
                              "keys: a key file could not be downloaded; next round retries");
                    write_log(LogLevel::kWarning, f.error.what);
                    continue;
                case fetch::FileStatus::kUnchanged:
                case fetch::FileStatus::kRefused:  // refused before, unchanged since
                    ++unchanged;
                    continue;
                case fetch::FileStatus::kNew:
                    ++fresh;
                    [[fallthrough]];
                case fetch::FileStatus::kPending:
                    if (auto r = use_file(f); !r) return r.error();
                    break;
            }
        }
        std::lock_guard<std::mutex> lock(mutex_);
        summary_.files_downloaded += fresh;
        summary_.files_failed += failed;
        summary_.files_unchanged += unchanged;
        summary_.last_round_ok = failed == 0;
        write_log_count(LogLevel::kInfo, "keys: round done; files listed", report->files.size());
        return {};
    } catch (const std::bad_alloc&) {
        return Error{ErrorCode::kOutOfMemory, "key round: out of memory"};
    }
}

}  // namespace sotto::sottod
