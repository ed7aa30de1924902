#include "bluez_fixture.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace sotto::test {
namespace {

constexpr const char* kDbusDaemon = "/usr/bin/dbus-daemon";
constexpr const char* kPython = "/usr/bin/python3";
// Every test ends within this many seconds, whatever hangs (the children die with it).
constexpr unsigned kWatchdogSeconds = 90;

void require_tools() {
    std::string missing;
    if (::access(kDbusDaemon, X_OK) != 0)
        missing = "dbus-daemon (package dbus)";
    else if (::access(kPython, X_OK) != 0)
        missing = "/usr/bin/python3";
    else if (run_process({kPython, "-c", "import dbusmock"}).exit_code != 0)
        missing = "python3-dbusmock";
    if (missing.empty()) return;
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string(ci) == "true")
        FAIL("BlueZ D-Bus tests need " << missing << " (CI=true: required)");
    std::fprintf(stderr, "SKIPPED: BlueZ D-Bus tests need %s (scripts/setup.sh installs it)\n",
                 missing.c_str());
    std::fflush(stderr);
    std::_Exit(kSkipExitCode);
}

}  // namespace

Child::Child(const std::vector<std::string>& argv, const std::vector<std::string>& env,
             bool capture_stdout, const std::string& log_path) {
    int fds[2] = {-1, -1};
    if (capture_stdout) REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    REQUIRE(log_fd >= 0);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) std::_Exit(127);
        ::dup2(capture_stdout ? fds[1] : log_fd, 1);
        ::dup2(log_fd, 2);
        for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        std::_Exit(127);
    }
    ::close(log_fd);
    if (capture_stdout) {
        ::close(fds[1]);
        out_fd_ = fds[0];
    }
}

Child::~Child() {
    kill_now(SIGTERM);
    if (out_fd_ >= 0) ::close(out_fd_);
}

Child::Child(Child&& o) noexcept : pid_(o.pid_), out_fd_(o.out_fd_) {
    o.pid_ = -1;
    o.out_fd_ = -1;
}

Child& Child::operator=(Child&& o) noexcept {
    if (this != &o) {
        kill_now(SIGTERM);
        if (out_fd_ >= 0) ::close(out_fd_);
        pid_ = o.pid_;
        out_fd_ = o.out_fd_;
        o.pid_ = -1;
        o.out_fd_ = -1;
    }
    return *this;
}

void Child::kill_now(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    for (int i = 0; i < 200; ++i) {  // up to 2 s, then SIGKILL
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
            pid_ = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

std::string Child::read_line(std::chrono::milliseconds timeout) {
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{out_fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        char c = 0;
        if (::read(out_fd_, &c, 1) != 1) break;
        if (c == '\n') return line;
        line.push_back(c);
    }
    return {};
}

BluezBus::BluezBus(bool start) {
    require_tools();
    ::alarm(kWatchdogSeconds);
    bus_ = Child({kDbusDaemon, "--session", "--nofork", "--print-address=1"}, {}, true,
                 (dir_ / "bus.log").string());
    address_ = bus_.read_line(std::chrono::seconds{10});
    REQUIRE(!address_.empty());
    ::setenv("DBUS_SYSTEM_BUS_ADDRESS", address_.c_str(), 1);
    control_ = sdbus::createSessionBusConnectionWithAddress(address_);
    if (start) start_mock();
}

BluezBus::~BluezBus() {
    control_.reset();
    mock_.kill_now(SIGTERM);
    bus_.kill_now(SIGTERM);
    ::alarm(0);
}

void BluezBus::start_mock() {
    mock_ = Child({kPython, "-m", "dbusmock", "--template", SOTTO_BLUEZ_MOCK_TEMPLATE},
                  {"DBUS_SYSTEM_BUS_ADDRESS=" + address_}, false, (dir_ / "mock.log").string());
    auto dbus = sdbus::createProxy(*control_, "org.freedesktop.DBus", "/org/freedesktop/DBus");
    const bool up = eventually(
        [&] {
            bool has = false;
            dbus->callMethod("NameHasOwner")
                .onInterface("org.freedesktop.DBus")
                .withArguments(std::string("org.bluez"))
                .storeResultsTo(has);
            return has;
        },
        std::chrono::seconds{20});
    if (!up) FAIL("mock bluetoothd did not start:\n" << read_text(dir_ / "mock.log"));
}

void BluezBus::kill_mock() { mock_.kill_now(SIGKILL); }
void BluezBus::kill_bus() { bus_.kill_now(SIGKILL); }

std::unique_ptr<sdbus::IProxy> BluezBus::mock_proxy() {
    return sdbus::createProxy(*control_, "org.bluez", "/");
}

#define SOTTO_MOCK_CALL(method) mock_proxy()->callMethod(method).onInterface("org.bluez.Mock")

void BluezBus::add_adapter(const std::string& name) {
    std::string path;
    SOTTO_MOCK_CALL("AddAdapter")
        .withArguments(name, std::string("sotto-test"))
        .storeResultsTo(path);
}
void BluezBus::remove_adapter(const std::string& name) {
    SOTTO_MOCK_CALL("RemoveAdapterReleasing").withArguments(name);
}
void BluezBus::set_powered(bool on, const std::string& name) {
    SOTTO_MOCK_CALL("SetPowered").withArguments(name, on);
}
void BluezBus::set_discoverable(bool on, const std::string& name) {
    SOTTO_MOCK_CALL("SetDiscoverable").withArguments(name, on);
}
void BluezBus::refuse_next_registration(const std::string& error_name, const std::string& name) {
    SOTTO_MOCK_CALL("RefuseNextRegistration").withArguments(name, error_name);
}
void BluezBus::refuse_next_discovery(const std::string& error_name, const std::string& name) {
    SOTTO_MOCK_CALL("RefuseNextDiscovery").withArguments(name, error_name);
}
void BluezBus::ignore_next_registration(const std::string& name) {
    SOTTO_MOCK_CALL("IgnoreNextRegistration").withArguments(name);
}
void BluezBus::release_advertisements(const std::string& name) {
    SOTTO_MOCK_CALL("ReleaseAdvertisements").withArguments(name);
}
void BluezBus::inject(const std::string& address, std::int16_t rssi,
                      const std::vector<std::uint8_t>& data, const std::string& uuid,
                      const std::string& name) {
    std::string path;
    SOTTO_MOCK_CALL("InjectAdvertisement")
        .withArguments(name, address, rssi, uuid, data)
        .storeResultsTo(path);
}
void BluezBus::emit_device_properties(const std::string& address,
                                      const std::map<std::string, sdbus::Variant>& changed,
                                      const std::string& name) {
    SOTTO_MOCK_CALL("EmitDeviceProperties").withArguments(name, address, changed);
}
std::map<std::string, std::map<std::string, sdbus::Variant>> BluezBus::advertisements(
    const std::string& name) {
    std::map<std::string, std::map<std::string, sdbus::Variant>> out;
    SOTTO_MOCK_CALL("GetAdvertisements").withArguments(name).storeResultsTo(out);
    return out;
}
std::map<std::string, sdbus::Variant> BluezBus::discovery_filter(const std::string& name) {
    std::map<std::string, sdbus::Variant> out;
    SOTTO_MOCK_CALL("GetDiscoveryFilter").withArguments(name).storeResultsTo(out);
    return out;
}
std::vector<std::string> BluezBus::call_log() {
    std::vector<std::string> out;
    SOTTO_MOCK_CALL("GetCallLog").storeResultsTo(out);
    return out;
}
std::size_t BluezBus::count_calls(const std::string& what) {
    std::size_t n = 0;
    for (const auto& line : call_log())
        if (line.find(what) != std::string::npos) ++n;
    return n;
}

std::string BluezBus::mock_log() { return read_text(dir_ / "mock.log"); }

void BluezBus::set_adapter_property(const std::string& property, const sdbus::Variant& value,
                                    const std::string& name) {
    sdbus::createProxy(*control_, "org.bluez", "/org/bluez/" + name)
        ->callMethod("Set")
        .onInterface("org.freedesktop.DBus.Properties")
        .withArguments(std::string("org.bluez.Adapter1"), property, value);
}

void BluezBus::spoof_device_signal(const std::string& device_path,
                                   const std::map<std::string, sdbus::Variant>& changed) {
    auto object = sdbus::createObject(*control_, device_path);
    auto signal = object->createSignal("org.freedesktop.DBus.Properties", "PropertiesChanged");
    signal << std::string("org.bluez.Device1") << changed << std::vector<std::string>{};
    object->emitSignal(signal);
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        try {
            if (pred()) return true;
        } catch (const sdbus::Error&) {
            // not there yet
        }
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
}

ble::ScanCallback Recorder::scan_callback() {
    return [this](const ble::HeardAdvertisement& h) {
        std::lock_guard lock(mutex);
        scan_thread = std::this_thread::get_id();
        heard.push_back({{h.service_data.begin(), h.service_data.end()},
                         h.service_uuid,
                         h.rssi_dbm,
                         h.time_ms,
                         h.address});
    };
}
ble::EventCallback Recorder::event_callback() {
    return [this](const ble::RadioEvent& e) {
        std::lock_guard lock(mutex);
        event_thread = std::this_thread::get_id();
        events.push_back(e);
    };
}
std::size_t Recorder::heard_count() {
    std::lock_guard lock(mutex);
    return heard.size();
}
std::vector<Recorder::Heard> Recorder::heard_copy() {
    std::lock_guard lock(mutex);
    return heard;
}
std::size_t Recorder::event_count(ble::RadioEventKind kind) {
    std::lock_guard lock(mutex);
    std::size_t n = 0;
    for (const auto& e : events)
        if (e.kind == kind) ++n;
    return n;
}

ble::Advertisement advertisement_filled(std::uint8_t fill) {
    ble::Advertisement a;
    a.service_data.fill(fill);
    return a;
}

std::vector<std::uint8_t> service_data_of(const std::map<std::string, sdbus::Variant>& props) {
    auto it = props.find("ServiceData");
    if (it == props.end() ||
        !it->second.containsValueOfType<std::map<std::string, sdbus::Variant>>())
        return {};
    const auto sd = it->second.get<std::map<std::string, sdbus::Variant>>();
    if (sd.size() != 1) return {};
    auto entry = sd.find("fd6f");
    if (entry == sd.end() || !entry->second.containsValueOfType<std::vector<std::uint8_t>>())
        return {};
    return entry->second.get<std::vector<std::uint8_t>>();
}

std::unique_ptr<platform::bluez::BluezRadio> make_radio(const Clock& clock,
                                                        platform::bluez::BluezOptions options) {
    auto r = platform::bluez::create(clock, options);
    REQUIRE(r.has_value());
    return std::move(*r);
}

RadioOnBus::RadioOnBus() {
    bus.add_adapter();
    radio = make_radio(clock);
}

}  // namespace sotto::test
