import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from noisyhw.codes.text import (
    ALPHABETS,
    WORD_LIST,
    Trie,
    bits_to_blocks,
    blocks_to_bits,
    character_error_rate,
    load_word_list,
    word_error_rate,
)
from noisyhw.errors import ParameterError

A27 = ALPHABETS["a27"]


@given(st.text(alphabet=" abcdefghijklmnopqrstuvwxyz", max_size=200))
@settings(max_examples=200, deadline=None)
def test_a27_round_trip(text):
    bits = A27.text_to_bits(text)
    assert bits.size == 5 * len(text)
    assert A27.bits_to_text(bits) == text


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=200))
@settings(max_examples=200, deadline=None)
def test_ascii_round_trip(text):
    a = ALPHABETS["ascii"]
    assert a.bits_to_text(a.text_to_bits(text)) == text


def test_bits_are_msb_first_and_blocks_round_trip():
    assert A27.text_to_bits("b").tolist() == [0, 0, 0, 1, 0]
    bits = A27.text_to_bits("hello world")
    blocks = bits_to_blocks(bits, 16)
    assert blocks.shape == (4, 16)
    assert np.array_equal(blocks_to_bits(blocks, bits.size), bits)


def test_unknown_characters_error_or_documented_escape():
    assert A27.normalize("Hello, World!") == "hello  world "
    with pytest.raises(ParameterError, match="outside"):
        A27.encode("Hello, World!", unknown="error")


def test_trie_answers_like_a_set():
    rng = np.random.default_rng(0)
    letters = np.array(list("abcdefghij"))
    words = {"".join(rng.choice(letters, rng.integers(1, 7))) for _ in range(3000)}
    trie = Trie.from_words(sorted(words))
    prefixes = {w[:i] for w in words for i in range(len(w) + 1)}
    assert trie.num_words == len(words)
    for _ in range(5000):
        q = "".join(rng.choice(letters, rng.integers(0, 8)))
        assert trie.is_word(q) == (q in words)
        assert trie.is_prefix(q) == (q in prefixes)


def test_trie_is_dynamic_and_counts():
    trie = Trie.from_words(["cat"])
    assert not trie.is_word("dog")
    for _ in range(3):
        trie.add("dog")
    assert trie.is_word("dog") and trie.count[trie.walk("dog")] == 3
    assert not trie.add("two words") and not trie.add("naïve")


def test_trie_counts_checked():
    """One count >= 1 per word: a short count list used to leak a bare StopIteration and a
    negative count was stored."""
    with pytest.raises(ParameterError, match="counts"):
        Trie.from_words(["a", "b"], "a27", [1])
    with pytest.raises(ParameterError, match="count"):
        Trie.from_words(["a", "b"], "a27", [-1, 2])
    trie = Trie.from_words(iter(["a", "b", "a"]), "a27", np.array([2, 1, 3]))
    assert trie.count[trie.walk("a")] == 5 and trie.count[trie.walk("b")] == 1


def test_trie_arrays_walk_matches():
    trie = Trie.from_words(["ab", "abc", "b"])
    children, is_word = trie.arrays()
    node = 0
    for c in "abc":
        node = children[node, A27.encode(c)[0]]
    assert node >= 0 and is_word[node]
    assert trie.valid_text("ab b abc a") is True and trie.valid_text("ab b abd") is False
    assert trie.valid_text("a b") is False


@pytest.mark.skipif(
    not WORD_LIST.is_file(), reason=f"{WORD_LIST} missing (Debian: apt-get install wamerican)"
)
def test_word_list_from_wamerican():
    words = load_word_list()
    assert len(words) > 50_000 and all(w.isalpha() and w.islower() for w in words[:1000])


def test_error_rates():
    assert character_error_rate("hello world", "hello world") == 0.0
    assert character_error_rate("hello world", "jello world") == pytest.approx(1 / 11)
    assert word_error_rate("the cat sat", "the bat sat") == pytest.approx(1 / 3)
    assert word_error_rate("the cat sat", "the cat") == pytest.approx(1 / 3)
    assert character_error_rate("abc", "abxc") == pytest.approx(1 / 3)
