// Changing the store's key or passphrase, crash-safe.
#include "store/sqlite.hpp"
#include "store/store_impl.hpp"

namespace sotto::store {

using detail::guarded;
using detail::KdfFile;
using detail::Statement;

Result<void> EncounterStore::rekey(Credential new_credential) {
    return guarded(impl_, [&](Impl& im) -> Result<void> {
        if (auto r = im.writable(); !r) return r.error();
        if (!im.encrypted || im.kdf.entries.size() != 1)
            return make_error(ErrorCode::kFailedPrecondition, "store: cannot rekey this store");
        auto made = detail::make_entry(new_credential);
        if (!made) return made.error();
        const auto side_path = detail::kdf_path(im.path);

        // Fold the WAL into the database first, so that the rekey rewrites every page and the WAL
        // holds no old-key frames afterwards. A reader in another connection keeps the checkpoint
        // from completing: refuse then, before anything changed.
        {
            auto st = Statement::prepare(im.db, "PRAGMA wal_checkpoint(TRUNCATE)");
            if (!st) return st.error();
            auto row = st->step();
            if (!row) return row.error();
            if (*row && st->column_int(0) != 0)
                return make_error(ErrorCode::kStorageBusy, "store: other connections are open");
        }

        // 1. Side file lists both credentials: whichever state the database is in after a crash,
        //    the credential that decrypts it is listed (open() keeps only that one).
        KdfFile pending = im.kdf;
        pending.entries = {im.kdf.entries[0], made->entry};
        if (auto r = detail::write_kdf_file(side_path, pending); !r) return r.error();

        // 2. Re-encrypt every page in one transaction.
        auto rk = detail::apply_rekey(im.db, made->key);

        // 3. SQLCipher 3.4.1 does not report a failed commit: check with a second connection.
        bool committed = false;
        if (rk) {
            OpenOptions probe_options = im.options;
            probe_options.read_only = true;
            auto probe = detail::connect(im.path, &made->key, im.kdf.page_size, probe_options);
            committed = probe && probe->probe_rc == SQLITE_OK;
        }

        KdfFile final_kdf = im.kdf;
        if (committed) final_kdf.entries = {made->entry};
        // The main connection's codec state cannot be trusted after a failed rekey: reconnect with
        // the key that works.
        const StoreKey& good_key = committed ? made->key : im.key;
        im.st = Statements{};
        auto c = detail::connect(im.path, &good_key, im.kdf.page_size, im.options);
        if (!c || c->probe_rc != SQLITE_OK)
            return make_error(ErrorCode::kStorageIo, "store: cannot reopen after a key change");
        im.db = std::move(c->db);
        if (auto r = im.setup(false); !r) return r.error();
        if (committed) {
            im.key = made->key.clone();
            (void)sodium_mlock(im.key.expose_secret_mut().data(), kStoreKeyBytes);
            // Old-key pages still sit in the WAL until it is checkpointed and truncated.
            (void)im.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
        }
        im.kdf = final_kdf;
        // 4. Drop the credential that no longer opens the store. If this write fails, the next open
        //    finishes it.
        if (auto r = detail::write_kdf_file(side_path, final_kdf); !r && committed) return ok();
        if (!committed)
            return make_error(
                ErrorCode::kStorageIo,
                "store: the key change did not complete; the old credential still opens it");
        return ok();
    });
}

}  // namespace sotto::store
