#include "store_workload.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <stdexcept>

namespace sotto::bench {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

[[noreturn]] void fail(const char* step, const Error& e) {
    throw std::runtime_error(std::string(step) + ": " + error_code_name(e.code) + ": " + e.what);
}

}  // namespace

StoreWorkload::StoreWorkload(std::uint64_t rows) {
    const core::IntervalNumber now = *core::interval_number(kStoreBenchNow);
    const auto cutoff = *store::retention_cutoff(kStoreBenchNow, store::kDefaultRetentionDays);
    for (core::IntervalNumber iv = cutoff; iv < now; ++iv) intervals_.push_back(iv);
    rpis_per_interval_ =
        static_cast<std::uint32_t>((rows + intervals_.size() - 1) / intervals_.size());
}

std::uint32_t StoreWorkload::middle_day() const noexcept {
    return intervals_[intervals_.size() / 2] / core::kTekRollingPeriod;
}

void StoreWorkload::fill_interval() {
    pending_.clear();
    pending_pos_ = 0;
    const core::IntervalNumber iv = intervals_[next_interval_++];
    const std::int64_t start = core::interval_start_seconds(iv);
    auto rnd = [this] {  // splitmix64
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    };
    for (std::uint32_t i = 0; i < rpis_per_interval_; ++i) {
        core::Beacon b;
        for (std::size_t k = 0; k < 16; k += 8) {
            const std::uint64_t r = rnd();
            for (std::size_t j = 0; j < 8; ++j)
                b.rpi.bytes[k + j] = static_cast<std::uint8_t>(r >> (8 * j));
        }
        const std::uint64_t r = rnd();
        for (std::size_t j = 0; j < 4; ++j)
            b.aem.bytes[j] = static_cast<std::uint8_t>(r >> (8 * j));
        const int packets = 1 + static_cast<int>((r >> 32) % 5);
        const auto base = static_cast<std::int64_t>((r >> 40) % 560);
        for (int p = 0; p < packets; ++p) {
            core::Observation o;
            o.beacon = b;
            o.time = start + base + static_cast<std::int64_t>(rnd() % 40);
            o.rssi = static_cast<std::int8_t>(-50 - static_cast<int>(rnd() % 45));
            pending_.push_back(o);
        }
    }
    std::stable_sort(pending_.begin(), pending_.end(),
                     [](const auto& a, const auto& b) { return a.time < b.time; });
}

bool StoreWorkload::next(std::vector<core::Observation>& batch) {
    batch.clear();
    while (batch.size() < kStoreBenchBatch) {
        if (pending_pos_ == pending_.size()) {
            if (next_interval_ == intervals_.size()) break;
            fill_interval();
        }
        const std::size_t take =
            std::min(kStoreBenchBatch - batch.size(), pending_.size() - pending_pos_);
        batch.insert(batch.end(), pending_.begin() + static_cast<std::ptrdiff_t>(pending_pos_),
                     pending_.begin() + static_cast<std::ptrdiff_t>(pending_pos_ + take));
        pending_pos_ += take;
    }
    return !batch.empty();
}

StoreRun run_store_workload(StoreOpener open, const std::string& path, std::uint64_t rows) {
    StoreRun run;
    StoreWorkload w(rows);
    {
        auto s = open(path, true);
        if (!s) fail("open", s.error());
        std::vector<core::Observation> batch;
        while (w.next(batch)) {
            const auto t0 = Clock::now();
            auto r = s->ingest(batch, kStoreBenchNow);
            run.ingest_seconds += ms_since(t0) / 1000.0;
            if (!r) fail("ingest", r.error());
            if (!r->rejected.empty()) fail("ingest", r->rejected.front().error);
            run.observations += batch.size();
            run.rows += r->new_rows;
        }
    }  // closing checkpoints the WAL into the database file
    run.file_bytes = std::filesystem::file_size(path);
    auto s = open(path, false);
    if (!s) fail("reopen", s.error());
    std::vector<double> times;
    for (int i = 0; i < 7; ++i) {
        const auto t0 = Clock::now();
        auto day = s->sightings_on_day(w.middle_day());
        const double ms = ms_since(t0);
        if (!day) fail("query", day.error());
        run.day_rows = day->size();
        if (i == 0)
            run.first_query_ms = ms;
        else
            times.push_back(ms);
    }
    std::sort(times.begin(), times.end());
    run.median_query_ms = times[times.size() / 2];
    return run;
}

}  // namespace sotto::bench
