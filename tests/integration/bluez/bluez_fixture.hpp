#pragma once
// A private D-Bus with a mock bluetoothd, started by the test itself:
//   dbus-daemon --session --nofork --print-address  (the "system bus" of this test)
//   /usr/bin/python3 -m dbusmock --template tests/dbus/bluez5_le.py
// Both are child processes that die with the test (PR_SET_PDEATHSIG) and are killed by the
// fixture's destructor on every exit path; an alarm ends a test that hangs.
// Missing tools: the test is reported as skipped (exit code 4), or fails with CI=true.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

#include <sotto/ble/radio.hpp>
#include <sotto/clock.hpp>
#include <sotto/platform/bluez_radio.hpp>

#include "support.hpp"

namespace sotto::test {

/// A child process; killed (SIGTERM, then SIGKILL) and reaped on destruction.
class Child {
public:
    Child() = default;
    /// Starts `argv` with `env` added to the environment. stdout goes to a pipe readable with
    /// `read_line` when `capture_stdout`, otherwise to `log_path`.
    Child(const std::vector<std::string>& argv, const std::vector<std::string>& env,
          bool capture_stdout, const std::string& log_path);
    ~Child();
    Child(Child&& o) noexcept;
    Child& operator=(Child&& o) noexcept;
    /// One line of the child's stdout, waiting at most `timeout`. Empty on timeout/EOF.
    std::string read_line(std::chrono::milliseconds timeout);
    void kill_now(int sig);
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    int out_fd_ = -1;
};

/// The private bus plus the mock bluetoothd on it.
class BluezBus {
public:
    /// Starts the bus and (unless `start_mock` is false) the mock. Sets DBUS_SYSTEM_BUS_ADDRESS.
    explicit BluezBus(bool start_mock = true);
    ~BluezBus();

    void start_mock();
    /// Kills the mock (bluetoothd "crashes"): its bus name disappears.
    void kill_mock();
    /// Kills the bus daemon itself.
    void kill_bus();

    // ---- org.bluez.Mock controls ----
    void add_adapter(const std::string& name = "hci0");
    void remove_adapter(const std::string& name = "hci0");  // with Release() of the ads
    void set_powered(bool on, const std::string& name = "hci0");
    void set_discoverable(bool on, const std::string& name = "hci0");
    void refuse_next_registration(const std::string& error_name, const std::string& name = "hci0");
    void refuse_next_discovery(const std::string& error_name, const std::string& name = "hci0");
    void ignore_next_registration(const std::string& name = "hci0");
    void release_advertisements(const std::string& name = "hci0");
    void inject(const std::string& address, std::int16_t rssi,
                const std::vector<std::uint8_t>& data,
                const std::string& uuid = "0000fd6f-0000-1000-8000-00805f9b34fb",
                const std::string& name = "hci0");
    void emit_device_properties(const std::string& address,
                                const std::map<std::string, sdbus::Variant>& changed,
                                const std::string& name = "hci0");
    /// Registered advertisements: "<sender><path>" -> LEAdvertisement1 properties as read back.
    std::map<std::string, std::map<std::string, sdbus::Variant>> advertisements(
        const std::string& name = "hci0");
    std::map<std::string, sdbus::Variant> discovery_filter(const std::string& name = "hci0");
    std::vector<std::string> call_log();
    /// Lines of call_log() that contain `what`.
    std::size_t count_calls(const std::string& what);

    /// Everything the mock logged (dbusmock logs every method call, Properties.Set included).
    std::string mock_log();
    /// Properties.Set on the adapter from the test's own connection (what a desktop panel does).
    void set_adapter_property(const std::string& property, const sdbus::Variant& value,
                              const std::string& name = "hci0");

    /// A Device1 PropertiesChanged sent by the *test's* connection, not by bluetoothd: what any
    /// local process can emit on the system bus.
    void spoof_device_signal(const std::string& device_path,
                             const std::map<std::string, sdbus::Variant>& changed);

    const std::string& address() const { return address_; }

private:
    std::unique_ptr<sdbus::IProxy> mock_proxy();
    TempDir dir_;
    std::string address_;
    Child bus_;
    Child mock_;
    std::unique_ptr<sdbus::IConnection> control_;
};

/// Polls `pred` every 10 ms until it is true or `timeout` passed; returns its last value.
bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = std::chrono::milliseconds{5000});

/// Thread-safe record of what a radio delivered.
struct Recorder {
    struct Heard {
        std::vector<std::uint8_t> data;
        std::uint16_t uuid = 0;
        std::int16_t rssi = 0;
        std::int64_t time_ms = 0;
        ble::Address address;
    };
    std::mutex mutex;
    std::vector<Heard> heard;
    std::vector<ble::RadioEvent> events;
    std::thread::id scan_thread;   ///< thread of the last scan callback
    std::thread::id event_thread;  ///< thread of the last event callback

    ble::ScanCallback scan_callback();
    ble::EventCallback event_callback();
    std::size_t heard_count();
    std::vector<Heard> heard_copy();
    std::size_t event_count(ble::RadioEventKind kind);
};

/// The 20 service-data bytes of an advertisement whose bytes all equal `fill`.
ble::Advertisement advertisement_filled(std::uint8_t fill);
/// The ServiceData bytes of a registered advertisement (empty if the shape is not a{s: ay}).
std::vector<std::uint8_t> service_data_of(const std::map<std::string, sdbus::Variant>& props);

/// A BlueZ radio on the bus this test set up (fails the test if it cannot be created).
std::unique_ptr<platform::bluez::BluezRadio> make_radio(const Clock& clock,
                                                        platform::bluez::BluezOptions options = {});

/// What most backend tests start from (`TEST_CASE_METHOD(RadioOnBus, ...)`): the private bus and
/// mock with adapter hci0, a manual clock, a radio with default options, and a Recorder for the
/// test to attach. Destroyed in reverse: the recorder, the radio, the bus.
struct RadioOnBus {
    RadioOnBus();
    BluezBus bus;
    ManualClock clock;
    std::unique_ptr<platform::bluez::BluezRadio> radio;
    Recorder rec;
};

}  // namespace sotto::test
