from shared.api_keys import KEY_SCHEME, key_hash, new_key, prefix_of


def test_a_key_splits_into_scheme_id_and_a_256_bit_secret_whatever_the_draw() -> None:
    keys = [new_key() for _ in range(2000)]
    for key in keys:
        scheme, key_id, secret = key.text.split("_")
        assert f"{scheme}_" == KEY_SCHEME and key_id == key.id and len(key_id) == 12
        assert len(secret) == 43 and secret.isalnum() and secret.isascii()
        assert key.text.startswith(prefix_of(key.id)) and key.hash == key_hash(key.text)
    assert len({key.text for key in keys}) == len(keys)
