// Opening a store: encryption at rest, key handling, and every bad condition with its own error,
// leaving the files as they were.
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <functional>

#include <fmt/core.h>

#include <sotto/store/encounter_store.hpp>

#include "store/database.hpp"
#include "store/kdf_file.hpp"
#include "store/store_access.hpp"
#include "store_test_util.hpp"

using namespace sotto;
using namespace sotto::test;
using store::EncounterStore;

namespace {

// Creates a store holding a few sightings and one own key, then closes it.
void make_populated_store(const std::filesystem::path& p, store::Credential c) {
    auto s = EncounterStore::open(p, std::move(c));
    REQUIRE(s.has_value());
    std::vector<core::Observation> obs;
    for (std::uint32_t i = 0; i < 300; ++i)
        obs.push_back(observation(kNow - 3600 + i, -60, rpi_of(7, i)));
    auto r = s->ingest(obs, kNow);
    REQUIRE(r.has_value());
    REQUIRE(r->accepted == 300);
    core::ExposureKey k;
    k.tek.expose_secret_mut()[0] = 0x42;
    k.rolling_start = kToday * 144;
    REQUIRE(s->add_own_key(k, kNow).has_value());
}

std::uint64_t count_sightings(EncounterStore& s) {
    auto st = s.stats();
    REQUIRE(st.has_value());
    return st->sightings;
}

// Runs `fn` in a forked child and returns its exit code (the child must not use Catch2 macros).
int in_child(const std::function<int()>& fn) {
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) _exit(fn());
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void flip_byte(const std::filesystem::path& p, std::uint64_t offset) {
    std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
    REQUIRE(f.good());
    f.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x10);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(&c, 1);
    REQUIRE(f.good());
}

}  // namespace

TEST_CASE("A new store is encrypted at rest: no SQLite header, files 0600, SQLCipher linked",
          "[store][open]") {
    TempDir dir;
    const auto p = dir / "enc.db";
    {
        auto s = open_store(p);
        auto& db = store::detail::StoreAccess::database(s);
        auto st = store::detail::Statement::prepare(db, "PRAGMA cipher_version");
        REQUIRE(st.has_value());
        auto row = st->step();
        REQUIRE(row.has_value());
        REQUIRE(*row);
        CHECK(st->column_text(0) == "3.4.1");
        CHECK(db.query_int("PRAGMA secure_delete").value_or(0) == 1);
        CHECK(db.query_int("PRAGMA auto_vacuum").value_or(0) == 2);  // incremental
        CHECK(db.query_int("PRAGMA user_version").value_or(0) == store::kSchemaVersion);
        CHECK(db.query_int("PRAGMA temp_store").value_or(0) == 2);   // memory
        CHECK(db.query_int("PRAGMA synchronous").value_or(0) == 2);  // FULL
        CHECK(db.query_int("PRAGMA application_id").value_or(0) == 0x534F5454);
        auto mode = store::detail::Statement::prepare(db, "PRAGMA journal_mode");
        REQUIRE(mode.has_value());
        REQUIRE(*mode->step());
        CHECK(mode->column_text(0) == "wal");
    }
    {
        store::OpenOptions normal;
        normal.durability = store::Durability::kNormal;
        auto s = open_store(p, 1, normal);
        CHECK(store::detail::StoreAccess::database(s).query_int("PRAGMA synchronous").value_or(0) ==
              1);
    }
    const auto bytes = read_file(p);
    REQUIRE(bytes.size() >= 4096);
    CHECK(std::memcmp(bytes.data(), "SQLite format 3", 16) != 0);
    for (const auto& f : EncounterStore::files(p)) {
        struct stat st {};
        if (stat(f.c_str(), &st) != 0) continue;
        CAPTURE(f.string());
        CHECK((st.st_mode & 0777) == 0600);
    }
    CHECK(std::filesystem::exists(dir / "enc.db.kdf"));
}

TEST_CASE("A store reopens with its key and keeps its data", "[store][open]") {
    TempDir dir;
    const auto p = dir / "s.db";
    make_populated_store(p, raw_credential(1));
    auto s = EncounterStore::open(p, raw_credential(1), no_create());
    REQUIRE(s.has_value());
    CHECK(count_sightings(*s) == 300);
    CHECK(s->own_keys()->size() == 1);
    CHECK(s->verify().has_value());
}

TEST_CASE("A wrong raw key gives kStorageWrongKey, changes nothing, and the right key still reads",
          "[store][open][wrongkey]") {
    TempDir dir;
    const auto p = dir / "s.db";
    make_populated_store(p, raw_credential(1));
    const auto before = snapshot(dir.path());
    for (int seed : {2, 3, 200}) {
        auto s = EncounterStore::open(p, raw_credential(static_cast<std::uint8_t>(seed)));
        REQUIRE_FALSE(s.has_value());
        CHECK(s.error().code == ErrorCode::kStorageWrongKey);
    }
    CHECK(snapshot(dir.path()) == before);
    auto s = EncounterStore::open(p, raw_credential(1), no_create());
    REQUIRE(s.has_value());
    CHECK(count_sightings(*s) == 300);
}

TEST_CASE("A passphrase store opens with its passphrase only", "[store][open][passphrase]") {
    TempDir dir;
    const auto p = dir / "pw.db";
    make_populated_store(p, passphrase_credential("correct horse battery staple"));
    const auto before = snapshot(dir.path());

    SECTION("right passphrase") {
        auto s = EncounterStore::open(p, passphrase_credential("correct horse battery staple"));
        REQUIRE(s.has_value());
        CHECK(count_sightings(*s) == 300);
    }
    SECTION("wrong passphrase: kStorageWrongKey, nothing changed") {
        for (const char* wrong :
             {"correct horse battery stapl", "Correct horse battery staple", "x"}) {
            auto s = EncounterStore::open(p, passphrase_credential(wrong));
            REQUIRE_FALSE(s.has_value());
            CHECK(s.error().code == ErrorCode::kStorageWrongKey);
        }
        CHECK(snapshot(dir.path()) == before);
    }
    SECTION("a raw key on a passphrase store: kStorageWrongKey") {
        auto s = EncounterStore::open(p, raw_credential(1));
        REQUIRE_FALSE(s.has_value());
        CHECK(s.error().code == ErrorCode::kStorageWrongKey);
        CHECK(std::string(s.error().what).find("passphrase") != std::string::npos);
        CHECK(snapshot(dir.path()) == before);
    }
    SECTION("opening uses the recorded Argon2id cost, not the credential's") {
        auto pw = store::Passphrase::from(
            {reinterpret_cast<const std::uint8_t*>("correct horse battery staple"), 28});
        REQUIRE(pw.has_value());
        // Creation cost recorded in PATH.kdf was the minimum; these parameters are ignored.
        auto s = EncounterStore::open(
            p, store::Credential::passphrase(std::move(*pw), store::KdfParams::moderate()));
        REQUIRE(s.has_value());
    }
}

TEST_CASE("A passphrase lives in guarded memory and has limits", "[store][credential]") {
    CHECK(store::Passphrase::from({}).error().code == ErrorCode::kInvalidArgument);
    std::vector<std::uint8_t> big(store::Passphrase::kMaxBytes + 1, 'a');
    CHECK(store::Passphrase::from(big).error().code == ErrorCode::kInvalidArgument);
    big.pop_back();
    auto ok = store::Passphrase::from(big);
    REQUIRE(ok.has_value());
    CHECK(ok->expose_secret().size() == store::Passphrase::kMaxBytes);
    auto moved = std::move(*ok);
    CHECK(ok->expose_secret().empty());
    auto copy = moved.clone();
    REQUIRE(copy.has_value());
    CHECK(std::equal(copy->expose_secret().begin(), copy->expose_secret().end(),
                     moved.expose_secret().begin(), moved.expose_secret().end()));
    static_assert(!fmt::is_formattable<store::StoreKey>::value);
    static_assert(!fmt::is_formattable<store::Passphrase>::value);
    static_assert(!std::is_copy_constructible_v<store::Passphrase>);
    static_assert(!std::is_copy_constructible_v<store::Credential>);
    // Out-of-range Argon2id costs are refused when creating.
    TempDir dir;
    auto pw = store::Passphrase::from(big);
    REQUIRE(pw.has_value());
    auto s = EncounterStore::open(dir / "x.db",
                                  store::Credential::passphrase(std::move(*pw), {1, 1024}));
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().code == ErrorCode::kInvalidArgument);
    CHECK_FALSE(std::filesystem::exists(dir / "x.db"));
}

TEST_CASE("A missing store is an error unless creation is allowed", "[store][open]") {
    TempDir dir;
    auto s = EncounterStore::open(dir / "none.db", raw_credential(1), no_create());
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().code == ErrorCode::kStorageIo);
    CHECK(std::filesystem::is_empty(dir.path()));
    auto in_missing_dir = EncounterStore::open(dir / "no" / "such" / "dir.db", raw_credential(1));
    REQUIRE_FALSE(in_missing_dir.has_value());
    CHECK(in_missing_dir.error().code == ErrorCode::kStorageIo);
    CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("Files that are not sotto stores give kStorageNotAStore and stay untouched",
          "[store][open][notastore]") {
    TempDir dir;
    const auto p = dir / "other.db";

    SECTION("a plain SQLite database") {
        // Any unencrypted SQLite 3 file starts with this header; write one by hand.
        std::vector<std::uint8_t> page(4096, 0);
        std::memcpy(page.data(), "SQLite format 3", 16);
        write_file(p, page);
    }
    SECTION("random bytes") {
        std::vector<std::uint8_t> junk(3 * 4096);
        for (std::size_t i = 0; i < junk.size(); ++i)
            junk[i] = static_cast<std::uint8_t>(i * 131 + 7);
        write_file(p, junk);
    }
    SECTION("a short text file") { write_text(p, "hello, this is not a database\n"); }
    SECTION("a directory") { std::filesystem::create_directory(p); }

    const auto before = snapshot(dir.path());
    for (int i = 0; i < 2; ++i) {
        auto s = i == 0 ? EncounterStore::open(p, raw_credential(1))
                        : EncounterStore::open(p, passphrase_credential("pw"));
        REQUIRE_FALSE(s.has_value());
        CHECK(s.error().code == ErrorCode::kStorageNotAStore);
    }
    CHECK(snapshot(dir.path()) == before);
}

TEST_CASE("An SQLCipher database of another application is not a sotto store", "[store][open]") {
    TempDir dir;
    const auto p = dir / "s.db";
    {
        auto s = open_store(p);
        REQUIRE(store::detail::StoreAccess::database(s).exec("PRAGMA application_id = 42"));
    }
    auto s = EncounterStore::open(p, raw_credential(1));
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().code == ErrorCode::kStorageNotAStore);
}

TEST_CASE("A damaged key-derivation file is told apart from a foreign or newer one",
          "[store][open][kdf]") {
    TempDir dir;
    const auto p = dir / "s.db";
    make_populated_store(p, raw_credential(1));
    const auto side = dir / "s.db.kdf";
    auto bytes = read_file(side);
    REQUIRE(bytes.size() == 16 + 48 + 16);

    SECTION("bit flip in an entry: kStorageCorrupt") {
        bytes[40] ^= 1;
        write_file(side, bytes);
        CHECK(EncounterStore::open(p, raw_credential(1)).error().code ==
              ErrorCode::kStorageCorrupt);
    }
    SECTION("truncated: kStorageCorrupt") {
        bytes.resize(50);
        write_file(side, bytes);
        CHECK(EncounterStore::open(p, raw_credential(1)).error().code ==
              ErrorCode::kStorageCorrupt);
    }
    SECTION("another magic: kStorageNotAStore") {
        bytes[0] = 'X';
        write_file(side, bytes);
        CHECK(EncounterStore::open(p, raw_credential(1)).error().code ==
              ErrorCode::kStorageNotAStore);
    }
    SECTION("a newer format version: kStorageNewerSchema") {
        bytes[8] = 2;
        write_file(side, bytes);
        CHECK(EncounterStore::open(p, raw_credential(1)).error().code ==
              ErrorCode::kStorageNewerSchema);
    }
    SECTION("intact: opens") { CHECK(EncounterStore::open(p, raw_credential(1)).has_value()); }
    SECTION(
        "a well-formed file asking for an absurd Argon2id cost: kStorageCorrupt, no allocation") {
        auto kf = store::detail::read_kdf_file(side);
        REQUIRE(kf.has_value());
        store::detail::KdfFile crafted = **kf;
        crafted.entries[0].kind = store::detail::KdfKind::kArgon2id13;
        crafted.entries[0].opslimit = 3;
        crafted.entries[0].memlimit = 64ull << 30;  // 64 GiB
        REQUIRE(store::detail::write_kdf_file(side, crafted));
        CHECK(EncounterStore::open(p, passphrase_credential("pw")).error().code ==
              ErrorCode::kStorageCorrupt);
    }
}

TEST_CASE("A lost key-derivation file: a raw key recovers it, a passphrase cannot",
          "[store][open][kdf]") {
    TempDir dir;
    const auto p = dir / "s.db";
    SECTION("raw key") {
        make_populated_store(p, raw_credential(1));
        std::filesystem::remove(dir / "s.db.kdf");
        // A wrong key cannot be told from a foreign file any more.
        auto wrong = EncounterStore::open(p, raw_credential(2));
        REQUIRE_FALSE(wrong.has_value());
        CHECK(wrong.error().code == ErrorCode::kStorageNotAStore);
        CHECK_FALSE(std::filesystem::exists(dir / "s.db.kdf"));
        auto s = EncounterStore::open(p, raw_credential(1));
        REQUIRE(s.has_value());
        CHECK(count_sightings(*s) == 300);
        CHECK(std::filesystem::exists(dir / "s.db.kdf"));
        // With the side file back, a wrong key is a wrong key again.
        CHECK(EncounterStore::open(p, raw_credential(2)).error().code ==
              ErrorCode::kStorageWrongKey);
    }
    SECTION("passphrase") {
        make_populated_store(p, passphrase_credential("pw"));
        std::filesystem::remove(dir / "s.db.kdf");
        auto s = EncounterStore::open(p, passphrase_credential("pw"));
        REQUIRE_FALSE(s.has_value());
        CHECK(s.error().code == ErrorCode::kStorageNotAStore);
    }
}

TEST_CASE("A store written by a newer schema is refused with kStorageNewerSchema, unchanged",
          "[store][open][schema]") {
    TempDir dir;
    const auto p = dir / "s.db";
    {
        auto s = open_store(p);
        REQUIRE(store::detail::StoreAccess::database(s).exec(
            ("PRAGMA user_version = " + std::to_string(store::kSchemaVersion + 1)).c_str()));
    }
    const auto before = snapshot(dir.path());
    auto s = EncounterStore::open(p, raw_credential(1));
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().code == ErrorCode::kStorageNewerSchema);
    auto ro = EncounterStore::open(p, raw_credential(1), [] {
        store::OpenOptions o;
        o.read_only = true;
        return o;
    }());
    REQUIRE_FALSE(ro.has_value());
    CHECK(ro.error().code == ErrorCode::kStorageNewerSchema);
    CHECK(snapshot_data(dir.path()) == before);
}

TEST_CASE("A truncated database gives kStorageCorrupt, never a crash", "[store][open][corrupt]") {
    TempDir dir;
    const auto p = dir / "s.db";
    make_populated_store(p, raw_credential(1));
    const auto full = read_file(p);
    REQUIRE(full.size() >= 3 * 4096);
    // SQLCipher 3.4.1 pages end in [IV 16][HMAC-SHA1 20][padding 12]; the HMAC covers everything
    // before the padding. Losing only padding bytes (a zero-filled short read) loses no data.
    for (std::size_t size : {full.size() - 1, full.size() - 12}) {
        std::vector<std::uint8_t> cut(full.begin(),
                                      full.begin() + static_cast<std::ptrdiff_t>(size));
        write_file(p, cut);
        auto s = EncounterStore::open(p, raw_credential(1), no_create());
        REQUIRE(s.has_value());
        CHECK(count_sightings(*s) == 300);
        CHECK(s->verify().has_value());
    }
    const std::size_t sizes[] = {0,
                                 10,
                                 100,
                                 4095,
                                 4096,
                                 full.size() - 4096,
                                 full.size() - 13,
                                 full.size() - 40,
                                 full.size() / 2};
    for (std::size_t size : sizes) {
        CAPTURE(size);
        std::vector<std::uint8_t> cut(full.begin(),
                                      full.begin() + static_cast<std::ptrdiff_t>(size));
        write_file(p, cut);
        auto s = EncounterStore::open(p, raw_credential(1), no_create());
        if (s.has_value()) {
            // The damage may sit in pages that opening does not read: reading them must fail.
            auto all = s->sightings_in_range(0, 1ull << 32);
            auto v = s->verify();
            CHECK((!all.has_value() || !v.has_value()));
            if (!v) CHECK(v.error().code == ErrorCode::kStorageCorrupt);
        } else {
            CHECK(s.error().code == ErrorCode::kStorageCorrupt);
        }
    }
    // The wrong key on a truncated file is still a wrong key.
    CHECK(EncounterStore::open(p, raw_credential(9)).error().code == ErrorCode::kStorageWrongKey);
}

TEST_CASE("Bit flips anywhere give kStorageCorrupt on open, read or verify",
          "[store][open][corrupt]") {
    TempDir dir;
    const auto p = dir / "s.db";
    make_populated_store(p, raw_credential(1));
    const auto pristine = read_file(p);
    const std::size_t pages = pristine.size() / 4096;
    REQUIRE(pages >= 3);
    // Every byte a page's HMAC covers (all but the last 12 padding bytes of each page, see above).
    std::vector<std::uint64_t> offsets = {0, 15, 16, 100, 4000, 4083};
    for (std::size_t page = 1; page < pages; ++page)
        for (std::uint64_t at : {0ull, 17ull * page % 4084, 4083ull})
            offsets.push_back(page * 4096 + at);
    for (std::uint64_t off : offsets) {
        CAPTURE(off);
        write_file(p, pristine);
        flip_byte(p, off);
        auto s = EncounterStore::open(p, raw_credential(1), no_create());
        if (!s) {
            CHECK(s.error().code == ErrorCode::kStorageCorrupt);
            continue;
        }
        auto v = s->verify();
        REQUIRE_FALSE(v.has_value());
        CHECK(v.error().code == ErrorCode::kStorageCorrupt);
    }
    write_file(p, pristine);
    auto s = EncounterStore::open(p, raw_credential(1), no_create());
    REQUIRE(s.has_value());
    CHECK(s->verify().has_value());
}

TEST_CASE("A read-only location gives kStorageReadOnly and changes nothing",
          "[store][open][readonly]") {
    TempDir dir;
    std::filesystem::permissions(dir.path(), std::filesystem::perms(0755));
    const auto ro_dir = dir / "ro";
    std::filesystem::create_directory(ro_dir);
    const auto p = ro_dir / "s.db";
    make_populated_store(p, raw_credential(1));
    for (const auto& f : EncounterStore::files(p))
        if (std::filesystem::exists(f))
            std::filesystem::permissions(f, std::filesystem::perms(0644));
    std::filesystem::permissions(ro_dir, std::filesystem::perms(0555));
    const auto before = snapshot(ro_dir);

    // Root ignores permission bits: run the attempts as "nobody" in a child process.
    const bool root = geteuid() == 0;
    auto attempt = [&](const std::function<ErrorCode()>& what) {
        return in_child([&] {
            if (root && (setgid(65534) != 0 || setuid(65534) != 0)) return 99;
            return static_cast<int>(what()) % 256;
        });
    };
    // ErrorCode values are 3xx: compare modulo 256 as the exit code carries them.
    const int expect = static_cast<int>(ErrorCode::kStorageReadOnly) % 256;
    CHECK(attempt([&] {
              auto s = EncounterStore::open(p, raw_credential(1));
              return s ? ErrorCode::kOk : s.error().code;
          }) == expect);
    CHECK(attempt([&] {
              auto s = EncounterStore::open(ro_dir / "new.db", raw_credential(1));
              return s ? ErrorCode::kOk : s.error().code;
          }) == expect);
    // Nothing wrong with the key: a wrong key is still reported as such.
    CHECK(attempt([&] {
              auto s = EncounterStore::open(p, raw_credential(5));
              return s ? ErrorCode::kOk : s.error().code;
          }) == static_cast<int>(ErrorCode::kStorageWrongKey) % 256);
    std::filesystem::permissions(ro_dir, std::filesystem::perms(0755));
    CHECK(snapshot(ro_dir) == before);
    auto s = EncounterStore::open(p, raw_credential(1), no_create());
    REQUIRE(s.has_value());
    CHECK(count_sightings(*s) == 300);
}

TEST_CASE("A store opened read-only reads but refuses writes", "[store][open][readonly]") {
    TempDir dir;
    const auto p = dir / "s.db";
    make_populated_store(p, raw_credential(1));
    store::OpenOptions o;
    o.read_only = true;
    auto s = EncounterStore::open(p, raw_credential(1), o);
    REQUIRE(s.has_value());
    CHECK(count_sightings(*s) == 300);
    const std::vector<core::Observation> one = {observation(kNow, -50, rpi_of(1, 1))};
    CHECK(s->ingest(one, kNow).error().code == ErrorCode::kStorageReadOnly);
    CHECK(s->apply_retention(kNow).error().code == ErrorCode::kStorageReadOnly);
    CHECK(s->rekey(raw_credential(2)).error().code == ErrorCode::kStorageReadOnly);
    auto missing = EncounterStore::open(dir / "none.db", raw_credential(1), o);
    CHECK(missing.error().code == ErrorCode::kStorageIo);
}

TEST_CASE("A full store gives kStorageFull and loses nothing already stored",
          "[store][open][full]") {
    TempDir dir;
    const auto p = dir / "s.db";
    store::OpenOptions o;
    o.max_bytes = 160 * 1024;
    auto s = EncounterStore::open(p, raw_credential(1), o);
    REQUIRE(s.has_value());
    std::uint64_t stored = 0;
    bool full = false;
    for (std::uint32_t batch = 0; batch < 200 && !full; ++batch) {
        std::vector<core::Observation> obs;
        for (std::uint32_t i = 0; i < 200; ++i)
            obs.push_back(observation(kNow - 60, -70, rpi_of(batch, i)));
        auto r = s->ingest(obs, kNow);
        if (r) {
            stored += r->new_rows;
        } else {
            CHECK(r.error().code == ErrorCode::kStorageFull);
            full = true;
        }
    }
    REQUIRE(full);
    REQUIRE(stored > 0);
    CHECK(count_sightings(*s) == stored);
    // A small batch that fits may still fail or succeed, but the store stays consistent.
    CHECK(s->verify().has_value());
    s = EncounterStore::open(p, raw_credential(1));  // reopen without the bound
    REQUIRE(s.has_value());
    CHECK(count_sightings(*s) == stored);
    CHECK(s->verify().has_value());
}

TEST_CASE("A full disk (tiny tmpfs) gives kStorageFull and loses nothing", "[store][open][full]") {
    TempDir dir;
    const auto mnt = dir / "mnt";
    std::filesystem::create_directory(mnt);
    // Exit codes: 0 ok, 10 cannot mount here (skip), others = failed check.
    const int rc = in_child([&]() -> int {
        if (geteuid() == 0) {
            if (unshare(CLONE_NEWNS) != 0) return 10;
        } else {
            // An unprivileged user namespace, mapping ourselves to its root.
            const uid_t uid = geteuid();
            const gid_t gid = getegid();
            if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return 10;
            std::ofstream("/proc/self/setgroups") << "deny";
            std::ofstream("/proc/self/uid_map") << "0 " << uid << " 1";
            std::ofstream("/proc/self/gid_map") << "0 " << gid << " 1";
        }
        if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 10;
        if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=400k") != 0) return 10;
        const auto p = mnt / "s.db";
        const auto ballast = mnt / "ballast";
        {
            std::vector<std::uint8_t> b(96 * 1024, 0xee);
            std::ofstream f(ballast, std::ios::binary);
            f.write(reinterpret_cast<const char*>(b.data()),
                    static_cast<std::streamsize>(b.size()));
            if (!f.good()) return 10;
        }
        std::uint64_t stored = 0;
        {
            auto s = EncounterStore::open(p, raw_credential(1));
            if (!s) return 20;
            bool full = false;
            for (std::uint32_t batch = 0; batch < 500 && !full; ++batch) {
                std::vector<core::Observation> obs;
                for (std::uint32_t i = 0; i < 200; ++i)
                    obs.push_back(observation(kNow - 60, -70, rpi_of(batch, i)));
                auto r = s->ingest(obs, kNow);
                if (r) {
                    stored += r->new_rows;
                } else {
                    if (r.error().code != ErrorCode::kStorageFull) return 21;
                    full = true;
                }
            }
            if (!full || stored == 0) return 22;
            auto st = s->stats();
            if (!st || st->sightings != stored) return 23;
        }
        // The user frees some space; everything committed before the disk filled is there.
        std::filesystem::remove(ballast);
        auto again = EncounterStore::open(p, raw_credential(1));
        if (!again) return 24;
        auto st2 = again->stats();
        if (!st2 || st2->sightings != stored) return 25;
        if (!again->verify()) return 26;
        return 0;
    });
    if (rc == 10) {
        WARN("cannot mount a tmpfs here (no privileges or user namespaces): covered by max_bytes");
        return;
    }
    CHECK(rc == 0);
}
