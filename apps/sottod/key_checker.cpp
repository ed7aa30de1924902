#include "key_checker.hpp"

#include <algorithm>
#include <string>

#include <sotto/log.hpp>

namespace sotto::sottod {

Result<std::unique_ptr<KeyChecker>> KeyChecker::create(const Config& config, Tracer& tracer,
                                                       const Clock& clock) noexcept {
    try {
        fetch::Source source;
        source.location = config.keys_url.empty() ? config.keys_dir.string() : config.keys_url;
        KeyUpdaterOptions o;
        o.download.total_timeout_ms = static_cast<std::uint32_t>(config.http_timeout_ms);
        o.download.connect_timeout_ms =
            static_cast<std::uint32_t>(std::min<std::int64_t>(config.http_timeout_ms, 10'000));
        o.download.low_speed_time_s = static_cast<std::uint32_t>(
            std::max<std::int64_t>(1, std::min<std::int64_t>(30, config.http_timeout_ms / 1000)));
        o.download.max_file_bytes = config.max_file_bytes;
        o.download.max_spool_bytes = config.max_spool_bytes;
        o.download.ca_file = config.ca_file;
        auto updater = KeyUpdater::create(tracer, std::move(source), config.fetch_dir, o);
        if (!updater) return updater.error();
        return std::unique_ptr<KeyChecker>(new KeyChecker(std::move(*updater), clock));
    } catch (const std::bad_alloc&) {
        return Error{ErrorCode::kOutOfMemory, "key download: out of memory"};
    }
}

KeySummary KeyChecker::summary() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return summary_;
}

void KeyChecker::add(const UpdateReport& r) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::uint64_t failed = 0;
    for (const auto& f : r.files) {
        if (f.downloaded) ++summary_.files_downloaded;
        switch (f.outcome) {
            case UpdateOutcome::kChecked:
                ++summary_.files_used;
                break;
            case UpdateOutcome::kUnchanged:
            case UpdateOutcome::kStillRefused:
                ++summary_.files_unchanged;
                break;
            case UpdateOutcome::kRefused:
                ++summary_.files_refused;
                break;
            case UpdateOutcome::kFailed:
                if (f.reason.code != ErrorCode::kCancelled) ++failed;
                break;
            case UpdateOutcome::kPostponed:
                if (f.reason.code != ErrorCode::kCancelled) ++summary_.files_refused;
                break;
        }
    }
    summary_.files_failed += failed;
    summary_.last_round_ok = failed == 0 && !r.cancelled;
    if (!r.check) return;
    const auto& c = *r.check;
    ++summary_.checks;
    summary_.exposure_windows += c.report.windows.size();
    summary_.valid_matches += c.report.valid_matches;
    summary_.suspect_matches += c.report.suspect_matches;
    const auto& risk = c.report.risk;
    if (!c.report.windows.empty()) {
        summary_.risk_level = std::max(summary_.risk_level, static_cast<int>(c.risk));
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

Result<void> KeyChecker::run_round() noexcept {
    try {
        auto report = updater_.run();
        {
            std::lock_guard<std::mutex> lock(mutex_);
            ++summary_.rounds;
            summary_.last_round_unix = clock_->now_ms() / 1000;
            summary_.last_round_ok = false;
            if (!report) ++summary_.rounds_failed;
        }
        if (!report) return report.error();
        if (report->cancelled) {
            write_log(LogLevel::kInfo, "keys: round cancelled");
            add(*report);
            return {};
        }
        if (report->refusals_forgotten > 0)
            write_log_count(LogLevel::kInfo,
                            "keys: the public keys changed; refused files are checked again:",
                            report->refusals_forgotten);
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
        for (const auto& f : report->files) {
            switch (f.outcome) {
                case UpdateOutcome::kFailed:
                    write_log(LogLevel::kWarning,
                              "keys: a key file could not be downloaded; next round retries");
                    write_log(LogLevel::kWarning, f.reason.what);
                    break;
                case UpdateOutcome::kRefused:
                    write_log(LogLevel::kWarning,
                              "keys: a key file was refused (not verified); dropped until it "
                              "changes");
                    write_log(LogLevel::kWarning, f.reason.what);
                    break;
                case UpdateOutcome::kPostponed:
                    write_log(LogLevel::kWarning,
                              "keys: a key file could not be checked; kept "
                              "to retry");
                    write_log(LogLevel::kWarning, f.reason.what);
                    break;
                default:
                    break;
            }
        }
        if (report->check && !report->check->report.windows.empty())
            write_log_count(LogLevel::kWarning,
                            "keys: exposure windows found:", report->check->report.windows.size());
        add(*report);
        write_log_count(LogLevel::kInfo, "keys: round done; files listed", report->files.size());
        return {};
    } catch (const std::bad_alloc&) {
        return Error{ErrorCode::kOutOfMemory, "key round: out of memory"};
    }
}

}  // namespace sotto::sottod
