/* A C consumer of the installed C ABI, built with `pkg-config --cflags --libs sotto` as strict
 * C11. Exit 0 when the library answers the EN Crypto Spec v1.2 test vector; non-zero otherwise. */
#include <stdio.h>
#include <string.h>

#include <sotto/sotto.h>

int main(void) {
    static const uint8_t tek[16] = {0x75, 0xc7, 0x34, 0xc6, 0xdd, 0x1a, 0x78, 0x2d,
                                    0xe7, 0xa9, 0x65, 0xda, 0x5e, 0xb9, 0x31, 0x25};
    static const uint8_t expected[16] = {0x8b, 0xe6, 0xcd, 0x37, 0x1c, 0x5c, 0x89, 0x16,
                                         0x04, 0xbf, 0xbe, 0x49, 0xdf, 0x84, 0x50, 0x96};
    uint8_t rpi[SOTTO_RPI_BYTES];
    sotto_status st;
    if (sotto_abi_version() != SOTTO_ABI_VERSION) return 2;
    st = sotto_derive_rpis(rpi, sizeof rpi, tek, sizeof tek, 2642976, 1);
    if (st != SOTTO_OK) {
        fprintf(stderr, "sotto_derive_rpis: %s\n", sotto_status_name(st));
        return 3;
    }
    if (sotto_derive_rpis(rpi, sizeof rpi, tek, 15, 2642976, 1) != SOTTO_ERR_INVALID_ARGUMENT)
        return 4;
    printf("sotto %s: RPI %s\n", sotto_version(), memcmp(rpi, expected, 16) == 0 ? "ok" : "WRONG");
    return memcmp(rpi, expected, 16) == 0 ? 0 : 5;
}
