#include <algorithm>
#include <atomic>
#include <mutex>
#include <new>
#include <thread>

#include <sotto/core/rng.hpp>
#include <sotto/match/engine.hpp>

namespace sotto::match {

struct MatchEngine::Impl {
    core::SightingIndex index;
    EngineOptions options;
    core::MatchCounters counters;
};

MatchEngine::MatchEngine(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
MatchEngine::MatchEngine(MatchEngine&&) noexcept = default;
MatchEngine& MatchEngine::operator=(MatchEngine&&) noexcept = default;
MatchEngine::~MatchEngine() = default;

Result<MatchEngine> MatchEngine::create(std::vector<core::Sighting> sightings,
                                        const EngineOptions& options) try {
    auto rng = core::SystemRng::create();
    if (!rng) return rng.error();
    std::uint64_t seed = 0;
    rng->fill(std::span(reinterpret_cast<std::uint8_t*>(&seed), sizeof seed));
    if (options.chunk_keys == 0)
        return make_error(ErrorCode::kInvalidArgument, "engine: chunk size 0");
    auto impl = std::make_unique<Impl>(
        Impl{core::SightingIndex::build(std::move(sightings), seed), options, {}});
    if (auto probe = core::KeyMatcher::create(impl->index, options.match); !probe)
        return probe.error();
    if (impl->options.threads == 0)
        impl->options.threads = std::max(1u, std::thread::hardware_concurrency());
    return MatchEngine(std::move(impl));
} catch (const std::bad_alloc&) {
    return make_error(ErrorCode::kOutOfMemory, "engine: out of memory");
}

const core::SightingIndex& MatchEngine::index() const noexcept { return impl_->index; }
const EngineOptions& MatchEngine::options() const noexcept { return impl_->options; }
const core::MatchCounters& MatchEngine::counters() const noexcept { return impl_->counters; }

Result<std::vector<core::MatchedSighting>> MatchEngine::match_keys(
    std::span<const core::DiagnosisKey> keys, std::uint32_t first_key_index) try {
    Impl& im = *impl_;
    const std::size_t chunk = im.options.chunk_keys;
    const std::size_t chunks = (keys.size() + chunk - 1) / chunk;
    std::vector<std::vector<core::MatchedSighting>> per_chunk(chunks);
    std::atomic<std::size_t> next{0};
    std::mutex mu;
    core::MatchCounters total;
    Error failure{};
    bool failed = false;

    auto record_failure = [&](const Error& e) {
        std::lock_guard lock(mu);
        if (!failed) {
            failed = true;
            failure = e;
        }
    };
    // One worker: its own matcher, chunks taken from a shared counter until none are left.
    auto work_on_chunks = [&] {
        auto matcher = core::KeyMatcher::create(im.index, im.options.match);
        if (!matcher) return record_failure(matcher.error());
        for (std::size_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < chunks;) {
            const std::size_t end = std::min(keys.size(), (c + 1) * chunk);
            auto r = matcher->match_batch(keys.subspan(c * chunk, end - c * chunk),
                                          first_key_index + static_cast<std::uint32_t>(c * chunk),
                                          per_chunk[c]);
            if (!r) {
                next.store(chunks);  // the others stop too
                return record_failure(r.error());
            }
        }
        std::lock_guard lock(mu);
        total += matcher->counters();
    };
    auto work = [&]() noexcept {
        try {
            work_on_chunks();
        } catch (const std::bad_alloc&) {  // fail the call, not the process
            next.store(chunks);
            record_failure(Error{ErrorCode::kOutOfMemory, "engine: a worker ran out of memory"});
        } catch (...) {
            next.store(chunks);
            record_failure(Error{ErrorCode::kInternal, "engine: a worker failed"});
        }
    };

    const unsigned threads = static_cast<unsigned>(
        std::min<std::size_t>(im.options.threads, std::max<std::size_t>(chunks, 1)));
    std::vector<std::thread> pool;
    try {
        pool.reserve(threads > 0 ? threads - 1 : 0);
        for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
    } catch (...) {
        // Fewer threads than asked (the system refused one): the started ones and this one finish.
    }
    work();
    for (auto& t : pool) t.join();
    if (failed) return failure;

    im.counters += total;
    std::size_t n = 0;
    for (const auto& v : per_chunk) n += v.size();
    std::vector<core::MatchedSighting> out;
    out.reserve(n);
    for (auto& v : per_chunk) out.insert(out.end(), v.begin(), v.end());
    return out;
} catch (const std::bad_alloc&) {
    return make_error(ErrorCode::kOutOfMemory, "engine: out of memory");
}

}  // namespace sotto::match
