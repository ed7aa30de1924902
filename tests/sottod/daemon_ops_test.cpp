// sottod once deployed, as a real child process: the status socket path is checked before
// anything is opened and never replaces a file; the socket stays fair under a connection flood
// from one client; an unusable fetch directory turns key updates off while tracing goes on; a
// daemon outside systemd serves its status under $XDG_RUNTIME_DIR or says it has none.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <thread>

#include <sotto/keyfile/export_writer.hpp>

#include "sottod/sottod_process.hpp"
#include "status_socket.hpp"

namespace {
using namespace std::chrono_literals;
using nlohmann::json;
using sotto::test::run_process;
using sotto::test::TempDir;
using sotto::test::sottod::Sottod;

std::vector<std::string> base_args(const TempDir& tmp) {
    sotto::test::sottod::write_store_key(tmp / "store.key");
    return {sotto::test::sottod::sottod_path(),
            "--radio",
            "simulated",
            "--store",
            (tmp / "store.db").string(),
            "--key-file",
            (tmp / "store.key").string()};
}

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// A child process that floods `path` with connections from two threads until killed: each
// thread keeps up to 32 connections open (never sending a byte) and replaces the oldest.
pid_t start_flooder(const std::filesystem::path& path) {
    const pid_t parent = getpid();
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid != 0) return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) std::_Exit(127);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    auto flood = [addr] {
        std::deque<int> open;
        for (;;) {
            const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
            if (fd < 0) continue;
            if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 &&
                errno != EINPROGRESS && errno != EAGAIN) {
                ::close(fd);
                continue;
            }
            open.push_back(fd);
            if (open.size() > 32) {
                ::close(open.front());
                open.pop_front();
            }
        }
    };
    std::thread a(flood), b(flood);
    a.join();
    b.join();
    std::_Exit(0);
}

}  // namespace

TEST_CASE("sottod refuses a --status-socket that names anything but a socket, before the store",
          "[sottod][ops]") {
    TempDir tmp;
    const auto argv = base_args(tmp);
    // A regular file: refused (exit 2), left as it was, and the store is never created.
    sotto::test::write_text(tmp / "notes.txt", "precious\n");
    auto r = run_process(with(argv, {"--status-socket", (tmp / "notes.txt").string()}));
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("not a socket") != std::string::npos);
    CHECK(sotto::test::read_text(tmp / "notes.txt") == "precious\n");
    CHECK_FALSE(std::filesystem::exists(tmp / "store.db"));
    // A directory, a symlink to the file, a missing parent: refused the same way.
    std::filesystem::create_directory(tmp / "adir");
    std::filesystem::create_symlink(tmp / "notes.txt", tmp / "link.sock");
    for (const auto& p : {tmp / "adir", tmp / "link.sock", tmp / "missing" / "status.sock"}) {
        r = run_process(with(argv, {"--status-socket", p.string()}));
        INFO(p << "\n" << r.err);
        CHECK(r.exit_code == 2);
    }
    CHECK(std::filesystem::is_directory(tmp / "adir"));
    CHECK(std::filesystem::is_symlink(tmp / "link.sock"));
    CHECK(sotto::test::read_text(tmp / "notes.txt") == "precious\n");
    CHECK_FALSE(std::filesystem::exists(tmp / "store.db"));
}

TEST_CASE("sottod removes only its own socket: a file put in its place meanwhile stays",
          "[sottod][ops]") {
    TempDir tmp;
    Sottod d(tmp.path(), {"--radio", "simulated", "--sim-peers", "0"});
    std::filesystem::remove(tmp / "status.sock");
    sotto::test::write_text(tmp / "status.sock", "someone else's file\n");
    CHECK(d.stop() == 0);
    CHECK(sotto::test::read_text(tmp / "status.sock") == "someone else's file\n");
}

TEST_CASE("Under a two-thread connection flood from one client, another client is answered",
          "[sottod][ops]") {
    TempDir tmp;
    Sottod d(tmp.path(), {"--radio", "simulated", "--sim-peers", "1"});
    const pid_t flooder = start_flooder(tmp / "status.sock");
    std::this_thread::sleep_for(200ms);  // the flood is on
    int answered = 0;
    constexpr int kQueries = 100;
    for (int i = 0; i < kQueries; ++i) {
        auto r = sotto::sottod::query_status(tmp / "status.sock", 2000ms);
        if (r && r->find("\"heard\"") != std::string::npos) ++answered;
    }
    kill(flooder, SIGKILL);
    waitpid(flooder, nullptr, 0);
    INFO(answered << " of " << kQueries << " answered\n" << d.log());
    CHECK(answered >= kQueries * 95 / 100);
    CHECK(d.stop() == 0);
}

TEST_CASE("An unusable fetch directory turns key updates off, and tracing goes on and says why",
          "[sottod][ops]") {
    TempDir tmp;
    std::filesystem::create_directory(tmp / "keys");
    auto signer = sotto::keyfile::ExportSigner::generate();
    REQUIRE(signer);
    sotto::test::write_text(tmp / "authority.pem", *signer->public_key_pem());
    // Read-only for an unprivileged user; root writes anywhere, so there the fetch directory
    // lies under a regular file (it cannot be created either).
    std::filesystem::path fetch_dir = tmp / "fetch";
    if (::geteuid() != 0) {
        std::filesystem::create_directory(fetch_dir);
        REQUIRE(::chmod(fetch_dir.c_str(), 0555) == 0);
        fetch_dir /= "state";
    } else {
        sotto::test::write_text(tmp / "fetch", "a file\n");
        fetch_dir /= "state";
    }
    Sottod d(tmp.path(), {"--radio", "simulated", "--sim-peers", "2", "--scan-continuous",
                          "--keys-dir", (tmp / "keys").string(), "--pubkey",
                          (tmp / "authority.pem").string(), "--fetch-dir", fetch_dir.string()});
    const json s =
        d.wait_for([](const json& j) { return j.at("heard").at("accepted").get<int>() > 0; }, 20s);
    INFO(s.dump() << "\n" << d.log());
    CHECK(s.at("heard").at("accepted").get<int>() > 0);  // tracing goes on
    CHECK(s.at("keys").at("configured") == true);
    CHECK(s.at("keys").at("enabled") == false);
    CHECK(s.at("keys").at("off_reason").get<std::string>().find("fetch directory") !=
          std::string::npos);
    const auto human = run_process(
        {sotto::test::cli_path(), "status", "--socket", (tmp / "status.sock").string()});
    CHECK(human.exit_code == 0);
    CHECK(human.out.find("key files: OFF: the fetch directory cannot be used") !=
          std::string::npos);
    CHECK(d.stop() == 0);
    CHECK(d.log().find("<4>keys: updates off, tracing goes on") != std::string::npos);
    if (::geteuid() != 0) ::chmod((tmp / "fetch").c_str(), 0755);
}

TEST_CASE("Outside systemd sottod serves its status under $XDG_RUNTIME_DIR or says it has none",
          "[sottod][ops]") {
    TempDir tmp;
    std::filesystem::create_directory(tmp / "run");
    REQUIRE(::chmod((tmp / "run").c_str(), 0700) == 0);
    const auto sock = tmp / "run" / "sotto" / "status.sock";
    {
        Sottod d(tmp.path(), {"--radio", "simulated", "--sim-peers", "1"},
                 {"RUNTIME_DIRECTORY=", "XDG_RUNTIME_DIR=" + (tmp / "run").string()}, sock);
        CHECK(d.status().at("radio") == "simulated");
        struct stat st {};
        REQUIRE(::stat((tmp / "run" / "sotto").c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0700);
        // `sotto status` finds it there by itself when /run/sotto has none.
        if (!std::filesystem::exists("/run/sotto/status.sock")) {
            const std::string cmd = "XDG_RUNTIME_DIR=" + (tmp / "run").string() + " " +
                                    sotto::test::cli_path() + " status --json > " +
                                    (tmp / "status.json").string();
            CHECK(std::system(cmd.c_str()) == 0);
            CHECK(json::parse(sotto::test::read_text(tmp / "status.json")).at("radio") ==
                  "simulated");
        }
        CHECK(d.stop() == 0);
    }
    // Neither variable: no socket, one line that says so, and the daemon runs (on a new store:
    // base_args writes a new key).
    const auto argv = base_args(tmp);
    const std::string cmd =
        "env -u RUNTIME_DIRECTORY -u XDG_RUNTIME_DIR timeout --preserve-status -s TERM 1 " +
        argv[0] + " --radio simulated --sim-peers 0 --store " + (tmp / "none.db").string() +
        " --key-file " + (tmp / "store.key").string() + " 2> " + (tmp / "none.log").string();
    CHECK(std::system(cmd.c_str()) == 0);
    const std::string log = sotto::test::read_text(tmp / "none.log");
    INFO(log);
    CHECK(log.find("<5>status: no status socket") != std::string::npos);
    CHECK(log.find("<6>stopping: SIGTERM") != std::string::npos);
}
