#include "support.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <sotto/bytes.hpp>

namespace sotto::test {

std::filesystem::path gaen_data(std::string_view relative) {
    const std::filesystem::path p = std::filesystem::path(SOTTO_GAEN_DATA_DIR) / relative;
    if (std::filesystem::exists(p)) return p;
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string_view(ci) == "true")
        FAIL("GAEN test data missing at " << p.string() << " (CI=true: data is required)");
    std::fprintf(stderr,
                 "SKIPPED: GAEN test data not found at %s; put ../shared/gaen-data beside the "
                 "repo or set -DSOTTO_GAEN_DATA_DIR\n",
                 p.c_str());
    std::fflush(stderr);
    std::_Exit(kSkipExitCode);
}

std::vector<std::uint8_t> hex(std::string_view h) {
    auto r = from_hex(h);
    REQUIRE(r.has_value());
    return *r;
}

std::vector<std::uint8_t> read_file(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    REQUIRE(f.good());
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::string read_text(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    REQUIRE(f.good());
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

void write_file(const std::filesystem::path& p, std::span<const std::uint8_t> bytes) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
    REQUIRE(f.good());
}

void write_text(const std::filesystem::path& p, std::string_view text) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f << text;
    REQUIRE(f.good());
}

std::vector<std::vector<std::string>> parse_csv(std::string_view text) {
    std::vector<std::vector<std::string>> rows;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty() || line.front() == '#') continue;
        std::vector<std::string> fields;
        std::size_t f = 0;
        while (true) {
            const std::size_t c = line.find(',', f);
            fields.emplace_back(line.substr(f, c == std::string_view::npos ? line.npos : c - f));
            if (c == std::string_view::npos) break;
            f = c + 1;
        }
        rows.push_back(std::move(fields));
    }
    return rows;
}

ProcessResult run_process(const std::vector<std::string>& argv, std::string_view stdin_text) {
    int in_pipe[2], out_pipe[2], err_pipe[2];
    REQUIRE(pipe2(in_pipe, O_CLOEXEC) == 0);
    REQUIRE(pipe2(out_pipe, O_CLOEXEC) == 0);
    REQUIRE(pipe2(err_pipe, O_CLOEXEC) == 0);
    // Both argument vectors are built before fork: the child only calls async-signal-safe
    // functions.
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
#ifdef SOTTO_TEST_EMULATOR
    // Cross builds: a program the kernel cannot execute (ENOEXEC: built for the target) is run
    // under the build's emulator ("|"-separated command, from CMAKE_CROSSCOMPILING_EMULATOR).
    std::vector<std::string> emulator_parts;
    for (std::string_view rest = SOTTO_TEST_EMULATOR; !rest.empty();) {
        const std::size_t bar = rest.find('|');
        emulator_parts.emplace_back(rest.substr(0, bar));
        rest = bar == std::string_view::npos ? std::string_view{} : rest.substr(bar + 1);
    }
    std::vector<char*> emulated;
    for (auto& p : emulator_parts) emulated.push_back(p.data());
    emulated.insert(emulated.end(), args.begin(), args.end());
#endif
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        dup2(in_pipe[0], 0);
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        execv(args[0], args.data());
#ifdef SOTTO_TEST_EMULATOR
        if (errno == ENOEXEC) execv(emulated[0], emulated.data());
#endif
        std::_Exit(127);
    }
    close(in_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[1]);
    std::size_t written = 0;
    if (stdin_text.empty()) {
        close(in_pipe[1]);
        in_pipe[1] = -1;
    }
    ProcessResult r;
    pollfd fds[3] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}, {in_pipe[1], POLLOUT, 0}};
    int open_outputs = 2;
    char buf[65536];
    while (open_outputs > 0) {
        const nfds_t n = in_pipe[1] >= 0 ? 3 : 2;
        if (poll(fds, n, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
            const ssize_t got = read(fds[i].fd, buf, sizeof buf);
            if (got > 0) {
                (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(got));
            } else {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open_outputs;
            }
        }
        if (in_pipe[1] >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
            const ssize_t put =
                write(in_pipe[1], stdin_text.data() + written, stdin_text.size() - written);
            if (put > 0) written += static_cast<std::size_t>(put);
            if (put <= 0 || written == stdin_text.size()) {
                close(in_pipe[1]);
                in_pipe[1] = -1;
            }
        }
    }
    if (in_pipe[1] >= 0) close(in_pipe[1]);
    int status = 0;
    waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

std::string cli_path() {
#ifdef SOTTO_CLI_PATH
    return SOTTO_CLI_PATH;
#else
    FAIL("the sotto tool was not built (SOTTO_BUILD_APPS=OFF)");
    return {};
#endif
}

TempDir::TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sotto-test-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

PipedChild::PipedChild(const std::vector<std::string>& argv) {
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        FAIL("fork failed");
    }
    if (pid == 0) {
        dup2(fds[1], 1);
        execv(args[0], args.data());
        _exit(127);
    }
    close(fds[1]);
    pid_ = pid;
    out_ = fds[0];
}

PipedChild::~PipedChild() {
    if (pid_ > 0) reap(true);
    if (out_ >= 0) close(out_);
}

std::string PipedChild::read_line() {
    std::string line;
    char c = 0;
    while (read(out_, &c, 1) == 1) {
        if (c == '\n') return line;
        line += c;
    }
    return line;
}

std::string PipedChild::read_all() {
    std::string s;
    char buf[4096];
    ssize_t n = 0;
    while ((n = read(out_, buf, sizeof buf)) > 0) s.append(buf, static_cast<std::size_t>(n));
    return s;
}

int PipedChild::reap(bool kill_it) {
    if (pid_ <= 0) return -1;
    if (kill_it) kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
}

}  // namespace sotto::test
