// sotto-bench-bluez: numbers for the BlueZ backend. Not a test: run on demand.
//
//   build/bench/sotto-bench-bluez [template.py]
//
// 1. Device1 decoding on plain values (no bus): signals per second.
// 2. Against a mock bluetoothd (python3-dbusmock, tests/dbus/bluez5_le.py) on a private
//    dbus-daemon that this program starts and kills: create, registration and rotation latency,
//    injected-report-to-callback latency, and the resident memory the radio adds.
// The D-Bus numbers include the Python mock's own time, so they are upper bounds of the backend's.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

#include <sotto/platform/bluez_radio.hpp>

#include "bluez/device_properties.hpp"

namespace {

using namespace sotto;
using namespace sotto::platform::bluez;
using Steady = std::chrono::steady_clock;

double ms_since(Steady::time_point t0) {
    return std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
}

long vm_rss_kb() {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    return -1;
}

void print_quantiles(const char* what, std::vector<double> v) {
    std::sort(v.begin(), v.end());
    auto q = [&](double p) {
        return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
    };
    std::printf("%-44s n=%zu  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n", what, v.size(),
                q(0.5), q(0.9), q(0.99), v.back());
}

void bench_decode() {
    std::vector<PlainProperty> props{
        {"RSSI", PlainValue{"n", -61, {}, {}, {}}},
        {"ServiceData",
         PlainValue{"a{sv}",
                    0,
                    {},
                    {},
                    {{"0000fd6f-0000-1000-8000-00805f9b34fb",
                      PlainValue{"ay", 0, {}, std::vector<std::uint8_t>(20, 0x5a), {}}}}}}};
    const std::string path = "/org/bluez/hci0/dev_4A_11_22_33_44_55";
    constexpr int kRounds = 1'000'000;
    std::size_t delivered = 0;
    const auto t0 = Steady::now();
    for (int i = 0; i < kRounds; ++i) {
        props[0].value.integer = -40 - (i & 31);
        const auto out = decode_device_properties(path, props);
        delivered += out.report ? out.report->entries.size() : 0;
    }
    const double s = ms_since(t0) / 1000.0;
    std::printf("%-44s %.2f M signals/s (%.0f ns each, %zu entries)\n",
                "decode (plain values, no bus)", kRounds / s / 1e6, s * 1e9 / kRounds, delivered);
}

struct Child {
    pid_t pid = -1;
    ~Child() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
};

pid_t spawn(const std::vector<std::string>& argv, int out_fd) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (out_fd >= 0) ::dup2(out_fd, 1);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        std::_Exit(127);
    }
    return pid;
}

int bench_dbus(const std::string& mock_template) {
    int fds[2];
    if (::pipe(fds) != 0) return 1;
    Child bus;
    bus.pid = spawn({"/usr/bin/dbus-daemon", "--session", "--nofork", "--print-address=1"}, fds[1]);
    ::close(fds[1]);
    std::string address;
    char c = 0;
    while (::read(fds[0], &c, 1) == 1 && c != '\n') address.push_back(c);
    ::close(fds[0]);
    if (address.empty()) {
        std::fprintf(stderr, "no dbus-daemon (package dbus)\n");
        return 1;
    }
    ::setenv("DBUS_SYSTEM_BUS_ADDRESS", address.c_str(), 1);
    Child mock;
    const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    mock.pid = spawn({"/usr/bin/python3", "-m", "dbusmock", "--template", mock_template}, devnull);
    ::close(devnull);
    auto control = sdbus::createSessionBusConnectionWithAddress(address);
    auto dbus = sdbus::createProxy(*control, "org.freedesktop.DBus", "/org/freedesktop/DBus");
    bool up = false;
    for (int i = 0; i < 2000 && !up; ++i) {
        dbus->callMethod("NameHasOwner")
            .onInterface("org.freedesktop.DBus")
            .withArguments(std::string("org.bluez"))
            .storeResultsTo(up);
        if (!up) std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    if (!up) {
        std::fprintf(stderr, "mock bluetoothd did not start (python3-dbusmock?)\n");
        return 1;
    }
    auto mock_root = sdbus::createProxy(*control, "org.bluez", "/");
    std::string adapter_path;
    mock_root->callMethod("AddAdapter")
        .onInterface("org.bluez.Mock")
        .withArguments(std::string("hci0"), std::string("bench"))
        .storeResultsTo(adapter_path);

    SystemClock clock;
    const long rss0 = vm_rss_kb();
    auto t0 = Steady::now();
    auto created = create(clock);
    if (!created) {
        std::fprintf(stderr, "create failed: %s\n", created.error().what);
        return 1;
    }
    auto& radio = **created;
    std::printf("%-44s %.2f ms\n", "create (connect, export, subscribe, query)", ms_since(t0));

    ble::Advertisement adv;
    t0 = Steady::now();
    if (!radio.start_advertising(adv)) return 1;
    std::printf("%-44s %.2f ms\n", "start_advertising (incl. GetAll read-back)", ms_since(t0));
    std::vector<double> rotations;
    for (int i = 0; i < 200; ++i) {
        adv.service_data[0] = static_cast<std::uint8_t>(i);
        t0 = Steady::now();
        if (!radio.rotate(adv)) return 1;
        rotations.push_back(ms_since(t0));
    }
    print_quantiles("rotate (Unregister + Register)", rotations);

    std::atomic<int> heard{0};
    if (!radio.start_scanning([&](const ble::HeardAdvertisement&) { heard.fetch_add(1); }))
        return 1;
    std::vector<double> latencies;
    std::vector<std::uint8_t> payload(20, 7);
    for (int i = 0; i < 300; ++i) {
        const int before = heard.load();
        t0 = Steady::now();
        std::string path;
        mock_root->callMethod("InjectAdvertisement")
            .onInterface("org.bluez.Mock")
            .withArguments(std::string("hci0"), std::string("4A:00:00:00:00:01"),
                           static_cast<std::int16_t>(-60),
                           std::string("0000fd6f-0000-1000-8000-00805f9b34fb"), payload)
            .storeResultsTo(path);
        while (heard.load() == before && ms_since(t0) < 2000) std::this_thread::yield();
        latencies.push_back(ms_since(t0));
    }
    print_quantiles("injected report -> scan callback", latencies);
    std::printf("%-44s %ld kB\n", "RSS added by one radio (after the above)", vm_rss_kb() - rss0);
    auto t1 = Steady::now();
    created->reset();
    std::printf("%-44s %.2f ms\n", "destructor", ms_since(t1));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    bench_decode();
    return bench_dbus(argc > 1 ? argv[1] : SOTTO_BLUEZ_MOCK_TEMPLATE);
}
