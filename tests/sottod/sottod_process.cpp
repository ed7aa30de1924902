#include "sottod/sottod_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <regex>
#include <sstream>
#include <thread>

#include <sotto/core/rng.hpp>
#include <sotto/host/files.hpp>

#include "status_socket.hpp"

namespace sotto::test::sottod {

std::string sottod_path() { return SOTTO_SOTTOD_PATH; }

void write_store_key(const std::filesystem::path& path) {
    auto rng = core::SystemRng::create();
    REQUIRE(rng);
    std::array<std::uint8_t, 32> key{};
    rng->fill(key);
    std::string hex;
    const char* digits = "0123456789abcdef";
    for (auto b : key) {
        hex.push_back(digits[b >> 4]);
        hex.push_back(digits[b & 15]);
    }
    write_text(path, hex + "\n");
    REQUIRE(chmod(path.c_str(), 0600) == 0);
}

Sottod::Sottod(const std::filesystem::path& dir, const std::vector<std::string>& args,
               const std::vector<std::string>& env, const std::filesystem::path& default_socket)
    : dir_(dir),
      socket_(default_socket.empty() ? dir / "status.sock" : default_socket),
      log_(dir / "sottod.log") {
    if (!std::filesystem::exists(dir / "store.key")) write_store_key(dir / "store.key");
    std::vector<std::string> argv = {sottod_path(), "--store", (dir / "store.db").string(),
                                     "--key-file", (dir / "store.key").string()};
    if (default_socket.empty()) {
        argv.push_back("--status-socket");
        argv.push_back(socket_.string());
    }
    argv.insert(argv.end(), args.begin(), args.end());
    std::filesystem::remove(socket_);
    const pid_t parent = getpid();
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) std::_Exit(127);
        const int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) dup2(fd, 2);
        const int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
        std::vector<char*> cargs;
        for (auto& a : argv) cargs.push_back(a.data());
        cargs.push_back(nullptr);
        execv(cargs[0], cargs.data());
        std::_Exit(127);
    }
    for (int i = 0; i < 200; ++i) {
        if (std::filesystem::exists(socket_)) return;
        int st = 0;
        if (waitpid(pid_, &st, WNOHANG) == pid_) {
            pid_ = -1;
            FAIL("sottod exited at start: " << log());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL("sottod did not open its status socket within 10 s: " << log());
}

Sottod::~Sottod() {
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
}

nlohmann::json Sottod::status() const {
    auto line = sotto::sottod::query_status(socket_, std::chrono::milliseconds{5000});
    INFO(log());
    REQUIRE(line);
    return nlohmann::json::parse(*line);
}

nlohmann::json Sottod::wait_for(const std::function<bool(const nlohmann::json&)>& pred,
                                std::chrono::milliseconds timeout) const {
    const auto end = std::chrono::steady_clock::now() + timeout;
    nlohmann::json last;
    while (std::chrono::steady_clock::now() < end) {
        last = status();
        if (pred(last)) return last;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return last;
}

int Sottod::stop(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    const auto end = std::chrono::steady_clock::now() + timeout;
    int st = 0;
    for (;;) {
        const pid_t r = waitpid(pid_, &st, WNOHANG);
        if (r == pid_) break;
        if (std::chrono::steady_clock::now() > end) {
            kill(pid_, SIGKILL);
            waitpid(pid_, &st, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

std::string Sottod::log() const {
    return std::filesystem::exists(log_) ? read_text(log_) : std::string();
}

store::StoreStats store_stats(const std::filesystem::path& dir) {
    auto key = host::read_key_file(dir / "store.key");
    REQUIRE(key);
    store::OpenOptions o;
    o.create_if_missing = false;
    o.read_only = true;
    auto s = store::EncounterStore::open(dir / "store.db",
                                         store::Credential::raw_key(std::move(*key)), o);
    REQUIRE(s);
    auto st = s->stats();
    REQUIRE(st);
    return *st;
}

bool log_is_journald_and_private(const std::string& log) {
    static const std::regex line_form("^<[0-7]>[^\\n]*$");
    static const std::regex secret("[0-9a-fA-F]{32}|([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}");
    std::istringstream in(log);
    std::string line;
    while (std::getline(in, line)) {
        if (!std::regex_match(line, line_form)) return false;
        if (std::regex_search(line, secret)) return false;
    }
    return true;
}

}  // namespace sotto::test::sottod
