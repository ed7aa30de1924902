// Fuzz target: the C ABI entry points that take buffers (payload decoding, key files from bytes
// and as a loose pair, RPI derivation, and the Tracer's heard-advertisement and key-file imports
// on one store in a temporary directory). Invariants: never crash or read out of bounds; every
// status is a known code; what a call reports is consistent (keys held == keys delivered; an
// accepted payload re-encodes and decodes to the same beacon).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <stdlib.h>  // mkdtemp

#include <sotto/sotto.h>

namespace {

void known(sotto_status s) {
    if (std::strcmp(sotto_status_name(s), "SOTTO_ERR_UNKNOWN") == 0) std::abort();
}

std::string g_dir;
sotto_tracer* g_tracer = nullptr;

void cleanup() {
    sotto_tracer_destroy(g_tracer);
    std::error_code ec;
    std::filesystem::remove_all(g_dir, ec);
}

sotto_tracer* tracer() {
    static sotto_tracer* t = [] {
        char dir[] = "/tmp/sotto-capi-fuzz-XXXXXX";
        if (mkdtemp(dir) == nullptr) std::abort();
        g_dir = dir;
        const std::string path = std::string(dir) + "/fuzz.db";
        std::uint8_t key[32] = {1};
        sotto_tracer* out = nullptr;
        if (sotto_tracer_open(&out, path.c_str(), key, sizeof key, nullptr, nullptr, nullptr,
                              nullptr) != SOTTO_OK) {
            std::abort();
        }
        g_tracer = out;
        std::atexit(cleanup);
        return out;
    }();
    return t;
}

void check_keyfile(sotto_status s, sotto_keyfile* kf) {
    known(s);
    if (s != SOTTO_OK) return;
    sotto_keyfile_info info{};
    info.struct_size = sizeof info;
    if (sotto_keyfile_get_info(&info, kf) != SOTTO_OK) std::abort();
    std::size_t needed = 0;
    known(sotto_keyfile_get_keys(nullptr, 0, static_cast<uint32_t>(sizeof(sotto_diagnosis_key)),
                                 &needed, kf));
    if (needed != info.keys_delivered) std::abort();
    std::vector<sotto_diagnosis_key> keys(needed);
    if (needed > 0 && sotto_keyfile_get_keys(keys.data(), keys.size(),
                                             static_cast<uint32_t>(sizeof(sotto_diagnosis_key)),
                                             &needed, kf) != SOTTO_OK)
        std::abort();
    for (const auto& k : keys) {
        if (k.rolling_period < 1 || k.rolling_period > 144) std::abort();
    }
    sotto_keyfile_destroy(kf);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    sotto_beacon b;
    const sotto_status s = sotto_payload_decode(&b, data, size);
    known(s);
    if (s == SOTTO_OK) {
        std::uint8_t adv[31];
        std::size_t len = 0;
        sotto_beacon again;
        if (sotto_advertising_data_encode(adv, sizeof adv, &len, &b, SOTTO_ADV_WITHOUT_FLAGS) !=
                SOTTO_OK ||
            sotto_payload_decode(&again, adv, len) != SOTTO_OK ||
            std::memcmp(&again, &b, sizeof b) != 0) {
            std::abort();
        }
    }
    if (size >= 16) {
        std::uint8_t rpis[16 * 4];
        known(sotto_derive_rpis(rpis, sizeof rpis, data, 16, size > 20 ? data[16] : 0u, 4));
    }

    sotto_keyfile* kf = nullptr;
    sotto_status read = sotto_keyfile_read(&kf, data, size, nullptr, SOTTO_VERIFY_PARSE_ONLY);
    check_keyfile(read, kf);
    // [2-byte little-endian length n][export.bin: n bytes][export.sig], as keyfile_fuzz splits.
    if (size >= 2) {
        const std::size_t n = std::min<std::size_t>(data[0] | std::size_t{data[1]} << 8, size - 2);
        kf = nullptr;
        read = sotto_keyfile_read_pair(&kf, data + 2, n, data + 2 + n, size - 2 - n, nullptr,
                                       SOTTO_VERIFY_PARSE_ONLY);
        check_keyfile(read, kf);
    }

    sotto_tracer* t = tracer();
    known(sotto_tracer_on_advertisement(t, data, size, -60, 1614902400000));
    sotto_import_result r{};
    r.struct_size = sizeof r;
    known(sotto_tracer_import_keyfile(&r, t, data, size, SOTTO_IMPORT_PARSE_ONLY));
    known(r.error);
    static unsigned runs = 0;
    if (++runs % 64 == 0) {
        sotto_check* c = nullptr;
        known(sotto_tracer_check(&c, t));
        sotto_check_destroy(c);
    }
    return 0;
}
