#include "fetch/fetch_test_support.hpp"

#include <fstream>
#include <sstream>

#include <sotto/core/rng.hpp>

#include "integration/keyfile/keyfile_test_support.hpp"

namespace sotto::test::fetch {

KeyServer::KeyServer(std::filesystem::path root) : root_(std::move(root)) { start({}); }

KeyServer::KeyServer(std::filesystem::path root, const std::filesystem::path& cert,
                     const std::filesystem::path& key)
    : root_(std::move(root)), tls_(true) {
    start({cert.string(), key.string()});
}

void KeyServer::start(const std::vector<std::string>& extra_args) {
    log_ = root_.parent_path() / (root_.filename().string() + ".requests.log");
    std::vector<std::string> argv = {SOTTO_KEY_SERVER_PATH, root_.string(), log_.string()};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    try {
        server_ = std::make_unique<ChildServer>(std::move(argv));
    } catch (const std::exception& e) {
        FAIL(e.what());
    }
}

KeyServer::~KeyServer() = default;

std::string KeyServer::url(const std::string& suffix) const {
    return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port()) + suffix;
}

std::vector<LoggedRequest> KeyServer::requests() const {
    std::vector<LoggedRequest> out;
    std::ifstream in(log_);
    LoggedRequest r;
    while (in >> r.path >> r.status >> r.if_none_match >> r.user_agent >> r.header_names)
        out.push_back(r);
    return out;
}

std::size_t KeyServer::count(const std::string& path, int status) const {
    std::size_t n = 0;
    for (const auto& r : requests()) {
        if (r.path == path && (status < 0 || r.status == status)) ++n;
    }
    return n;
}

namespace {
keyfile::ExportSigner new_signer() {
    auto s = keyfile::ExportSigner::generate();
    REQUIRE(s);
    return std::move(*s);
}
}  // namespace

Publisher::Publisher() : signer(new_signer()) {
    auto pem = signer.public_key_pem();
    REQUIRE(pem);
    REQUIRE(trust.add_pem("test", "v1", *pem));
}

std::vector<std::uint8_t> Publisher::publish(const std::filesystem::path& dir,
                                             const std::string& rel, std::uint8_t fill,
                                             int n) const {
    std::vector<core::DiagnosisKey> keys;
    for (int i = 0; i < n; ++i) {
        std::string h;
        const char* digits = "0123456789abcdef";
        for (int b = 0; b < 16; ++b) {
            const auto v = static_cast<std::uint8_t>(b == 0 ? fill : b == 1 ? i : 0x5a);
            h.push_back(digits[v >> 4]);
            h.push_back(digits[v & 15]);
        }
        keys.push_back(test::keyfile::make_key(h, 2690000 + static_cast<std::uint32_t>(i) * 144,
                                               144, 1, core::ReportType::kConfirmedTest));
    }
    keyfile::ExportWriteOptions o;
    o.key_id = "test";
    o.key_version = "v1";
    o.region = "XX";
    o.start_timestamp = 1614816000;
    o.end_timestamp = 1614902400;
    core::DeterministicRng rng(fill);
    auto files = keyfile::build_export(keys, signer, o, rng);
    REQUIRE(files);
    auto zip = keyfile::zip_export(*files);
    REQUIRE(zip);
    std::filesystem::create_directories((dir / rel).parent_path());
    write_file(dir / rel, *zip);
    return *zip;
}

void write_index(const std::filesystem::path& dir, const std::vector<std::string>& paths) {
    std::string text;
    for (const auto& p : paths) text += p + "\n";
    write_text(dir / "index.txt", text);
}

sotto::fetch::Downloader make_downloader(const std::string& source,
                                         const std::filesystem::path& work,
                                         const sotto::fetch::DownloadOptions& options) {
    auto d = sotto::fetch::Downloader::create(
        sotto::fetch::Source{source},
        std::make_unique<sotto::fetch::FileFetchState>(work / "fetch.state"), work / "spool",
        options);
    REQUIRE(d);
    return std::move(*d);
}

const sotto::fetch::FetchedFile& entry(const sotto::fetch::FetchReport& r,
                                       const std::string& path) {
    for (const auto& f : r.files) {
        if (f.path == path) return f;
    }
    FAIL("no report entry for " << path);
    throw std::logic_error("unreachable");
}

Bucket::Bucket() {
    std::filesystem::create_directories(root);
    std::filesystem::create_directories(work);
}

void Bucket::mode(const std::string& rel, const std::string& m) const {
    write_text(root / (rel + ".mode"), m + "\n");
}

std::vector<std::vector<std::uint8_t>> Bucket::publish_listed(
    const std::vector<std::pair<std::string, std::uint8_t>>& files) const {
    std::vector<std::vector<std::uint8_t>> zips;
    std::vector<std::string> paths;
    for (const auto& [rel, fill] : files) {
        zips.push_back(pub.publish(root, rel, fill));
        paths.push_back(rel);
    }
    write_index(root, paths);
    return zips;
}

sotto::fetch::Downloader Bucket::downloader(const KeyServer& server,
                                            const sotto::fetch::DownloadOptions& options) const {
    return make_downloader(server.url(), work, options);
}

sotto::fetch::Downloader Bucket::downloader(const KeyServer& server) const {
    return downloader(server, quick_options());
}

sotto::fetch::FetchReport fetch_ok(sotto::fetch::Downloader& d) {
    auto r = d.fetch_round();
    REQUIRE(r);
    return std::move(*r);
}

void make_tls_certificate(const std::filesystem::path& dir) {
    auto r =
        run_process({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                     "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout",
                     (dir / "key.pem").string(), "-out", (dir / "cert.pem").string()});
    REQUIRE(r.exit_code == 0);
}

sotto::fetch::DownloadOptions quick_options() {
    sotto::fetch::DownloadOptions o;
    o.connect_timeout_ms = 2'000;
    o.total_timeout_ms = 2'000;
    o.low_speed_time_s = 2;
    return o;
}

}  // namespace sotto::test::fetch
