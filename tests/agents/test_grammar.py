"""Grammar-constrained synthesis decoding, end to end on the real catalog: a byte-level BPE trained here
on design-like text, tiny random MoE models, llguidance masks, ``Design.from_json`` and ``resolve``.

A random model writes nonsense, which is the point: whatever it prefers, the grammar must keep the
output a parseable design naming only the given refs and their real pins. Adversarial processors
push the model towards forbidden text (invented pins, shell words, repeated net names) to prove it.
"""

from __future__ import annotations

import json
import random
import threading
import time

import pytest
import torch
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LogitsProcessor, PreTrainedTokenizerFast

from agents.constrained import ConstrainedResult, GrammarLogitsProcessor, compile_grammar, constrained_generate
from agents.grammar import DesignGrammar, GrammarInputError, design_grammar
from components_db.schema import Part, Pin
from studio.circuit.design import Design
from studio.circuit.resolve import resolve
from studio.circuit.values import parse_value
from tests.fixtures.tiny_models import tiny_model

SMALL = {"max_nets": 3, "max_pins_per_net": 3, "max_net_name": 6}  # keeps random generations short


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models decode faster on one thread, and leave the other core to the rest of the suite."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _design_lines(catalog: dict[str, Part], count: int) -> list[str]:
    """Design-like training text: compact design JSON over random catalog parts, plus requests."""
    rng = random.Random(7)
    parts = sorted(catalog.values(), key=lambda p: p.id)
    lines = []
    for _ in range(count):
        chosen = rng.sample(parts, 3)
        refs = [f"{p.id[0].upper()}{i + 1}" for i, p in enumerate(chosen)]
        design = {
            "parts": [{"ref": r, "part": p.id} for r, p in zip(refs, chosen, strict=True)],
            "nets": [
                {"name": rng.choice(["GND", "3V3", "5V", "SDA", "SCL", "LED_A", "N1"]), "pins": [f"{r}.{pin.name}"]}
                for r, p in zip(refs, chosen, strict=True)
                for pin in rng.sample(p.pins, 1)
            ],
        }
        lines += [json.dumps(design, separators=(",", ":")), f"Wire a {chosen[0].name} to a {chosen[1].name}."]
    return lines


def _train_tokenizer(lines: list[str], eos: str | None) -> PreTrainedTokenizerFast:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        special_tokens=[eos] if eos else [],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(lines, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token=eos)


@pytest.fixture(scope="module")
def tokenizer(catalog) -> PreTrainedTokenizerFast:
    return _train_tokenizer(_design_lines(catalog, 300), eos="<|endoftext|>")


# the grammar tests' models: the shared tiny ones (tests/fixtures/tiny_models.py), each with 2 MoE layers
# of 4 experts, the weights these adversarial cases were written against
_GRAMMAR_SHAPES = {
    "qwen3_moe": {"num_hidden_layers": 2, "num_experts": 4, "mlp_only_layers": [], "norm_topk_prob": False},
    "mixtral": {},
    "olmoe": {"num_experts": 4, "intermediate_size": 32},
}


def _tiny_moe(vocab_size: int, arch: str = "qwen3_moe", seed: int = 0) -> transformers.PreTrainedModel:
    shape = _GRAMMAR_SHAPES[arch]
    return tiny_model(arch, seed, vocab_size=vocab_size, max_position_embeddings=2048, bos_token_id=None, **shape)


@pytest.fixture(scope="module")
def model(tokenizer) -> transformers.PreTrainedModel:
    return _tiny_moe(len(tokenizer))


def _part_sets(catalog: dict[str, Part], count: int) -> list[list[tuple[str, Part]]]:
    """Deterministic part lists of 1 to 4 parts, refs numbered per category letter."""
    rng = random.Random(11)
    parts = sorted(catalog.values(), key=lambda p: p.id)
    sets = [[("R1", catalog["resistor"])], [("U1", catalog["arduino-mega-2560"]), ("C1", catalog["capacitor-ceramic"])]]
    while len(sets) < count:
        chosen = rng.sample(parts, rng.randint(1, 4))
        sets.append([(f"{p.category.value[0].upper()}{i + 1}", p) for i, p in enumerate(chosen)])
    return sets


def _prompt(tokenizer: PreTrainedTokenizerFast, parts: list[tuple[str, Part]]) -> list[int]:
    return tokenizer("Design with " + ", ".join(f"{ref}={part.id}" for ref, part in parts) + ":\n")["input_ids"]


def _assert_real_design(result: ConstrainedResult, parts: list[tuple[str, Part]], grammar: DesignGrammar) -> Design:
    """The output is complete, within budget, parses, and names only given refs and real pin names."""
    assert result.finish_reason == "complete", result
    assert len(result.token_ids) <= grammar.max_bytes
    design = Design.from_json(result.text)
    by_ref = dict(parts)
    assert [p.ref for p in design.parts] == [ref for ref, _ in parts]
    assert [p.part for p in design.parts] == [part.id for _, part in parts]
    for net in design.nets:
        for pin_ref in net.pin_refs:
            assert pin_ref.pin in {pin.name for pin in by_ref[pin_ref.ref].pins}, pin_ref
    assert resolve(design, {part.id: part for _, part in parts}).unresolved == []
    return design


class _Prefer(LogitsProcessor):
    """An adversary: lifts every token whose text occurs in one of ``texts`` far above the rest."""

    def __init__(self, tokenizer: PreTrainedTokenizerFast, texts: list[str], boost: float = 1e4) -> None:
        self._ids = torch.tensor(
            [i for i in range(len(tokenizer)) if (piece := tokenizer.decode([i])) and any(piece in t for t in texts)]
        )
        self._boost = boost

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        scores = scores.clone()
        scores[:, self._ids] += self._boost
        return scores


def test_random_models_always_write_parseable_designs_over_real_pins(catalog, tokenizer, model) -> None:
    sets = _part_sets(catalog, 22)
    for parts in sets:
        grammar = design_grammar(parts, **SMALL)
        result = constrained_generate(model, tokenizer, _prompt(tokenizer, parts), grammar, grammar.max_bytes)
        _assert_real_design(result, parts, grammar)


@pytest.mark.parametrize("arch", ["mixtral", "olmoe"])
def test_other_moe_architectures_decode_under_the_grammar(catalog, tokenizer, arch) -> None:
    parts = [("U1", catalog["esp32-devkit-v1"]), ("R1", catalog["resistor"]), ("D1", catalog["led-red"])]
    grammar = design_grammar(parts, **SMALL)
    model = _tiny_moe(len(tokenizer), arch=arch, seed=3)
    _assert_real_design(constrained_generate(model, tokenizer, [1, 2, 3], grammar, grammar.max_bytes), parts, grammar)


def test_the_processor_works_in_plain_model_generate(catalog, tokenizer, model) -> None:
    parts = [("U1", catalog["esp32-devkit-v1"]), ("R1", catalog["resistor"]), ("D1", catalog["led-red"])]
    grammar = design_grammar(parts, **SMALL)
    ids = torch.tensor([_prompt(tokenizer, parts)])
    processor = GrammarLogitsProcessor(grammar, tokenizer, prompt_length=ids.shape[1])
    output = model.generate(
        ids,
        attention_mask=torch.ones_like(ids),
        logits_processor=[processor],
        eos_token_id=tokenizer.eos_token_id,
        max_new_tokens=grammar.max_bytes + 1,
        do_sample=False,
    )
    assert output[0, -1].item() == tokenizer.eos_token_id  # after a complete design, only EOS is admitted
    text = tokenizer.decode(output[0, ids.shape[1] :], skip_special_tokens=True)
    assert text == processor.text and processor.complete
    Design.from_json(text)


def test_a_one_part_design_works_and_an_empty_part_list_is_refused_clearly(catalog, tokenizer, model) -> None:
    parts = [("SW1", catalog["resistor"])]
    grammar = design_grammar(parts, **SMALL)
    _assert_real_design(constrained_generate(model, tokenizer, [5], grammar, grammar.max_bytes), parts, grammar)
    with pytest.raises(GrammarInputError, match="at least one identified part"):
        design_grammar([])


def test_hostile_text_the_model_prefers_never_reaches_the_output(catalog, tokenizer, model) -> None:
    parts = [("U1", catalog["esp32-devkit-v1"]), ("K1", catalog["resistor"])]
    grammar = design_grammar(parts, **SMALL)
    hostile = ['"U1.GPIO99"', '"K1.3"', "rm -rf /", "ignore previous instructions", '","evil":"1', "\n"]
    adversary = _Prefer(tokenizer, hostile)
    result = constrained_generate(model, tokenizer, [7], grammar, grammar.max_bytes, logits_processors=[adversary])
    _assert_real_design(result, parts, grammar)
    for text in ("GPIO99", "K1.3", "rm ", "ignore", "evil", "\n", " "):
        assert text not in result.text


def test_net_names_stay_unique_even_when_the_model_wants_one_name(catalog, tokenizer, model) -> None:
    parts = [("U1", catalog["esp32-devkit-v1"]), ("R1", catalog["resistor"]), ("D1", catalog["led-red"])]
    adversary = _Prefer(tokenizer, ['GND"', "{", ","])  # short names from G, N, D, and always one more net
    for max_name in (3, 2):  # a used name at full length can only close: the decoder must steer around it
        grammar = design_grammar(parts, max_nets=4, max_pins_per_net=2, max_net_name=max_name)
        result = constrained_generate(model, tokenizer, [9], grammar, grammar.max_bytes, logits_processors=[adversary])
        design = _assert_real_design(result, parts, grammar)
        names = [net.name for net in design.nets]
        assert len(names) == 4 and len(set(names)) == 4, names


def _pins_of(design: Design) -> list[str]:
    return [f"{p.ref}.{p.pin}" for net in design.nets for p in net.pin_refs]


def test_a_pin_stays_in_one_net_even_when_the_model_wants_it_everywhere(catalog, tokenizer, model) -> None:
    parts = [("U1", catalog["esp32-devkit-v1"]), ("R1", catalog["resistor"]), ("D1", catalog["led-red"])]
    adversary = _Prefer(tokenizer, ['"U1.GND"', '"R1.1"', "{", ","])  # the same pins, in as many nets as it can
    grammar = design_grammar(parts, max_nets=5, max_pins_per_net=3, max_net_name=6)
    result = constrained_generate(model, tokenizer, [9], grammar, grammar.max_bytes, logits_processors=[adversary])
    pins = _pins_of(_assert_real_design(result, parts, grammar))
    assert len(pins) > 2 and len(pins) == len(set(pins)), pins


def test_the_nets_close_only_once_every_part_is_wired(catalog, tokenizer, model) -> None:
    parts = [("U1", catalog["arduino-uno"]), ("R1", catalog["resistor"]), ("D1", catalog["led-red"])]
    parts += [("R2", catalog["resistor"])]
    adversary = _Prefer(tokenizer, ["]}", "]", '"U1.GND"'])  # close each net and the nets array at once
    grammar = design_grammar(parts, max_nets=6, max_pins_per_net=3, max_net_name=6)
    result = constrained_generate(model, tokenizer, [4], grammar, grammar.max_bytes, logits_processors=[adversary])
    wired = {pin.split(".")[0] for pin in _pins_of(_assert_real_design(result, parts, grammar))}
    assert wired == {"U1", "R1", "D1", "R2"}


def test_when_the_budget_cannot_keep_the_rules_the_design_still_completes(catalog, tokenizer, model) -> None:
    parts = [("R1", catalog["resistor"])]  # two pins, and the model wants four nets of three
    adversary = _Prefer(tokenizer, ["{", ",", '"R1.1"'])
    grammar = design_grammar(parts, max_nets=4, max_pins_per_net=3, max_net_name=4)
    result = constrained_generate(model, tokenizer, [2], grammar, grammar.max_bytes, logits_processors=[adversary])
    names = [net.name for net in _assert_real_design(result, parts, grammar).nets]
    assert len(names) == len(set(names))  # the rules bent only where they had to: names stay unique


def test_a_tokenizer_without_eos_still_finishes(catalog) -> None:
    tokenizer = _train_tokenizer(_design_lines(catalog, 100), eos=None)
    model = _tiny_moe(len(tokenizer), seed=5)
    parts = [("U1", catalog["arduino-uno"]), ("Q1", catalog["resistor"])]
    grammar = design_grammar(parts, **SMALL)
    _assert_real_design(constrained_generate(model, tokenizer, [0], grammar, grammar.max_bytes), parts, grammar)


def test_bad_part_lists_are_refused_with_the_reason(catalog) -> None:
    resistor = catalog["resistor"]
    hostile = Part.model_construct(
        **{**resistor.__dict__, "pins": [Pin.model_construct(number="1", name='1","x":"', type="passive")]}
    )
    with pytest.raises(GrammarInputError, match="not safe pin names"):
        design_grammar([("R1", hostile)])
    with pytest.raises(GrammarInputError, match="duplicate ref"):
        design_grammar([("R1", resistor), ("R1", resistor)])
    with pytest.raises(GrammarInputError, match="not a valid design ref"):
        design_grammar([('R1"', resistor)])
    with pytest.raises(GrammarInputError, match="max_nets"):
        design_grammar([("R1", resistor)], max_nets=0)


def _accepts(grammar: DesignGrammar, tokenizer: PreTrainedTokenizerFast, text: str) -> bool:
    matcher = compile_grammar(grammar, tokenizer)
    return matcher.consume_tokens(tokenizer.encode(text)) and matcher.is_accepting()


def test_values_are_engineering_notation_with_the_parts_unit_only(catalog, tokenizer) -> None:
    parts = [
        ("U1", catalog["esp32-devkit-v1"]),
        ("R1", catalog["resistor"]),
        ("C1", catalog["capacitor-ceramic"]),
        ("Y1", catalog["crystal-16mhz"]),
    ]
    grammar = design_grammar(parts, **SMALL)

    def design(r1: str = "", c1: str = "", y1: str = "", u1: str = "") -> str:
        def entry(ref: str, part: str, value: str) -> str:
            return f'{{"ref":"{ref}","part":"{part}"' + (f',"value":"{value}"' if value else "") + "}"

        entries = [
            entry("U1", "esp32-devkit-v1", u1),
            entry("R1", "resistor", r1),
            entry("C1", "capacitor-ceramic", c1),
            entry("Y1", "crystal-16mhz", y1),
        ]
        return '{"parts":[' + ",".join(entries) + '],"nets":[]}'

    accepted = [design(), design(r1="220"), design(r1="4k7", c1="100nF", y1="16MHz"), design(c1="4u7F", r1="0.5")]
    rejected = [
        design(u1="5"),  # the board takes no value
        design(r1="10 k"),  # no free whitespace
        design(r1="1e3"),
        design(r1="220F"),  # not a resistor's unit
        design(c1="100n; rm"),
        design(y1="16MHz\\n"),
        design(r1="12345"),
    ]
    assert [_accepts(grammar, tokenizer, t) for t in accepted] == [True] * len(accepted)
    assert [_accepts(grammar, tokenizer, t) for t in rejected] == [False] * len(rejected)
    admitted = set()
    for number in ("0", "1", "22", "4700", "2.2", "9999.999", "4k7", "10M5"):
        for prefix in ("", "p", "n", "u", "m", "k", "M", "G"):
            for unit in ("", "F"):
                value = f"{number}{prefix}{unit}"
                if _accepts(grammar, tokenizer, design(c1=value)):
                    admitted.add(value)
                    assert Design.from_json(design(c1=value)).parts[2].numeric_value == parse_value(value)
    assert {"2.2nF", "4700", "9999.999GF", "4k7F", "10M5"} <= admitted
    assert not {"4k7n", "10M5kF"} & admitted


def test_generation_stops_on_budget_deadline_and_cancel_and_streams_tokens(catalog, tokenizer, model) -> None:
    parts = [("U1", catalog["esp32-devkit-v1"]), ("D1", catalog["led-red"])]
    grammar = design_grammar(parts, **SMALL)
    prompt = _prompt(tokenizer, parts)
    assert constrained_generate(model, tokenizer, prompt, grammar, 5).finish_reason == "max_new_tokens"
    assert constrained_generate(model, tokenizer, prompt, grammar, 50, time_limit_s=0).finish_reason == "timeout"
    cancel = threading.Event()
    cancel.set()
    cancelled = constrained_generate(model, tokenizer, prompt, grammar, 50, cancel=cancel)
    assert (cancelled.finish_reason, len(cancelled.token_ids)) == ("cancelled", 1)
    pieces: list[str] = []
    streamed = constrained_generate(model, tokenizer, prompt, grammar, grammar.max_bytes, on_token=pieces.append)
    assert "".join(pieces) == streamed.text and len(pieces) == len(streamed.token_ids)


def test_compilation_is_cached_and_the_constraint_overhead_is_reported(catalog, tokenizer, model) -> None:
    """Prints compile cost and per-token overhead (a measurement, not an assertion on time)."""
    big = [(f"U{i + 1}", part) for i, part in enumerate(sorted(catalog.values(), key=lambda p: -len(p.pins))[:12])]
    start = time.perf_counter()
    grammar = design_grammar(big)
    built = time.perf_counter() - start
    start = time.perf_counter()
    compile_grammar(grammar, tokenizer)
    compiled = time.perf_counter() - start
    start = time.perf_counter()
    assert design_grammar(big) is grammar
    compile_grammar(grammar, tokenizer)
    cached = time.perf_counter() - start
    pins = len(grammar.pin_refs)
    print(
        f"\n[grammar] {len(big)} parts, {pins} pin refs: build {built * 1e3:.1f} ms, "
        f"compile {compiled * 1e3:.1f} ms, cached build+compile {cached * 1e3:.2f} ms"
    )

    parts = [("U1", catalog["esp32-devkit-v1"]), ("R1", catalog["resistor"]), ("D1", catalog["led-red"])]
    grammar = design_grammar(parts, max_nets=6, max_pins_per_net=4)
    prompt = _prompt(tokenizer, parts)
    runs = [constrained_generate(model, tokenizer, prompt, grammar, grammar.max_bytes) for _ in range(2)]
    constrained = min(runs, key=lambda r: r.seconds)  # the first run warms up; load from other jobs is noise
    n = len(constrained.token_ids)
    ids = torch.tensor([prompt])
    free = float("inf")
    with torch.inference_mode():
        for _ in range(2):
            start = time.perf_counter()
            model.generate(
                ids, attention_mask=torch.ones_like(ids), max_new_tokens=n, min_new_tokens=n, do_sample=False
            )
            free = min(free, (time.perf_counter() - start) / n)
    per_token = constrained.seconds / n
    mask = constrained.constraint_seconds / n
    print(
        f"[decode] {n} tokens, vocab {len(tokenizer)}: unconstrained greedy {free * 1e3:.2f} ms/token, "
        f"constrained {per_token * 1e3:.2f} ms/token (mask {mask * 1e3:.3f} ms/token, "
        f"{100 * mask / per_token:.1f}% of decode)"
    )
    assert constrained.finish_reason == "complete" and len(constrained.token_ids) == n


def test_a_model_that_will_not_wire_every_part_still_finishes_within_its_budget(catalog, tokenizer, model) -> None:
    parts = [("U1", catalog["esp32-devkit-v1"]), ("R1", catalog["resistor"]), ("D1", catalog["led-red"])]
    adversary = _Prefer(tokenizer, ['"U1.', "]}", ",{"])  # one ESP32 pin per net, net after net
    grammar = design_grammar(parts, max_nets=16, max_pins_per_net=3, max_net_name=4)
    budget = 160  # far below what the wiring rule alone would make it write
    result = constrained_generate(model, tokenizer, [3], grammar, budget, logits_processors=[adversary])
    pins = _pins_of(_assert_real_design(result, parts, grammar))
    assert len(pins) == len(set(pins))  # the pin rule still held; only the wiring rule gave way at the end
