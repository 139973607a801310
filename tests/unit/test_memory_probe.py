"""The resident-memory probe the streaming tests rely on sees memory that is taken and held."""

from tests.support.memory import resident_memory


def test_the_probe_sees_64_mib_taken_and_a_block_that_takes_nothing_stays_small() -> None:
    with resident_memory() as idle:
        sum(range(1000))
    with resident_memory() as busy:
        held = bytearray(64 * 2**20)  # zero-filled: every page is touched
        held[::4096] = b"x" * len(held[::4096])
    assert busy.peak >= 60 * 2**20 > 16 * 2**20 > idle.peak
