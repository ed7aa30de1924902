// Token firmware for QEMU's mps2-an386 (Cortex-M4), with semihosting for output, files and the
// exit status. It runs the portable crypto's known answers (OpenSSL's, generated on the host) and
// the 144 GAEN vectors, then a simulated day on an emulated NOR flash, exports the log for the
// paired host, and prints instruction counts measured with SysTick under `-icount shift=0`.
#include <cstdio>
#include <cstring>

#include <sotto/core/keys.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/core/portable_crypto.hpp>
#include <sotto/core/rolling_id.hpp>
#include <sotto/flashlog/flash_log.hpp>

#include "day_script.hpp"
#include "portable/checks.hpp"

extern const sotto::test::portable::Kat kats[];
extern const std::size_t kats_count;
extern const sotto::test::portable::GaenVectors gaen_vectors;

namespace {

using namespace sotto;
namespace sp = sotto::portable;

// ---- Callbacks a real board provides (docs/embedded.md) ---------------------------------------

// TRNG. QEMU's mps2 has none: the host's /dev/urandom, read over semihosting.
bool trng(void* ctx, std::uint8_t* out, std::size_t n) {
    auto* f = static_cast<std::FILE*>(ctx);
    return f != nullptr && std::fread(out, 1, n, f) == n;
}

// SysTick as a counter of (virtual) time: with -icount shift=0 one instruction is 1 ns.
volatile std::uint32_t* const kSyst = reinterpret_cast<volatile std::uint32_t*>(0xE000E010);
void systick_start() {
    kSyst[1] = 0x00ffffff;  // reload
    kSyst[2] = 0;
    kSyst[0] = 5;  // enable, processor clock, no interrupt
}
std::uint32_t systick_now() { return kSyst[2]; }
std::uint32_t ticks_since(std::uint32_t start) { return (start - systick_now()) & 0x00ffffff; }

// Instructions per SysTick tick, from a loop of known length (2 instructions per turn).
double instructions_per_tick() {
    const std::uint32_t t0 = systick_now();
    std::uint32_t n = 200000;
    __asm__ volatile("1: subs %0, %0, #1\n bne 1b" : "+r"(n) : : "cc");
    return 400000.0 / ticks_since(t0);
}

// The emulated NOR flash: 256 KiB, 64 pages of 4 KiB, in RAM (see mps2_an386.ld).
__attribute__((section(".flashsim"))) std::uint8_t g_flash_mem[64 * 4096];

// Pairing. The host's key arrives over the pairing channel; here, a file over semihosting.
bool read_file(const char* path, std::uint8_t* out, std::size_t n) {
    std::FILE* f = std::fopen(path, "rb");
    if (f == nullptr) return false;
    const bool good = std::fread(out, 1, n, f) == n;
    std::fclose(f);
    return good;
}

bool file_sink(void* ctx, const std::uint8_t* p, std::size_t n) {
    return std::fwrite(p, 1, n, static_cast<std::FILE*>(ctx)) == n;
}

int failures = 0;
void check(bool ok, const char* what) {
    if (!ok) {
        ++failures;
        std::printf("FAIL: %s\n", what);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const char* pairing_path = argc > 1 ? argv[1] : "pairing.key";
    const char* export_path = argc > 2 ? argv[2] : "token-export.bin";
    std::printf("sotto token firmware (Cortex-M4, portable crypto)\n");
    std::FILE* urandom = std::fopen("/dev/urandom", "rb");
    sp::set_entropy_source(trng, urandom);
    systick_start();
    const double ipt = instructions_per_tick();

    // 1. Known answers: OpenSSL's on random inputs, and the EN Crypto Spec's 144 vectors.
    const int kat_fail = test::portable::check_kats(kats, kats_count);
    std::printf("openssl known answers: %u cases, %d failed\n", static_cast<unsigned>(kats_count), kat_fail);
    check(kat_fail == 0 && kats_count > 0, "openssl known answers");
    const int gaen_fail = test::portable::check_gaen(gaen_vectors);
    std::printf("gaen vectors: %u rows, %d failed checks\n", static_cast<unsigned>(gaen_vectors.n), gaen_fail);
    check(gaen_fail == 0 && gaen_vectors.n == 144, "gaen vectors");

    // 2. A simulated day.
    auto rng = core::SystemRng::create();
    check(static_cast<bool>(rng), "entropy source");
    if (!rng) return 1;
    std::memset(g_flash_mem, 0xff, sizeof g_flash_mem);
    flashlog::SimFlash flash(g_flash_mem, 4096);
    std::uint8_t device_key[32];
    rng->fill(device_key);  // a real chip derives it from its key-management unit
    auto log = flashlog::FlashLog::open(flash, device_key, *rng);
    check(static_cast<bool>(log), "open flash log");
    if (!log) return 1;
    std::uint8_t pairing[32];
    check(read_file(pairing_path, pairing, sizeof pairing), "read pairing key");
    check(static_cast<bool>(log->pair(pairing)), "pair");
    sp::wipe(pairing, sizeof pairing);

    const core::IntervalNumber day_start = token_sim::kDay * core::kTekRollingPeriod;
    // Midnight: the day's TEK and all its RPIs in one batch (measured).
    std::uint32_t t0 = systick_now();
    core::ExposureKey own = core::generate_tek(*rng, day_start);
    static core::RollingProximityId own_rpis[core::kTekRollingPeriod];
    check(static_cast<bool>(core::derive_rpis(own.tek, day_start, own_rpis)), "derive own RPIs");
    const double tek_to_rpis = ticks_since(t0) * ipt;
    check(static_cast<bool>(log->put_tek(own)), "log TEK");
    const core::AssociatedEncryptedMetadataKey own_aemk = core::derive_aemk(own.tek);
    const core::MetadataBytes md = core::encode_metadata({.minor_version = 0, .tx_power_dbm = -8});

    // The contacts' RPIs (the air): derived here from the script's TEKs.
    constexpr std::size_t kN = sizeof token_sim::kContacts / sizeof token_sim::kContacts[0];
    double append_instr = 0;
    std::uint32_t appended = 0, rotations = 0, last_rotation = 0;
    std::uint32_t adv_ok = 0;
    for (std::uint32_t i = 0; i < core::kTekRollingPeriod; ++i) {
        // Rotation every 10-20 minutes: the RPI changes with the interval; the BLE address is
        // re-randomised at the same moment (a real radio call).
        const std::uint32_t minute = i * 10 + (i * 7) % 10;
        if (i == 0 || minute - last_rotation >= 10) {
            ++rotations;
            last_rotation = minute;
        }
        core::Beacon b;
        b.rpi = own_rpis[i];
        auto aem = core::encrypt_aem(own_aemk, b.rpi, md);
        if (aem) b.aem = *aem;
        const core::ServiceData payload = core::encode_service_data(b);  // 20 bytes on air
        adv_ok += payload.size() == 20 && aem ? 1 : 0;

        flashlog::HeardRow rows[kN];
        std::size_t n = 0;
        for (const auto& c : token_sim::kContacts) {
            if (i < c.first_interval || i >= c.first_interval + c.intervals) continue;
            const auto tek = core::TemporaryExposureKey::from(c.tek);
            core::RollingProximityId rpi;
            check(static_cast<bool>(core::derive_rpis(tek, day_start + i, std::span(&rpi, 1))),
                  "derive a contact's RPI");
            auto their = core::encrypt_aem(core::derive_aemk(tek), rpi, md);
            flashlog::HeardRow& r = rows[n++];
            r.interval = static_cast<std::uint8_t>(i);
            r.rpi = rpi;
            if (their) r.aem = *their;
            r.rssi_max = c.rssi;
            r.rssi_mean = static_cast<std::int8_t>(c.rssi - 4);
            r.count = 12;
        }
        if (n == 0) continue;
        t0 = systick_now();
        const bool good = static_cast<bool>(log->append(token_sim::kDay, std::span(rows, n)));
        append_instr += ticks_since(t0) * ipt;
        appended += static_cast<std::uint32_t>(n);
        check(good, "append");
    }
    check(adv_ok == core::kTekRollingPeriod, "20-byte payloads");
    auto st = log->stats();
    check(st && st->rows == appended && st->teks == 1, "log holds the day");
    std::printf("simulated day: %u RPI rotations, %u rows logged in %u flash steps\n",
                static_cast<unsigned>(rotations), static_cast<unsigned>(appended),
                static_cast<unsigned>(flash.steps()));

    // 3. Export for the host.
    std::FILE* out = std::fopen(export_path, "wb");
    check(out != nullptr, "open export file");
    if (out != nullptr) {
        check(static_cast<bool>(log->export_to(file_sink, out)), "export");
        std::fclose(out);
    }

    // 4. Numbers.
    std::printf("instructions: TEK -> 144 RPIs %.0f; per appended row %.0f\n", tek_to_rpis,
                appended ? append_instr / appended : 0.0);
    std::printf("at 64 MHz (1 instruction/cycle): TEK -> 144 RPIs %.2f ms; per row %.3f ms\n",
                tek_to_rpis / 64e3, appended ? append_instr / appended / 64e3 : 0.0);
    if (urandom != nullptr) std::fclose(urandom);
    std::printf(failures == 0 ? "PASS\n" : "FAILED (%d)\n", failures);
    return failures == 0 ? 0 : 1;
}
