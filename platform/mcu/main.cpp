// Token firmware for QEMU's mps2-an386 (Cortex-M4), with semihosting for output, files and the
// exit status. It runs the portable crypto's known answers (OpenSSL's, generated on the host) and
// the 144 GAEN vectors, then a simulated day on an emulated NOR flash, exports the log for the
// paired host, and prints instruction counts measured with SysTick under `-icount shift=0`.
#include <cstdio>
#include <cstring>
#include <new>

#include <sotto/core/keys.hpp>
#include <sotto/core/payload.hpp>
#include <sotto/core/portable_crypto.hpp>
#include <sotto/core/rolling_id.hpp>
#include <sotto/flashlog/flash_log.hpp>

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

// Pairing. The host's key (64 hex digits) arrives over the pairing channel; here, a file read
// over semihosting.
bool read_pairing_key(const char* path, std::uint8_t out[32]) {
    std::FILE* f = std::fopen(path, "rb");
    if (f == nullptr) return false;
    char hex[64];
    const bool good =
        std::fread(hex, 1, sizeof hex, f) == sizeof hex &&
        sotto::detail::secure_hex_decode(std::string_view(hex, 64), std::span(out, 32));
    sp::wipe(hex, sizeof hex);
    std::fclose(f);
    return good;
}

// The day's script (day_script.csv): contacts and when they were near.
constexpr std::uint32_t kDay = 20454;  // 2026-01-01
struct Contact {
    core::TemporaryExposureKey tek;
    unsigned first = 0, count = 0;
    int rssi = 0;
};
Contact g_contacts[16];
std::size_t g_ncontacts = 0;

bool read_script(const char* path) {
    std::FILE* f = std::fopen(path, "r");
    if (f == nullptr) return false;
    char line[128];
    while (std::fgets(line, sizeof line, f) != nullptr && g_ncontacts < 16) {
        if (line[0] == '#' || line[0] == '\n') continue;
        char hex[33] = {};
        unsigned first = 0, count = 0, published = 0;
        int rssi = 0;
        if (std::sscanf(line, "%32[0-9a-f],%u,%u,%d,%u", hex, &first, &count, &rssi, &published) !=
            5)
            continue;
        auto tek = core::TemporaryExposureKey::from_hex(std::string_view(hex, 32));
        if (!tek || first + count > core::kTekRollingPeriod) continue;
        Contact& c = g_contacts[g_ncontacts++];
        c.tek = std::move(*tek);
        c.first = first;
        c.count = count;
        c.rssi = rssi;
    }
    std::fclose(f);
    return g_ncontacts > 0;
}

bool file_sink(void* ctx, const std::uint8_t* p, std::size_t n) {
    return std::fwrite(p, 1, n, static_cast<std::FILE*>(ctx)) == n;
}

}  // namespace

// Every allocation (operator new included) goes through these (-Wl,--wrap=...): the day's crypto,
// payload and flash-log calls must make none.
std::uint32_t g_mallocs = 0;
extern "C" {
void* __real_malloc(std::size_t n);
void* __real_calloc(std::size_t n, std::size_t m);
void* __real_realloc(void* p, std::size_t n);
void* __real_memalign(std::size_t a, std::size_t n);
void* __real_aligned_alloc(std::size_t a, std::size_t n);
void* __wrap_malloc(std::size_t n) {
    ++g_mallocs;
    return __real_malloc(n);
}
void* __wrap_calloc(std::size_t n, std::size_t m) {
    ++g_mallocs;
    return __real_calloc(n, m);
}
void* __wrap_realloc(void* p, std::size_t n) {
    ++g_mallocs;
    return __real_realloc(p, n);
}
void* __wrap_memalign(std::size_t a, std::size_t n) {
    ++g_mallocs;
    return __real_memalign(a, n);
}
void* __wrap_aligned_alloc(std::size_t a, std::size_t n) {
    ++g_mallocs;
    return __real_aligned_alloc(a, n);
}
}

namespace {

// Stack high-water mark: paint the 16 KiB below the current stack pointer, measure later.
constexpr std::size_t kPaint = 16 * 1024;
__attribute__((noinline)) std::uint8_t* stack_pointer() {
    std::uint8_t* sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}
__attribute__((noinline)) void stack_paint() {
    std::uint8_t* low = stack_pointer() - kPaint;
    for (std::size_t i = 0; i < kPaint - 256; ++i) low[i] = 0xa5;  // keep clear of this frame
}
std::size_t stack_used(std::uint8_t* base) {
    std::uint8_t* low = base - kPaint;
    std::size_t i = 0;
    while (i < kPaint && low[i] == 0xa5) ++i;
    return static_cast<std::size_t>(base - (low + i));
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
    const char* script_path = argc > 2 ? argv[2] : "day_script.csv";
    const char* export_path = argc > 3 ? argv[3] : "token-export.bin";
    std::printf("sotto token firmware (Cortex-M4, portable crypto)\n");
    std::FILE* urandom = std::fopen("/dev/urandom", "rb");
    sp::set_entropy_source(trng, urandom);
    systick_start();
    const double ipt = instructions_per_tick();

    // 1. Known answers: OpenSSL's on random inputs, and the EN Crypto Spec's 144 vectors.
    const int kat_fail = test::portable::check_kats(kats, kats_count);
    std::printf("openssl known answers: %u cases, %d failed\n", static_cast<unsigned>(kats_count),
                kat_fail);
    check(kat_fail == 0 && kats_count > 0, "openssl known answers");
    const int gaen_fail = test::portable::check_gaen(gaen_vectors);
    std::printf("gaen vectors: %u rows, %d failed checks\n", static_cast<unsigned>(gaen_vectors.n),
                gaen_fail);
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
    check(read_pairing_key(pairing_path, pairing), "read pairing key");
    check(read_script(script_path), "read the day's script");
    check(static_cast<bool>(log->pair(pairing)), "pair");
    sp::wipe(pairing, sizeof pairing);

    const core::IntervalNumber day_start = kDay * core::kTekRollingPeriod;
    std::uint8_t* const stack_base = stack_pointer();
    stack_paint();
    const std::uint32_t mallocs_before = g_mallocs;
    // Midnight: the day's TEK and all its RPIs in one batch (measured).
    std::uint32_t t0 = systick_now();
    core::ExposureKey own = core::generate_tek(*rng, day_start);
    static core::RollingProximityId own_rpis[core::kTekRollingPeriod];
    check(static_cast<bool>(core::derive_rpis(own.tek, day_start, own_rpis)), "derive own RPIs");
    const double tek_to_rpis = ticks_since(t0) * ipt;
    check(static_cast<bool>(log->put_tek(own)), "log TEK");
    const core::AssociatedEncryptedMetadataKey own_aemk = core::derive_aemk(own.tek);
    const core::MetadataBytes md = core::encode_metadata({.minor_version = 0, .tx_power_dbm = -8});

    // The contacts' beacons (the air) are derived here from the script's TEKs.
    double append_instr = 0;
    std::uint32_t appended = 0, rotations = 0, adv_ok = 0;
    // Advertising: the address and the RPI change together every 10-20 minutes (random), and the
    // payload carries the RPI of the interval current at that moment.
    for (std::uint32_t minute = 0; minute < 24 * 60;) {
        const std::uint32_t i = minute / 10;
        core::Beacon b;
        b.rpi = own_rpis[i];
        auto aem = core::encrypt_aem(own_aemk, b.rpi, md);
        if (aem) b.aem = *aem;
        const core::ServiceData payload = core::encode_service_data(b);  // 20 bytes on air
        const core::AdvertisingData adv =
            core::encode_advertising_data(b, core::AdvertisingForm::kWithFlags);
        auto heard = core::decode_advertising_data(adv.view());
        adv_ok += payload.size() == 20 && aem && heard && *heard == b ? 1 : 0;
        ++rotations;
        std::uint8_t r = 0;
        rng->fill(std::span(&r, 1));
        minute += 10 + r % 11;
    }
    check(adv_ok == rotations && rotations >= 24 * 60 / 20, "20-byte payloads");
    // Scanning: what the script says was heard, one batch per interval.
    for (std::uint32_t i = 0; i < core::kTekRollingPeriod; ++i) {
        flashlog::HeardRow rows[16];
        std::size_t n = 0;
        for (std::size_t k = 0; k < g_ncontacts; ++k) {
            const Contact& c = g_contacts[k];
            if (i < c.first || i >= c.first + c.count) continue;
            const auto& tek = c.tek;
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
        const bool good = static_cast<bool>(log->append(kDay, std::span(rows, n)));
        append_instr += ticks_since(t0) * ipt;
        appended += static_cast<std::uint32_t>(n);
        check(good, "append");
    }
    const std::size_t day_stack = stack_used(stack_base);
    const std::uint32_t day_mallocs = g_mallocs - mallocs_before;
    check(day_mallocs == 0, "no heap during the day");
    {  // The counter sees allocations (malloc and operator new).
        const std::uint32_t before = g_mallocs;
        void* p = ::operator new(64, std::nothrow);
        check(p != nullptr && g_mallocs == before + 1, "the heap counter counts");
        ::operator delete(p);
    }
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
    std::printf("heap: %u allocations during the day\n", static_cast<unsigned>(day_mallocs));
    std::printf(
        "stack: %u bytes at most during the day (keys, RPIs, AEMs, payloads, log); "
        "FlashLog object %u bytes\n",
        static_cast<unsigned>(day_stack), static_cast<unsigned>(sizeof(flashlog::FlashLog)));
    std::printf("at 64 MHz (1 instruction/cycle): TEK -> 144 RPIs %.2f ms; per row %.3f ms\n",
                tek_to_rpis / 64e3, appended ? append_instr / appended / 64e3 : 0.0);
    if (urandom != nullptr) std::fclose(urandom);
    std::printf(failures == 0 ? "PASS\n" : "FAILED (%d)\n", failures);
    return failures == 0 ? 0 : 1;
}
