// ChildServer (tests/support): the port is the child's whole first line, or the start fails.
#include <stdexcept>

#include <catch2/catch.hpp>

#include "child_server.hpp"

using sotto::test::ChildServer;

TEST_CASE("ChildServer takes only a whole first line as the port", "[support]") {
    // A server that prints its port and waits, as key_server.py does.
    ChildServer ok({"-c", "import sys, time\nprint(4242, flush=True)\ntime.sleep(60)\n"});
    CHECK(ok.port() == 4242);
    // Cut off while writing "8080\n": "80" is not a port.
    CHECK_THROWS_AS(ChildServer({"-c", "import sys\nsys.stdout.write('80')\nsys.stdout.flush()\n"}),
                    std::runtime_error);
    // Nothing at all, or not a number.
    CHECK_THROWS_AS(ChildServer({"-c", "pass\n"}), std::runtime_error);
    CHECK_THROWS_AS(ChildServer({"-c", "print('ready', flush=True)\n"}), std::runtime_error);
}
