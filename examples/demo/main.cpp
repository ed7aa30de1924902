// sotto-demo: the same story as `sotto demo` (apps/sotto/demo): four phones on a simulated air
// for three days, one tests positive and publishes, the others download, verify and check; a relay
// and a forged key file fail to fool them. Writes an SVG timeline.
//
// Usage: sotto-demo [--out DIR] [--keep DIR]
#include <cstdio>
#include <cstring>

#include "demo/demo.hpp"

int main(int argc, char** argv) {
    sotto::demo::DemoOptions o;
    for (int i = 1; i < argc; ++i) {
        if (i + 1 < argc && std::strcmp(argv[i], "--out") == 0) {
            o.out_dir = argv[++i];
        } else if (i + 1 < argc && std::strcmp(argv[i], "--keep") == 0) {
            o.keep = argv[++i];
        } else {
            std::fprintf(stderr, "usage: sotto-demo [--out DIR] [--keep DIR]\n");
            return 2;
        }
    }
    return sotto::demo::run_demo(o);
}
