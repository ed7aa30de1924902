// Opening stores in awkward places and moments: damaged stores checked read-only, two processes
// creating the same store, an empty file adopted as a store, a store on read-only media.
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include <sotto/store/encounter_store.hpp>

#include "store_test_util.hpp"
#include "support.hpp"

using namespace sotto;
using namespace sotto::test;
using store::EncounterStore;
namespace fs = std::filesystem;

namespace {

void populate(const fs::path& p) {
    auto s = EncounterStore::open(p, raw_credential(1));
    REQUIRE(s.has_value());
    std::vector<core::Observation> obs;
    for (std::uint32_t i = 0; i < 400; ++i)
        obs.push_back(observation(kNow - 3600 + i, -60, rpi_of(5, i)));
    REQUIRE(s->ingest(obs, kNow).has_value());
}

[[noreturn]] void skip(const char* why) {
    std::fprintf(stderr, "SKIPPED: %s\n", why);
    std::_Exit(kSkipExitCode);
}

store::OpenOptions read_only() {
    store::OpenOptions o;
    o.read_only = true;
    o.create_if_missing = false;
    return o;
}

}  // namespace

TEST_CASE("Verifying a damaged store read-only leaves no new side files behind",
          "[store][open][hostile]") {
    TempDir dir;
    const auto p = dir / "s.db";
    populate(p);
    REQUIRE_FALSE(fs::exists(dir / "s.db-wal"));
    REQUIRE_FALSE(fs::exists(dir / "s.db-shm"));
    // Damage a page in the middle (the first page, which open reads, stays intact).
    const auto size = fs::file_size(p);
    REQUIRE(size > 8 * 4096);
    {
        std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(size / 2));
        const char junk[64] = {1, 2, 3, 4, 5, 6, 7, 8};
        f.write(junk, sizeof junk);
    }
    {
        auto s = EncounterStore::open(p, raw_credential(1), read_only());
        REQUIRE(s.has_value());
        auto v = s->verify();
        REQUIRE_FALSE(v.has_value());
        CHECK(v.error().code == ErrorCode::kStorageCorrupt);
    }
    CHECK_FALSE(fs::exists(dir / "s.db-wal"));
    CHECK_FALSE(fs::exists(dir / "s.db-shm"));
    // A failed read-only open (wrong key) leaves nothing either.
    CHECK_FALSE(EncounterStore::open(p, raw_credential(2), read_only()).has_value());
    CHECK_FALSE(fs::exists(dir / "s.db-wal"));
    CHECK_FALSE(fs::exists(dir / "s.db-shm"));

    // Negative neighbour: a sound store verifies, and its side files are SQLite's business.
    TempDir good;
    populate(good / "s.db");
    auto s = EncounterStore::open(good / "s.db", raw_credential(1), read_only());
    REQUIRE(s.has_value());
    CHECK(s->verify().has_value());
}

TEST_CASE("Processes creating the same new store at once all end up with one working store",
          "[store][open][hostile]") {
    TempDir dir;
    const auto p = dir / "s.db";
    constexpr int kProcs = 6;
    std::vector<pid_t> kids;
    for (int i = 0; i < kProcs; ++i) {
        const pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            auto s = EncounterStore::open(p, passphrase_credential("same passphrase"));
            if (!s) {
                std::fprintf(stderr, "child: %d %s\n", static_cast<int>(s.error().code),
                             s.error().what);
                _exit(10);
            }
            std::vector<core::Observation> obs{
                observation(kNow - 60, -60, rpi_of(9, static_cast<std::uint32_t>(i)))};
            _exit(s->ingest(obs, kNow).has_value() ? 0 : 2);
        }
        kids.push_back(pid);
    }
    for (pid_t pid : kids) {
        int status = 0;
        REQUIRE(waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    }
    auto s = EncounterStore::open(p, passphrase_credential("same passphrase"), no_create());
    REQUIRE(s.has_value());
    CHECK(s->stats()->sightings == kProcs);
    CHECK(s->verify().has_value());
    // Negative neighbour: another passphrase does not open it.
    CHECK(EncounterStore::open(p, passphrase_credential("other"), no_create()).error().code ==
          ErrorCode::kStorageWrongKey);
}

TEST_CASE("An existing empty file adopted as a store becomes private to its owner",
          "[store][open][hostile]") {
    TempDir dir;
    const auto p = dir / "s.db";
    { std::ofstream touch(p); }
    fs::permissions(p, fs::perms(0644));
    {
        auto s = EncounterStore::open(p, raw_credential(1));
        REQUIRE(s.has_value());
    }
    CHECK((fs::status(p).permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write));
    CHECK((fs::status(p).permissions() & (fs::perms::group_all | fs::perms::others_all)) ==
          fs::perms::none);
    // Negative neighbour: a store it creates itself is 0600 as well.
    {
        auto s = EncounterStore::open(dir / "t.db", raw_credential(1));
        REQUIRE(s.has_value());
    }
    CHECK((fs::status(dir / "t.db").permissions() &
           (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
}

TEST_CASE("A store on read-only media can be opened read-only, verified and read",
          "[store][open][hostile]") {
    TempDir dir;
    const auto media = dir / "media";
    fs::create_directories(media);
    populate(media / "s.db");
    REQUIRE_FALSE(fs::exists(media / "s.db-wal"));
    // A read-only bind mount: the media. Needs the right to mount (root in CI containers).
    if (::mount(media.c_str(), media.c_str(), nullptr, MS_BIND, nullptr) != 0)
        skip("cannot bind-mount here (needs CAP_SYS_ADMIN)");
    struct Unmount {
        fs::path p;
        ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
    } unmount{media};
    if (::mount(nullptr, media.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0)
        skip("cannot remount read-only here");
    auto s = EncounterStore::open(media / "s.db", raw_credential(1), read_only());
    REQUIRE(s.has_value());
    CHECK(s->verify().has_value());
    CHECK(s->stats()->sightings == 400);
    CHECK(s->sightings_in_range(0, 1ull << 32)->size() == 400);
    // Negative neighbour: a writable open is refused as read-only.
    auto w = EncounterStore::open(media / "s.db", raw_credential(1), no_create());
    REQUIRE_FALSE(w.has_value());
    CHECK(w.error().code == ErrorCode::kStorageReadOnly);
}
