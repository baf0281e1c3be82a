"""The bundled model's tokenizer: lossless, with refs, pins, ids and JSON punctuation kept compact."""

from __future__ import annotations

from agents.bundled_model.tokenizer import EOS, encode_example


def test_round_trip(corpus_tokenizer):
    for text in [
        '{"name":"U2_DATA","pins":["U2.DATA","U1.GPIO32","R1.2"]}',
        "Wire a DHT22 to an ESP32 at 3.3 V, naïve café ✓ 12V fan — ok?",
        "  leading spaces and\nnew lines\t tabs  ",
    ]:
        ids = corpus_tokenizer(text, add_special_tokens=False).input_ids
        assert corpus_tokenizer.decode(ids) == text


def test_end_of_text_is_eos_and_pad(corpus_tokenizer):
    assert corpus_tokenizer.eos_token == EOS
    assert corpus_tokenizer.pad_token_id == corpus_tokenizer.eos_token_id
    assert corpus_tokenizer("a request").input_ids[0] != corpus_tokenizer.eos_token_id  # no BOS/EOS added


def test_refs_pins_and_json_punctuation_tokenize_compactly(corpus_tokenizer):
    pieces = corpus_tokenizer.convert_ids_to_tokens(
        corpus_tokenizer('["U1.GPIO2","R1.1"]},{"name":"GND"', add_special_tokens=False).input_ids
    )
    assert "U1." in pieces and "R1." in pieces
    assert "GND" in pieces
    assert '","' in pieces
    assert len(pieces) <= 14  # of 34 characters


def test_examples_are_the_prompt_alone_then_the_answer_and_eos(corpus_tokenizer):
    ids, prompt_len = encode_example(corpus_tokenizer, "Parts:\n", '{"parts":[]}')
    assert ids[:prompt_len] == corpus_tokenizer("Parts:\n").input_ids
    assert ids[-1] == corpus_tokenizer.eos_token_id
    assert corpus_tokenizer.decode(ids[prompt_len:-1]) == '{"parts":[]}'
