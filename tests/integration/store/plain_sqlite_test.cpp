// Built against sotto_store_plain (the same sources compiled with plain SQLite 3.40): the store
// must refuse to run, before touching the disk.
#include <sotto/store/encounter_store.hpp>

#include "store_test_util.hpp"

using namespace sotto;
using namespace sotto::test;

TEST_CASE("On plain SQLite the store refuses to open with kStorageNotEncrypted", "[store][plain]") {
    TempDir dir;
    for (bool passphrase : {false, true}) {
        auto s = passphrase ? store::EncounterStore::open(dir / "s.db", passphrase_credential("pw"))
                            : store::EncounterStore::open(dir / "s.db", raw_credential(1));
        REQUIRE_FALSE(s.has_value());
        CHECK(s.error().code == ErrorCode::kStorageNotEncrypted);
    }
    CHECK(std::filesystem::is_empty(dir.path()));
}
