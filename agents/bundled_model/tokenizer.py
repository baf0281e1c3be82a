"""The bundled model's tokenizer: byte-level BPE trained on the corpus, with a pre-split made for designs.

The pre-split keeps apart what the stages write most: a ref with its dot (``U1.``, ``BT2.``), a word or
part id with its digits and hyphens (``GPIO4``, ``esp32-devkit-v1``, ``U2_DATA``, ``3V3``) and runs of
JSON punctuation (``","``, ``"},{"``), so BPE learns each as one token (or a few) instead of breaking a
pin name into letters and digits. Bytes cover everything else: no text is out of vocabulary.

    tokenizer = train_tokenizer(texts)             # a PreTrainedTokenizerFast
    tokenizer.save_pretrained(folder)
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

EOS = "<|endoftext|>"
VOCAB_SIZE = 4096
# alternatives in order: a ref and its dot; a word, id or pin name (letters, digits, inner - or _);
# a run of other printable characters (JSON punctuation); whitespace (a final space stays with the next word)
PRE_SPLIT = (
    r" ?[A-Z]{1,4}[0-9]{1,3}\."
    r"| ?[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*"
    r"| ?[^\sA-Za-z0-9]+"
    r"|\s+(?!\S)|\s+"
)


def _pre_tokenizer() -> pre_tokenizers.PreTokenizer:
    return pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRE_SPLIT), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )


def train_tokenizer(texts: Iterable[str], vocab_size: int = VOCAB_SIZE) -> PreTrainedTokenizerFast:
    """A byte-level BPE of ``vocab_size`` tokens (``<|endoftext|>`` is id 0: end of sequence and padding)."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = _pre_tokenizer()
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        min_frequency=2,
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    return wrap(tokenizer)


def wrap(tokenizer: Tokenizer) -> PreTrainedTokenizerFast:
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token=EOS,
        pad_token=EOS,
        model_max_length=2048,
        clean_up_tokenization_spaces=False,
    )


def encode_example(tokenizer: PreTrainedTokenizerFast, prompt: str, answer: str) -> tuple[list[int], int]:
    """``prompt_ids + answer_ids + [eos]`` and the prompt's length, tokenized as the pipeline does: the
    prompt alone (``tokenizer(prompt).input_ids``), so training sees exactly the ids inference feeds."""
    prompt_ids = tokenizer(prompt).input_ids
    answer_ids = tokenizer(answer, add_special_tokens=False).input_ids
    return [*prompt_ids, *answer_ids, tokenizer.eos_token_id], len(prompt_ids)
