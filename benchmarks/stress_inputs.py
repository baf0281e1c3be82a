"""The stress benchmark's hostile inputs: real designs, part files, steering profiles and requests, mutated.

Every case is made from ``random.Random(f"{seed}:{index}")`` alone, so one ``--seed`` gives the same
cases on every run and machine, and a failing case can be made again from its index. A case is a list
of CLI calls (``Step``) and the files they read; paths and marker files are placeholders
(``{case}``, ``{marker}``) filled in where the case runs.

Mutations work on the parsed document (a field set to NaN, 1e999, a 5000-digit integer, a wrong type,
control characters, unicode oddities, a huge string, an injection payload; a key deleted, added or
given twice; a value nested 100k levels deep) and on its text (truncated, binary, empty, a BOM, UTF-16,
padded past the size limit), or replace the file by a special path (``/proc/self/mem``, ``/dev/zero``, a
folder, a symlink, a FIFO, a missing file).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from studio.circuit.examples import EXAMPLES_DIR

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = EXAMPLES_DIR
DATA = ROOT / "components_db" / "data"
DEV_PROMPTS = ROOT / "benchmarks" / "prompts" / "dev.jsonl"
BUNDLED = ROOT / "agents" / "bundled_model" / "weights"
MARKER_WORD = "stress-marker"  # every marker path holds it, so a netlist line carrying a payload shows it

# families of inputs and their share of ``--inputs``
SHARES = {"design": 0.42, "part": 0.22, "profile": 0.17, "request": 0.19}

PAYLOADS = (
    "\n.control\nshell touch {marker}\n.endc\n",
    "x\n.include /etc/passwd\n.control\nshell touch {marker}\n.endc",
    "<script>alert('{marker}')</script>",
    '"><svg onload="alert(1)"><foreignObject>',
    "]]><!-- <script>",
    "$(touch {marker})",
    "`touch {marker}`",
    "; touch {marker} #",
    "\x1b[31mred\x1b[0m\x1b]0;pwned\x07",
    "\x1b[2J\x1b[H\x1b[?1049h",
    "{{7*7}} ${7*7} %s%n",
)
CONTROL = "\x00\x01\x07\x08\x0b\x0c\x0e\x1b\x7f\r\u0085"
UNICODE_ODDITIES = (
    "\u202eevil\u202c",  # right-to-left override
    "\u2066isolate\u2069",
    "ze\u200bro\u200dwidth\ufeff",
    "e\u0301\u0301\u0301\u0301combining",
    "ＦＵＬＬＷＩＤＴＨ",
    "😀🔥\U0010fffd",
    "\udcff\ud800lone",  # lone surrogates: what the OS hands Python for bytes that are not UTF-8
    "İıǅß\u0130",
    "\u2028line\u2029para",
    "\ufffe\uffff",
)


@dataclass(frozen=True)
class Raw:
    """A token written into the document text as is: ``NaN``, ``1e999``, a 5000-digit integer."""

    json: str
    yaml: str | None = None  # its YAML spelling, where it differs

    def text(self, as_yaml: bool) -> str:
        return self.yaml if as_yaml and self.yaml is not None else self.json


@dataclass(frozen=True)
class Dup:
    """A mapping written with a key given twice: ``items`` in order, duplicates kept."""

    items: tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class Special:
    """A path that is not a plain file: made where the case runs (``studio_stress_run.materialize``)."""

    kind: str  # proc-mem, proc-status, dev-zero, dev-null, dev-urandom, folder, symlink-zero, dangling, missing, fifo


SPECIALS = (
    "proc-mem",
    "proc-status",
    "dev-zero",
    "dev-null",
    "dev-urandom",
    "folder",
    "symlink-zero",
    "symlink-proc",
    "dangling",
    "missing",
)


@dataclass
class Step:
    """One CLI call: ``argv`` with placeholders; ``follow_up`` runs only when every earlier call exited 0."""

    argv: list[str]
    follow_up: bool = False


@dataclass
class Case:
    index: int
    family: str
    kind: str
    steps: list[Step]
    files: dict[str, bytes | Special] = field(default_factory=dict)
    symlinks: dict[str, str] = field(default_factory=dict)  # name in the case folder -> target (``{case}``)
    mutations: list[str] = field(default_factory=list)  # what was done, for the reproduction
    timeout_s: float = 10.0


# -- serialising documents with raw tokens and duplicate keys --------------------------------------


def dump_json(value: object) -> str:
    return _flow(value, as_yaml=False)


def dump_yaml(value: object) -> str:
    """Block YAML when the document is plain; flow YAML (JSON-like) when it holds raw tokens."""
    if not _has_tokens(value):
        try:
            return yaml.safe_dump(value, sort_keys=False, allow_unicode=True)
        except (yaml.YAMLError, RecursionError, UnicodeEncodeError):
            pass
    return _flow(value, as_yaml=True)


def _flow(value: object, as_yaml: bool) -> str:
    """JSON text, or flow YAML (JSON-like, raw tokens in their YAML spelling, scalars ASCII-escaped)."""
    if isinstance(value, Raw):
        return value.text(as_yaml)
    pairs = value.items if isinstance(value, Dup) else value.items() if isinstance(value, dict) else None
    if pairs is not None:
        return "{" + ", ".join(f"{json.dumps(str(k))}: {_flow(v, as_yaml)}" for k, v in pairs) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v, as_yaml) for v in value) + "]"
    return json.dumps(value, ensure_ascii=as_yaml)  # a JSON scalar is a YAML scalar (\u escapes included)


def _has_tokens(value: object, depth: int = 0) -> bool:
    if depth > 200 or isinstance(value, Raw | Dup):
        return True
    if isinstance(value, dict):
        return any(_has_tokens(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(_has_tokens(v, depth + 1) for v in value)
    return False


# -- hostile values --------------------------------------------------------------------------------

NON_FINITE = (
    Raw("NaN", ".nan"),
    Raw("Infinity", ".inf"),
    Raw("-Infinity", "-.inf"),
    Raw("1e999", "1.0e999"),
    Raw("-1e999", "-1.0e999"),
)


def huge_number(rng: random.Random) -> object:
    return rng.choice(
        [
            1e308,
            -1e308,
            1.7976931348623157e308,
            5e-324,
            2**63,
            -(2**63) - 1,
            10**40,
            Raw("9" * 5000),
            Raw("1" + "0" * 400 + ".5"),
            Raw("1e400", "1.0e400"),
            -1,
            0,
        ]
    )


def hostile_string(rng: random.Random) -> str:
    kind = rng.choice(["payload", "payload", "control", "unicode", "huge", "empty", "spaces", "path", "long-line"])
    if kind == "payload":
        return rng.choice(["", "LED ", "x"]) + rng.choice(PAYLOADS)
    if kind == "control":
        return "".join(rng.choice(CONTROL + "ab") for _ in range(rng.randint(1, 12)))
    if kind == "unicode":
        return rng.choice(UNICODE_ODDITIES)
    if kind == "huge":
        return rng.choice(["A", "é", "😀", "<"]) * rng.choice([300, 5000, 100_000, 1_000_000])
    if kind == "empty":
        return ""
    if kind == "spaces":
        return rng.choice([" ", "\t\n ", "\u00a0\u3000"])
    if kind == "path":
        return rng.choice(["../../etc/passwd", "/proc/self/mem", "~/.ssh/id_rsa", "C:\\con\\aux", "-rf"])
    return "word " * 5000


def hostile_value(rng: random.Random) -> object:
    kind = rng.choice(["non-finite", "non-finite", "huge", "string", "string", "type", "bool"])
    if kind == "non-finite":
        return rng.choice(NON_FINITE)
    if kind == "huge":
        return huge_number(rng)
    if kind == "string":
        return hostile_string(rng)
    if kind == "type":
        return rng.choice([[], {}, None, [1, 2, 3], {"a": {"b": []}}, "12", -0.0, [None]])
    return rng.choice([True, False])


def nested(value: object, depth: int) -> object:
    """``value`` inside ``depth`` lists (a raw token for deep nesting, built without recursion)."""
    if depth <= 200:
        for _ in range(depth):
            value = [value]
        return value
    return Raw("[" * depth + dump_json(value) + "]" * depth, "[" * depth + _flow(value, as_yaml=True) + "]" * depth)


# -- structural mutation ---------------------------------------------------------------------------


def paths_of(value: object, prefix: tuple = (), depth: int = 0) -> list[tuple]:
    """Every path into a parsed document (dict keys and list indexes), containers included."""
    found = [prefix]
    if depth > 12:
        return found
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths_of(item, (*prefix, key), depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value[:12]):
            found += paths_of(item, (*prefix, i), depth + 1)
    return found


def get_at(doc: object, path: tuple) -> object:
    for step in path:
        doc = doc[step]
    return doc


def set_at(doc: object, path: tuple, value: object) -> object:
    if not path:
        return value
    parent = get_at(doc, path[:-1])
    parent[path[-1]] = value
    return doc


def mutate_document(doc: object, rng: random.Random, notes: list[str], focus: list[tuple] = ()) -> object:
    """One structural change at a random path (or one of ``focus``, the fields that matter most)."""
    paths = [p for p in paths_of(doc) if p]
    if not paths:
        return hostile_value(rng)
    path = rng.choice(list(focus)) if focus and rng.random() < 0.5 else rng.choice(paths)
    try:
        current = get_at(doc, path)
    except (KeyError, IndexError, TypeError):
        path = rng.choice(paths)
        current = get_at(doc, path)
    where = ".".join(str(p) for p in path)
    op = rng.choice(["value", "value", "value", "delete", "add-key", "duplicate", "deep", "empty", "repeat"])
    parent = get_at(doc, path[:-1])
    if op == "delete" and isinstance(parent, dict | list):
        del parent[path[-1]]
        notes.append(f"deleted {where}")
        return doc
    if op == "add-key" and isinstance(current, dict):
        key = rng.choice(["unknown", "__proto__", "$ref", "x" * 300, "\x1b[31m"])
        current[key] = hostile_value(rng)
        notes.append(f"added key {key[:20]!r} at {where}")
        return doc
    if op == "duplicate" and isinstance(parent, dict):
        items = [(str(k), v) for k, v in parent.items()] + [(str(path[-1]), hostile_value(rng))]
        notes.append(f"key {where} given twice")
        return set_at(doc, path[:-1], Dup(tuple(items)))
    if op == "deep":
        depth = rng.choice([40, 100, 1000, 100_000])
        notes.append(f"{where} nested {depth} deep")
        return set_at(doc, path, nested(current, depth))
    if op == "empty":
        notes.append(f"{where} emptied")
        return set_at(doc, path, type(current)() if isinstance(current, dict | list | str) else None)
    if op == "repeat" and isinstance(current, list) and current and len(dump_json(current)) < 2000:
        times = rng.choice([50, 500, 5000])
        notes.append(f"{where} repeated x{times}")
        return set_at(doc, path, current * times)
    value = hostile_value(rng)
    notes.append(f"{where} = {_short(value)}")
    return set_at(doc, path, value)


def _short(value: object) -> str:
    if isinstance(value, Raw):
        return value.json[:24] + ("..." if len(value.json) > 24 else "")
    text = repr(value)
    return text[:40] + ("..." if len(text) > 40 else "")


# -- text mutation ---------------------------------------------------------------------------------


def mutate_text(data: bytes, rng: random.Random, notes: list[str]) -> bytes:
    op = rng.choice(
        ["truncate", "truncate", "binary", "bytes", "empty", "bom", "utf16", "pad", "deep", "digits", "nul"]
    )
    notes.append(f"text: {op}")
    if op == "truncate":
        return data[: rng.randint(0, max(0, len(data) - 1))]
    if op == "binary":
        return rng.randbytes(rng.choice([16, 4096, 100_000]))
    if op == "bytes":
        at = rng.randint(0, len(data))
        return data[:at] + rng.choice([b"\xff\xfe", b"\xc3\x28", b"\x00\x00", b"\xed\xa0\x80", b"\x80"]) + data[at:]
    if op == "empty":
        return rng.choice([b"", b" ", b"\n\n", b"null", b"[]", b"{}", b"0", b'""'])
    if op == "bom":
        return b"\xef\xbb\xbf" + data
    if op == "utf16":
        return data.decode("utf-8", "replace").encode("utf-16")
    if op == "pad":
        return data + b" " * rng.choice([2_100_000, 3_000_000])
    if op == "deep":
        depth = rng.choice([1000, 100_000])
        return b"[" * depth + b"]" * rng.choice([0, depth])
    if op == "digits":
        return b'{"x": ' + b"7" * rng.choice([5000, 100_000]) + b"}"
    at = rng.randint(0, len(data))
    return data[:at] + b"\x00" + data[at:]


def special_or(rng: random.Random, data: bytes, notes: list[str], rate: float = 0.06) -> bytes | Special:
    """Mostly ``data``; at ``rate`` a special path in its place (a FIFO once in a while)."""
    if rng.random() >= rate:
        return data
    kind = "fifo" if rng.random() < 0.03 else rng.choice(SPECIALS)
    notes.append(f"special path: {kind}")
    return Special(kind)


def inject(rng: random.Random) -> str:
    return rng.choice(PAYLOADS)


# -- the real inputs mutations start from ----------------------------------------------------------


def example_designs() -> list[dict]:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from sample_designs import esp32_project

    designs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.json"))]
    designs += [esp32_project(n).model_dump(mode="json", exclude_none=True) for n in (6, 12, 30)]
    return designs


def catalog_parts() -> dict[str, dict]:
    parts: dict[str, dict] = {}
    for path in sorted(DATA.glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            parts[entry["id"]] = entry
    return parts


def dev_prompts() -> list[str]:
    lines = DEV_PROMPTS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["prompt"] for line in lines if line.strip()]


def bundled_identity() -> dict:
    config = json.loads((BUNDLED / "config.json").read_text(encoding="utf-8"))
    layers = config["num_hidden_layers"]
    return {
        "name": "bundled",
        "moe_layers": list(range(layers)),
        "experts_per_layer": config["num_local_experts"],
        "top_k": config["num_experts_per_tok"],
    }


def valid_profile(rng: random.Random, identity: dict, name: str = "stress") -> dict:
    """A steering profile the bundled model accepts: a few experts off, forced, biased or re-weighted."""
    n_layers, n_experts = len(identity["moe_layers"]), identity["experts_per_layer"]
    layers = {}
    for layer in rng.sample(range(n_layers), rng.randint(1, min(3, n_layers))):
        experts = rng.sample(range(n_experts), 4)
        layers[str(layer)] = {
            "off": experts[:1],
            "force": experts[1:2] if rng.random() < 0.3 else [],
            "bias": {str(experts[2]): round(rng.uniform(-2, 2), 3)},
            "scale": {str(experts[3]): round(rng.uniform(0.5, 1.5), 3)},
        }
    stage = rng.choice(["*", "identify", "reason", "synthesize"])
    return {
        "version": 1,
        "name": name,
        "description": "made by benchmarks/stress.py",
        "model": json.loads(json.dumps(identity)),  # a copy: mutations must not reach the shared identity
        "mode": rng.choice(["reroute", "drop"]),
        "stages": {stage: {"layers": layers}},
    }


@dataclass
class Bases:
    """The real inputs, loaded once per process."""

    designs: list[dict]
    parts: dict[str, dict]
    prompts: list[str]
    identity: dict

    @classmethod
    def load(cls) -> Bases:
        return cls(example_designs(), catalog_parts(), dev_prompts(), bundled_identity())
