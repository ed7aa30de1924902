/* Vector table and reset handler for the Cortex-M4 (mps2-an386): copy .data, zero .bss, enable
   the FPU, then newlib's crt0 (_start: semihosting argv, constructors, main, exit status). */
#include <stdint.h>
#include <string.h>

extern uint32_t __data_load, __data_start, __data_end, __bss_start__, __bss_end__, __stack_top;
extern void _start(void);

void reset_handler(void) {
    memcpy(&__data_start, &__data_load, (size_t)((char*)&__data_end - (char*)&__data_start));
    memset(&__bss_start__, 0, (size_t)((char*)&__bss_end__ - (char*)&__bss_start__));
    *(volatile uint32_t*)0xE000ED88 |= (0xFu << 20); /* CPACR: CP10/CP11 full access */
    _start();
    for (;;) {
    }
}

static void fault_handler(void) {
    for (;;) {
    }
}

__attribute__((section(".vectors"), used))
const void* const vectors[16] = {&__stack_top,
                                 (const void*)reset_handler,
                                 (const void*)fault_handler,
                                 (const void*)fault_handler,
                                 (const void*)fault_handler,
                                 (const void*)fault_handler,
                                 (const void*)fault_handler};
