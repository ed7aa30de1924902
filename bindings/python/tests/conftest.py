import os
import pathlib

import pytest

# The fuzz seed corpus: signed with tests/fuzz/keyfile_seed_key.pem as ("fuzz", "v1").
CORPUS = pathlib.Path(os.environ.get(
    "SOTTO_TEST_CORPUS",
    pathlib.Path(__file__).resolve().parents[3] / "tests" / "fuzz" / "corpus" / "keyfile"))
GAEN_DATA = pathlib.Path(os.environ.get(
    "SOTTO_GAEN_DATA_DIR", pathlib.Path(__file__).resolve().parents[4] / "shared" / "gaen-data"))

SEED_PEM = """-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEulSQvF1to8ojTUMV3/Zk9sQxw+z6
Ced8ZWKL3e/xXGFqE2GvcZG9wn5Mgd3eV5VFTKTIdLX5zALvZv1lgjuvfA==
-----END PUBLIC KEY-----
"""


def seed_tek(i):
    return bytes((i * 37 + j * 11) & 0xFF for j in range(16))


@pytest.fixture
def corpus():
    return CORPUS


@pytest.fixture
def trust():
    import sotto
    return sotto.TrustStore().add_pem(SEED_PEM, "fuzz", "v1")
