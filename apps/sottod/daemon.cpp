#include "daemon.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>

#include <sotto/host/clock_sync.hpp>
#include <sotto/host/files.hpp>
#include <sotto/log.hpp>
#include <sotto/tracer.hpp>
#ifdef SOTTO_HAVE_BLUEZ
#include <sotto/platform/bluez_radio.hpp>
#endif

#include "counting_radio.hpp"
#include "journal_log.hpp"
#include "key_checker.hpp"
#include "sim_world.hpp"
#include "status_json.hpp"
#include "status_socket.hpp"

namespace sotto::sottod {

namespace {

JournalSink* g_sink = nullptr;

void log_to_journal(void* user, sotto::LogLevel level, const char* message,
                    std::size_t size) noexcept {
    auto* sink = static_cast<JournalSink*>(user);
    const LogLevel mapped = level == sotto::LogLevel::kError     ? LogLevel::kError
                            : level == sotto::LogLevel::kWarning ? LogLevel::kWarning
                            : level == sotto::LogLevel::kInfo    ? LogLevel::kInfo
                                                                 : LogLevel::kDebug;
    sink->write(mapped, std::string_view(message, size));
}

void say(LogLevel level, std::string_view message) noexcept {
    if (g_sink != nullptr) g_sink->write(level, message);
}

// Creates `dir` (mode 0700) if missing; refuses one that is not a directory of ours, mode 0700.
Result<void> make_private_dir(const std::filesystem::path& dir) noexcept {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        return make_error(ErrorCode::kStorageIo, "status socket: cannot create the directory");
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() ||
        (st.st_mode & 077) != 0)
        return make_error(ErrorCode::kInvalidArgument,
                          "status socket: the directory is not a private directory of this user");
    return {};
}

int fail_start(const char* what, const Error& e) noexcept {
    say(LogLevel::kError, std::string_view(what));
    say(LogLevel::kError, e.what);
    return 1;
}

/// The key thread: a round at start, then every `check_every_ms`, until `stop`.
class KeyThread {
public:
    KeyThread(KeyChecker& checker, std::int64_t every_ms) : checker_(checker), every_ms_(every_ms) {
        thread_ = std::thread([this] { loop(); });
    }
    ~KeyThread() { stop(); }
    void stop() noexcept {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_.store(true);
        }
        checker_.cancel();  // the round in flight ends within a fraction of a second
        cv_.notify_all();
        if (thread_.joinable()) thread_.join();
    }

private:
    void loop() noexcept {
        std::unique_lock<std::mutex> lock(mutex_);
        while (!stop_.load()) {
            lock.unlock();
            if (auto r = checker_.run_round(); !r) {
                say(LogLevel::kError, "keys: round failed");
                say(LogLevel::kError, r.error().what);
            }
            lock.lock();
            cv_.wait_for(lock, std::chrono::milliseconds(every_ms_),
                         [this] { return stop_.load(); });
        }
    }
    KeyChecker& checker_;
    std::int64_t every_ms_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

int run(const Config& c) {
    // Signals are taken synchronously by the main loop; every thread started below inherits the
    // mask.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);  // nothing to reload: logged and ignored, never a silent death
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    signal(SIGPIPE, SIG_IGN);

    // The status socket's path is settled before anything is opened: a bad one is a usage error
    // that leaves the store untouched.
    if (!c.status_socket_make_dir.empty()) {
        if (auto made = make_private_dir(c.status_socket_make_dir); !made) {
            fail_start("status socket: $XDG_RUNTIME_DIR/sotto cannot be used", made.error());
            return 2;
        }
    }
    if (!c.status_socket.empty()) {
        if (auto ok = check_status_socket_path(c.status_socket); !ok) {
            fail_start("status socket: refused", ok.error());
            return 2;
        }
    }

    auto key = host::read_key_file(c.key_file);
    if (!key)
        return fail_start("store key: cannot be read (--key-file or the store-key credential)",
                          key.error());
    keyfile::TrustStore trust;
    if (!c.pubkeys.empty()) {
        std::vector<std::filesystem::path> pems(c.pubkeys.begin(), c.pubkeys.end());
        if (auto r = host::add_pem_files(trust, pems, "", ""); !r) {
            fail_start("--pubkey: not a readable EC P-256 public key file", r.error());
            return 2;
        }
    }

    SystemClock system_clock;
    std::unique_ptr<SimWorld> world;
    const Clock* clock = &system_clock;
    std::unique_ptr<ble::Radio> radio;
#ifdef SOTTO_HAVE_BLUEZ
    const platform::bluez::BluezRadio* bluez = nullptr;
#endif
    const char* radio_name = c.radio == RadioKind::kSimulated ? "simulated" : "bluez";
    if (c.radio == RadioKind::kSimulated) {
        auto w = SimWorld::create(c.sim_seed, c.sim_peers, c.sim_start_ms, c.sim_speed);
        if (!w) return fail_start("simulated radio: cannot be set up", w.error());
        world = std::move(*w);
        clock = &world->clock();
        radio = world->take_radio();
    } else {
#ifdef SOTTO_HAVE_BLUEZ
        platform::bluez::BluezOptions bo;
        bo.adapter = c.adapter;
        auto r = platform::bluez::create(*clock, bo);
        if (!r) return fail_start("bluez: cannot connect to the system bus", r.error());
        bluez = r->get();  // owned by the Tracer (through the CountingRadio) until detach_radio
        radio = std::move(*r);
#else
        say(LogLevel::kError, "bluez: this build has no BlueZ backend (sdbus-c++ missing)");
        return 1;
#endif
    }

    TracerOptions options;
    options.trust = std::move(trust);
    options.flush_interval_ms = c.flush_interval_ms;
    options.scan.continuous = c.scan_continuous;  // else GAEN's 4 s every 3.5-5 min
    // Retention after days off needs the clock vouched for: the operator's word (--trust-clock)
    // or the kernel's "synchronized" flag (NTP); the latter not for the simulated clock, which the
    // kernel knows nothing about.
    if (c.trust_clock) {
        options.clock_confirmed = [] { return true; };
    } else if (!world) {
        options.clock_confirmed = [] { return host::kernel_clock_synchronized(); };
    }
    auto opened = Tracer::open(c.store, store::Credential::raw_key(std::move(*key)), *clock,
                               std::move(options));
    if (!opened)
        return fail_start("store: cannot be opened (wrong key, damaged, or not writable)",
                          opened.error());
    Tracer& tracer = *opened;

    auto owned = std::make_unique<CountingRadio>(std::move(radio));
    CountingRadio* duty_radio = owned.get();
    if (auto r = tracer.attach_radio(std::move(owned)); !r)
        return fail_start("radio: cannot start advertising and scanning", r.error());
    say(LogLevel::kInfo,
        c.radio == RadioKind::kSimulated ? "started: simulated radio" : "started: BlueZ radio");

    const bool keys_configured = !c.keys_url.empty() || !c.keys_dir.empty();
    std::unique_ptr<KeyChecker> checker;
    std::string keys_off_reason;
    if (keys_configured) {
        auto k = KeyChecker::create(c, tracer, *clock);
        if (!k) {
            const bool usage = k.error().code == ErrorCode::kNetworkRefused ||
                               k.error().code == ErrorCode::kInvalidArgument;
            if (usage) {
                fail_start("keys: the key source is refused", k.error());
                return 2;
            }
            // A fetch directory that cannot be written (read-only, full, wrong owner) turns key
            // updates off; tracing goes on, and `sotto status` says why.
            keys_off_reason = std::string("the fetch directory cannot be used: ") + k.error().what;
            say(LogLevel::kWarning,
                "keys: updates off, tracing goes on: the fetch directory "
                "cannot be used (see `sotto status`)");
            say(LogLevel::kWarning, k.error().what);
        } else {
            checker = std::move(*k);
        }
    }

    const std::int64_t started = clock->now_ms() / 1000;
    std::unique_ptr<StatusServer> status;
    if (c.status_socket.empty()) {
        say(LogLevel::kNotice,
            "status: no status socket (no --status-socket, $RUNTIME_DIRECTORY or "
            "$XDG_RUNTIME_DIR): `sotto status` cannot reach this daemon");
    } else {
        auto producer = [&]() {
            StatusInputs in;
            in.radio = radio_name;
            in.now_unix = clock->now_ms() / 1000;
            in.started_unix = started;
            in.keys_configured = keys_configured;
            in.keys_off_reason = keys_off_reason;
#ifdef SOTTO_HAVE_BLUEZ
            if (bluez != nullptr) {
                const auto b = bluez->bluez_status();
                in.bluez = BluezCounters{b.malformed_signals, b.dropped_entries, b.registrations,
                                         b.service_restarts, b.adapter_discoverable};
            }
#endif
            in.tracer = tracer.status();
            in.radio_status = duty_radio->status();
            in.scan_windows = duty_radio->windows();
            if (checker) in.keys = checker->summary();
            return status_json(in);
        };
        auto s = StatusServer::start(c.status_socket, producer);
        if (!s) return fail_start("status socket: cannot be created", s.error());
        status = std::move(*s);
    }

    std::optional<KeyThread> keys;
    if (checker) keys.emplace(*checker, c.check_every_ms);

    const long tick_ms = world ? 100 : 1000;
    const timespec wait{tick_ms / 1000, (tick_ms % 1000) * 1'000'000L};
    int exit_code = 0;
    std::uint64_t tick_errors = 0;
    for (;;) {
        const int sig = sigtimedwait(&signals, nullptr, &wait);
        if (g_sink != nullptr) g_sink->flush_repeats();
        if (sig == SIGHUP)
            say(LogLevel::kInfo, "SIGHUP: nothing to reload (restart to apply new options)");
        if (sig == SIGTERM || sig == SIGINT) {
            say(LogLevel::kInfo, sig == SIGTERM ? "stopping: SIGTERM" : "stopping: SIGINT");
            break;
        }
        if (world) {
            if (auto r = world->pump(); !r && tick_errors++ < 10)
                say(LogLevel::kWarning, r.error().what);
        }
        // A suspect clock is not a failure of the tick: the Tracer logs it once (and once when
        // it is trusted again), and the status socket shows it.
        if (auto r = tracer.tick(); !r) {
            if (tick_errors++ < 10) say(LogLevel::kWarning, r.error().what);
            if (r.error().code == ErrorCode::kStorageCorrupt) {
                exit_code = 1;
                break;
            }
        }
    }

    if (keys) keys->stop();
    if (status) status->stop();
    if (auto r = tracer.detach_radio(); !r) say(LogLevel::kWarning, r.error().what);
    if (auto r = tracer.flush(); !r) {
        say(LogLevel::kError, "stopping: heard beacons could not be written");
        say(LogLevel::kError, r.error().what);
        exit_code = 1;
    }
    if (g_sink != nullptr) g_sink->flush_repeats(true);
    const auto st = tracer.status();
    write_log_count(sotto::LogLevel::kInfo, "stopped: beacons stored", st.stored);
    return exit_code;
}

}  // namespace

int run_daemon(const Config& config) noexcept {
    static JournalSink sink(2, config.debug ? LogLevel::kDebug : LogLevel::kInfo);
    g_sink = &sink;
    set_log_sink(&log_to_journal, &sink,
                 config.debug ? sotto::LogLevel::kDebug : sotto::LogLevel::kInfo);
    try {
        const int code = run(config);
        set_log_sink(nullptr, nullptr);
        return code;
    } catch (const std::bad_alloc&) {
        say(LogLevel::kError, "out of memory");
    } catch (const std::exception&) {
        say(LogLevel::kError, "internal error");
    }
    return 1;
}

}  // namespace sotto::sottod
