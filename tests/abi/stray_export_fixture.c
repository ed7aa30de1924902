/* A library that exports one symbol outside the sotto_ prefix: the export check must catch it. */
__attribute__((visibility("default"))) int sotto_fixture_ok(void) { return 1; }
__attribute__((visibility("default"))) int stray_c_abi_helper(void) { return 2; }
