"""Protocol functions against the EN Crypto Spec v1.2 test vectors (TestVectors.java)."""
import pytest

import sotto

TEK = bytes.fromhex("75c734c6dd1a782de7a965da5eb93125")
ENIN = 2642976


def test_version_matches_the_package():
    assert sotto.version() == sotto.__version__


def test_interval_number_is_ten_minute_floor_and_refuses_negative_times():
    assert sotto.interval_number(1585785600) == ENIN
    assert sotto.interval_number(1585785600 + 599) == ENIN
    with pytest.raises(sotto.SottoError) as e:
        sotto.interval_number(-1)
    assert e.value.name == "SOTTO_ERR_OUT_OF_RANGE"


def test_derive_rpis_gives_the_spec_vectors_and_a_wrong_tek_does_not():
    rpis = sotto.derive_rpis(TEK, ENIN, 144)
    assert len(rpis) == 144
    assert rpis[0].hex() == "8be6cd371c5c891604bfbe49df845096"
    assert rpis[1].hex() == "3c9a1de5dd6b02afa7fded7b570b3e56"
    wrong = bytes([TEK[0] ^ 1]) + TEK[1:]
    assert sotto.derive_rpis(wrong, ENIN, 1)[0] != rpis[0]


@pytest.mark.parametrize("tek,count", [(TEK[:15], 1), (TEK + b"\0", 1), (TEK, 0), (TEK, 145)])
def test_derive_rpis_refuses_bad_arguments(tek, count):
    with pytest.raises(sotto.SottoError) as e:
        sotto.derive_rpis(tek, ENIN, count)
    assert e.value.name == "SOTTO_ERR_INVALID_ARGUMENT"


def test_beacon_aem_and_metadata_round_trip():
    b = sotto.make_beacon(TEK, ENIN, sotto.Metadata(0, 8, 0))
    assert b.rpi.hex() == "8be6cd371c5c891604bfbe49df845096"
    assert b.aem.hex() == "72033874"
    assert sotto.open_metadata(b, TEK) == sotto.Metadata(0, 8, 0)
    # A wrong TEK never yields the true metadata.
    for i in range(16):
        wrong = bytearray(TEK)
        wrong[i] ^= 0x80
        try:
            assert sotto.open_metadata(b, bytes(wrong)) != sotto.Metadata(0, 8, 0)
        except sotto.SottoError as e:
            assert e.name == "SOTTO_ERR_INVALID_ARGUMENT"


def test_payloads_decode_in_both_forms_and_tampering_is_refused():
    b = sotto.make_beacon(TEK, ENIN, sotto.Metadata(0, 8, 0))
    ios = sotto.encode_advertising_data(b, sotto.ADV_WITH_FLAGS)
    android = sotto.encode_advertising_data(b, sotto.ADV_WITHOUT_FLAGS)
    assert len(ios) == 31 and len(android) == 28
    assert sotto.decode_payload(ios) == b
    assert sotto.decode_payload(android) == b
    assert sotto.decode_payload(b.service_data) == b
    for bad in (ios[:-1], ios + b"\0", android[:5] + bytes([android[5] ^ 1]) + android[6:], b"", b"\0" * 20 + b"\1"):
        with pytest.raises(sotto.SottoError) as e:
            sotto.decode_payload(bad)
        assert e.value.name == "SOTTO_ERR_INVALID_ARGUMENT"
