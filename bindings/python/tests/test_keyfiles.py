"""Key files: verified reading, the negative neighbours, and the real German export."""
import pytest

import sotto
from conftest import GAEN_DATA, SEED_PEM, seed_tek

OTHER_PEM = """-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEc7DEstcUIRcyk35OYDJ95/hTg3UV
hsaDXKT0zK7NhHPXoyzipEnOp3GyNXDVpaPi3cAfQmxeuFMZAIX2+6A5Xg==
-----END PUBLIC KEY-----
"""


def split_pair(data):
    n = data[0] | data[1] << 8
    return data[2:2 + n], data[2 + n:]


def test_signed_zip_verifies_and_yields_its_keys(corpus, trust):
    kf = sotto.KeyFile.from_bytes((corpus / "signed.zip").read_bytes(), trust)
    assert kf.info.verified and kf.info.signature_status == "verified"
    keys = kf.keys()
    assert [k.tek for k in keys] == [seed_tek(1), seed_tek(2), seed_tek(3)]
    assert (keys[0].rolling_start, keys[0].rolling_period, keys[0].report_type,
            keys[0].days_since_onset) == (2689920, 144, 4, 1)
    assert keys[1].days_since_onset is None and keys[1].rolling_period == 1
    assert sotto.KeyFile.from_path(corpus / "signed.zip", trust).keys() == keys


def test_wrong_key_untrusted_name_unsigned_and_tampered_files_are_refused(corpus, trust):
    data = (corpus / "signed.zip").read_bytes()
    cases = [
        (sotto.TrustStore().add_pem(OTHER_PEM, "fuzz", "v1"), data, "SOTTO_ERR_AUTHENTICATION_FAILED"),
        (sotto.TrustStore().add_pem(SEED_PEM, "262", "v1"), data, "SOTTO_ERR_UNTRUSTED_KEY"),
        (trust, (corpus / "unsigned.zip").read_bytes(), "SOTTO_ERR_UNSIGNED"),
        (trust, data[:len(data) // 2], "SOTTO_ERR_KEYFILE_MALFORMED"),
    ]
    for store, blob, name in cases:
        with pytest.raises(sotto.SottoError) as e:
            sotto.KeyFile.from_bytes(blob, store)
        assert e.value.name == name
    bin_, sig = split_pair((corpus / "signed.pair").read_bytes())
    assert sotto.KeyFile.from_pair(bin_, sig, trust).info.verified
    tampered = bytearray(bin_)
    tampered[-20] ^= 1
    with pytest.raises(sotto.SottoError) as e:
        sotto.KeyFile.from_pair(bytes(tampered), sig, trust)
    assert e.value.name == "SOTTO_ERR_AUTHENTICATION_FAILED"
    # Parse-only says what it found instead of refusing.
    kf = sotto.KeyFile.from_bytes((corpus / "unsigned.zip").read_bytes(), trust, verify=False)
    assert not kf.info.verified and kf.info.signature_status == "unsigned"


def test_trust_store_refuses_what_is_not_a_p256_key():
    store = sotto.TrustStore()
    with pytest.raises(sotto.SottoError):
        store.add_pem("not a key")
    with pytest.raises(sotto.SottoError):
        store.add_der(b"\x30\x03\x02\x01\x01", "a", "v1")
    assert len(store) == 0
    store.add_pem(SEED_PEM)
    assert len(store) == 1


def test_missing_path_is_an_io_error(tmp_path, trust):
    with pytest.raises(sotto.SottoError) as e:
        sotto.KeyFile.from_path(tmp_path / "nope.zip", trust)
    assert e.value.name == "SOTTO_ERR_KEYFILE_IO"


def test_real_german_export_verifies_with_the_cwa_key():
    d = GAEN_DATA / "cwa-real-2021-03-04"
    if not d.exists():
        pytest.skip("GAEN data not found")
    store = sotto.TrustStore().add_pem((d / "cwa_prod_public_key_262-v1.pem").read_bytes(), "262", "v1")
    kf = sotto.KeyFile.from_pair((d / "export.bin").read_bytes(), (d / "export.sig").read_bytes(), store)
    assert kf.info.verified and kf.info.region == "DE" and len(kf.keys()) == 15521
    with pytest.raises(sotto.SottoError):
        sotto.KeyFile.from_pair((d / "export.bin").read_bytes()[:-1], (d / "export.sig").read_bytes(), store)
