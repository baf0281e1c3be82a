"""Requests written about a project in many styles (``Writer.request``), with the words of ``phrasings``."""

from __future__ import annotations

import itertools
import random
import re

from agents.bundled_model.corpus import phrasings as P
from agents.bundled_model.corpus.noise import render_units
from agents.bundled_model.corpus.projects import Project, Unit

NEW_STYLES = ("goal_story", "context_question", "multi", "colloquial")


def _article(phrase: str) -> str:
    word = phrase.split()[0] if phrase.split() else phrase
    if word[:1].isdigit():
        return "an" if word[:1] == "8" or word.startswith("18") or word.startswith("11") else "a"
    acronym = word.isupper() or any(ch.isdigit() for ch in word)
    if acronym and len(word) > 1:
        return "an" if word[0].upper() in "AEFHILMNORSX" else "a"
    return "an" if word[:1].lower() in "aeiou" else "a"


def _plural(phrase: str) -> str:
    words = phrase.split()
    last = words[-1]
    if last.lower().endswith(("s", "x", "sh", "ch")):
        last += "es"
    elif last.lower().endswith("y") and last[-2:-1].lower() not in "aeiou":
        last = last[:-1] + "ies"
    else:
        last += "s"
    return " ".join([*words[:-1], last])


def _clean_name(name: str) -> str:
    """A knowledge-base name without its parenthesis or a trailing size ("Red LED 5 mm" -> "Red LED")."""
    name = re.sub(r"\s*\([^)]*\)", "", name)
    return re.sub(r"\s+\d+(?:\.\d+)?\s?mm$", "", name).strip()


class Writer:
    """Writes natural-language requests about a project."""

    def __init__(self, kb, rng: random.Random) -> None:
        self.kb = kb
        self.rng = rng

    # names -------------------------------------------------------------------------------------

    def name(self, part_id: str) -> str:
        r = self.rng
        part = self.kb.get(part_id)
        extra = P.NAMES.get(part_id, [])
        x = r.random()
        if extra and x < 0.5:
            name = r.choice(extra)
        elif part.aliases and x < 0.82:
            name = r.choice(part.aliases)
        elif x < 0.95:
            name = _clean_name(part.name)
        else:
            name = part.id
        heads = P.HEADS.get(part.category.value, [""])
        if r.random() < 0.2 and any(ch.isdigit() for ch in name) and len(name.split()) == 1:
            head = r.choice(heads)
            if head:
                name = f"{name} {head}"
        return name

    def noun(self, part_id: str, quantity: int, terse: bool = False) -> str:
        r = self.rng
        name = self.name(part_id)
        if quantity == 1:
            if terse:
                return name
            x = r.random()
            if x < 0.78:
                return f"{_article(name)} {name}"
            if x < 0.86:
                return f"one {name}"
            if x < 0.93:
                return f"the {name}"
            return name
        word = r.choice(P.COUNT_WORDS.get(quantity, [str(quantity)]))
        x = r.random()
        if terse:
            return r.choice([f"{quantity}x {name}", f"{name} x{quantity}", f"{quantity} {_plural(name)}"])
        if x < 0.65:
            return f"{word} {_plural(name)}" if word not in ("2x", "3x", "4x", "8x") else f"{word} {name}"
        if x < 0.8:
            return f"{_plural(name)} x{quantity}"
        if x < 0.9:
            return f"{_plural(name)} ({quantity})"
        return f"{quantity} of the {_plural(name)}"

    def unit_noun(self, unit: Unit, terse: bool = False) -> str:
        r = self.rng
        if unit.kind == "leds":
            colours = [self.kb.get(pid).id.removeprefix("led-") for pid, _ in unit.parts]
            if terse:
                return " ".join(f"{c} led" for c in colours)
            listed = ", ".join(colours[:-1]) + f" and {colours[-1]}"
            return r.choice(
                [
                    f"{listed} LEDs",
                    " and ".join(f"{_article(c)} {c} LED" for c in colours),
                    f"{len(colours)} LEDs ({', '.join(colours)})",
                ]
            )
        if unit.kind == "driven":
            (load, q), (driver, _) = unit.parts
            link = r.choice(["through", "via", "with", "driven by", "using"]) if not terse else r.choice(["+", ""])
            return f"{self.noun(load, q, terse)} {link} {self.noun(driver, 1, terse)}".replace("  ", " ")
        if unit.kind == "shift":
            (reg, _), (led, q) = unit.parts
            if terse:
                return f"{self.noun(reg, 1, True)} {self.noun(led, q, True)}"
            return f"{self.noun(led, q)} {r.choice(['through', 'via', 'on', 'driven by'])} {self.noun(reg, 1)}"
        if unit.kind == "pair":
            (a, _), (b, _) = unit.parts
            if terse:
                return f"{self.noun(a, 1, True)} {self.noun(b, 1, True)}"
            return f"{self.noun(a, 1)} {r.choice(['with', 'and', 'plus'])} {self.noun(b, 1)}"
        if unit.kind == "power":
            names = [self.noun(pid, 1, terse) for pid, _ in unit.parts if pid not in unit.implied]
            if terse:
                return " ".join(names)
            if len(names) == 1:
                return names[0]
            return f"{names[0]} {r.choice(['through', 'via', 'with'])} " + " and ".join(names[1:])
        pid, q = unit.parts[0]
        return self.noun(pid, q, terse)

    def unknown_noun(self, name: str, what: str, terse: bool = False) -> str:
        phrase = f"{name} {what}".strip() if self.rng.random() < 0.85 else name
        return phrase if terse else f"{_article(phrase)} {phrase}"

    def board_noun(self, board: str | None, terse: bool = False) -> str:
        if board is None:
            return ""
        name = self.name(board)
        if terse:
            return name
        return self.rng.choice(
            [
                f"{_article(name)} {name}",
                f"an {name}" if _article(name) == "an" else f"a {name}",
                f"my {name}",
                f"the {name}",
            ]
        )

    def goal_of(self, unit: Unit) -> str | None:
        """A goal phrase for a single-part unit whose part has goals (quantity 1 only)."""
        if unit.kind != "part" or unit.parts[0][1] != 1:
            return None
        goals = P.GOALS.get(unit.parts[0][0])
        return self.rng.choice(goals) if goals else None

    def action(self, unit: Unit, third: bool) -> str:
        """``reads a DHT22`` / ``read a DHT22``; a goal phrase sometimes (if ``third`` is False)."""
        r = self.rng
        pid = unit.parts[0][0]
        part = self.kb.get(pid)
        if unit.kind == "power":
            head = (
                r.choice(["runs from", "is powered by", "runs off"])
                if third
                else r.choice(["run from", "be powered by"])
            )
            return f"{head} {self.unit_noun(unit)}"
        kind = P.KIND_OVERRIDES.get(pid) or P.CATEGORY_KINDS.get(part.category.value, "ic")
        if unit.kind in ("driven",):
            kind = "drive" if kind not in ("move",) else kind
        if unit.kind == "shift":
            kind = "light"
        base, third_form = r.choice(P.VERBS[kind])
        return f"{third_form if third else base} {self.unit_noun(unit)}"

    # whole requests --------------------------------------------------------------------------

    def _join(self, items: list[str], final: str | None = None) -> str:
        if not items:
            return ""
        if len(items) == 1:
            return items[0]
        final = final or self.rng.choice([" and ", ", and ", " and ", " plus ", ", "])
        return ", ".join(items[:-1]) + final + items[-1]

    def request(self, project: Project, style: str) -> str:
        r = self.rng
        units = list(project.units)
        if r.random() < 0.3:
            r.shuffle(units)
        unknown = [self.unknown_noun(n, w) for n, w in project.unknown]
        board = self.board_noun(project.board)
        if style == "terse":
            return self._terse(project, units)
        if style == "list":
            items = [self.board_noun(project.board, True)] if project.board else []
            items += [self.unit_noun(u) for u in units] + [self.unknown_noun(n, w, True) for n, w in project.unknown]
            items = [i for i in items if i]
            r.shuffle(items) if r.random() < 0.3 else None
            text = r.choice(P.LIST_TEMPLATES).format(items=", ".join(items))
        elif style == "goal":
            text = self._goal(project, units, board, unknown)
        elif style == "goal_story":
            text = self._goal_story(project, units, board, unknown)
        elif style == "context_question":
            text = self._context_question(project, units, board, unknown)
        elif style == "multi":
            text = self._multi(project, units, board, unknown)
        elif style == "colloquial":
            return self._colloquial(project, units)
        elif style == "subject_verb" and project.board:
            actions = [self.action(u, True) for u in units] + [f"uses {u}" for u in unknown]
            template = r.choice(P.SUBJECT_VERB)
            text = template.format(board=board, Board=board[:1].upper() + board[1:], actions=self._join(actions))
        elif style == "story":
            text = self._story(project, units, board, unknown)
        elif style == "titled":
            title = r.choice(P.PROJECT_TITLES)
            body = self._sentence_body(project, units, board, unknown)
            text = f"{title}: {body}"
        else:
            parts = self._join([self.unit_noun(u) for u in units] + unknown)
            if not board:
                text = r.choice(
                    [
                        f"Wire up {parts}.",
                        f"Connect {parts}.",
                        f"How do I wire {parts}?",
                        f"Design a circuit with {parts}.",
                        f"Make a circuit using {parts}.",
                        f"What's the schematic for {parts}?",
                        f"I need {parts} wired together.",
                    ]
                )
            else:
                template = r.choice(P.QUESTION if style == "question" else P.IMPERATIVE)
                text = template.format(parts=parts, board=board)
        return self._decorate(text, style)

    def _sentence_body(self, project: Project, units: list[Unit], board: str, unknown: list[str]) -> str:
        r = self.rng
        if board and r.random() < 0.6:
            actions = [self.action(u, True) for u in units] + [f"uses {u}" for u in unknown]
            return f"{board} {self._join(actions)}."
        parts = self._join([self.unit_noun(u) for u in units] + unknown)
        if board:
            return f"{parts} {r.choice(['on', 'with', 'driven by', 'from'])} {board}."
        return f"{parts}."

    def _goal(self, project: Project, units: list[Unit], board: str, unknown: list[str]) -> str:
        r = self.rng
        phrases = []
        for u in units:
            goal = self.goal_of(u)
            phrases.append(goal if goal and r.random() < 0.85 else self.action(u, False))
        phrases += [f"use {u}" for u in unknown]
        goals = self._join(phrases)
        template = r.choice(P.GOAL_ONLY)
        if not board:
            template = r.choice([t for t in P.GOAL_ONLY if "{board}" not in t])
        text = template.format(board=board, goals=goals)
        return text[:1].upper() + text[1:]

    def _story(self, project: Project, units: list[Unit], board: str, unknown: list[str]) -> str:
        r = self.rng
        opener = r.choice(P.STORY_OPENERS).format(project=r.choice(P.PROJECTS), person=r.choice(P.PERSONS))
        sentences = [opener]
        goal_units = [u for u in units if self.goal_of(u) is not None and r.random() < 0.5]
        noun_units = [u for u in units if u not in goal_units]
        if goal_units:
            goals = self._join([self.goal_of(u) or "" for u in goal_units])
            sentences.append(r.choice(P.STORY_GOAL).format(goals=goals))
        nouns = [self.unit_noun(u) for u in noun_units] + unknown
        if nouns or board:
            if board and nouns:
                sentences.append(r.choice(P.STORY_HAVE).format(board=board, parts=self._join(nouns)))
            elif board:
                sentences.append(f"It runs on {board}.")
            else:
                sentences.append(f"I have {self._join(nouns)}.")
        if r.random() < 0.5:
            sentences.append(
                r.choice(
                    [
                        "How do I wire it?",
                        "Can you draw the circuit?",
                        "What's the wiring?",
                        "Please design the schematic.",
                        "Help!",
                        "Where does everything connect?",
                    ]
                )
            )
        if r.random() < 0.3:
            sentences.insert(r.randint(1, len(sentences)), r.choice(P.FILLER))
        return " ".join(sentences)

    # wording beyond the templates: stories, questions with context, several requests, chat writing ---

    def _doing(self, unit: Unit, goal_share: float = 0.85) -> str:
        """What a unit is for: its goal (the part named only by its function) or an action naming it."""
        goal = self.goal_of(unit)
        return goal if goal and self.rng.random() < goal_share else self.action(unit, False)

    def _details(self, project: Project, chance: float) -> list[str]:
        """At most one sentence with numbers and units about a part of the project (``UNIT_DETAILS``)."""
        ids = ([project.board] if project.board else []) + [pid for u in project.units for pid, _ in u.parts]
        options = [t for pid in ids for t in P.UNIT_DETAILS.get(pid, [])]
        if not options or self.rng.random() >= chance:
            return []
        return [render_units(self.rng.choice(options), self.rng)]

    def _goal_story(self, project: Project, units: list[Unit], board: str, unknown: list[str]) -> str:
        """A situation and what the person wants; parts named by function where a goal names them."""
        r = self.rng
        ids = [u.parts[0][0] for u in units if u.kind == "part" and u.parts[0][1] == 1]
        situations = [s for pid in ids for s in P.SITUATIONS.get(pid, [])]
        situation = r.choice(situations) if situations and r.random() < 0.85 else r.choice(P.GENERIC_SITUATIONS)
        wants = [self._doing(u, 0.95) for u in units] + [f"use {u}" for u in unknown]
        want = r.choice(P.WANTS).format(goals=self._join(wants))
        if r.random() < 0.4:
            text = f"{situation[:1].upper()}{situation[1:]}, {want}"
        else:
            text = f"{situation[:1].upper()}{situation[1:]}. {want[:1].upper()}{want[1:]}"
        sentences = [text]
        if board:
            sentences.append(r.choice(P.STORY_BOARDS).format(board=board))
        sentences += self._details(project, 0.35)
        return " ".join(sentences)

    def _context_question(self, project: Project, units: list[Unit], board: str, unknown: list[str]) -> str:
        """Background first (what the person has), then the question."""
        r = self.rng
        asked = [u for u in units if self.goal_of(u) is not None and r.random() < 0.5]
        have = [self.unit_noun(u) for u in units if u not in asked] + unknown
        if not have and not board and asked:
            have, asked = [self.unit_noun(asked[0])], asked[1:]
        items = self._join(([board] if board else []) + have)
        sentences = [r.choice(P.HAVE_CONTEXT).format(items=items)] if items else []
        sentences += self._details(project, 0.3)
        if asked:
            goals = self._join([self.goal_of(u) or "" for u in asked])
            sentences.append(r.choice(P.CONTEXT_QUESTIONS).format(goals=goals))
        else:
            sentences.append(r.choice(P.CONTEXT_QUESTIONS_PLAIN))
        text = " ".join(sentences)
        if len(have) + bool(board) == 1:  # one thing: "it", not "them"
            text = re.sub(r"\bthem all\b|\bthem\b", "it", re.sub(r"\bthey\b", "it", text)).replace(" together?", "?")
            text = text.replace("Can it work together, and how do I wire it?", "How do I wire it?")
        return text

    def _multi(self, project: Project, units: list[Unit], board: str, unknown: list[str]) -> str:
        """Two or three sub-requests joined, or bullet-like lines."""
        r = self.rng
        doings = [self._doing(u, 0.6) for u in units] + [f"use {u}" for u in unknown]
        if r.random() < 0.35 and len(doings) >= 2:
            intros = P.BULLET_INTROS if board else [i for i in P.BULLET_INTROS if "{board}" not in i]
            intro = r.choice(intros)
            mark = r.choice(P.BULLET_MARKS)
            lines = [intro.format(board=board)] + [f"{mark}{d}" for d in doings]
            if board and "{board}" not in intro:
                lines.append(f"{mark}{r.choice(['run it all on', 'board:', 'use'])} {board}")
            return "\n".join(lines + self._details(project, 0.3))
        if len(doings) == 1:
            doings = [f"get {board} running" if board else "build a small circuit", *doings]
        groups = 3 if len(doings) >= 3 and r.random() < 0.4 else 2
        cut = sorted(r.sample(range(1, len(doings)), groups - 1))
        bounds = [0, *cut, len(doings)]
        subs = [self._join(doings[a:b]) for a, b in itertools.pairwise(bounds)]
        template = r.choice(P.MULTI_THREE if groups == 3 else P.MULTI_TWO)
        fields = dict(zip("abc", subs, strict=False))
        fields.update({k.upper(): v[:1].upper() + v[1:] for k, v in list(fields.items())})
        text = template.format(**fields)
        if board and board not in text:
            lead = r.choice(P.MULTI_BOARD).format(board=board, Board=board[:1].upper() + board[1:])
            text = lead + (text if lead.endswith(". ") else text[:1].lower() + text[1:])
        return " ".join([text, *self._details(project, 0.25)])

    def _colloquial(self, project: Project, units: list[Unit]) -> str:
        """Chat and non-native writing: pls, u, gonna, wanna, dropped articles, wrong prepositions."""
        r = self.rng
        names = [n for n, _ in project.unknown]
        board = self.board_noun(project.board, terse=True)
        parts = self._join([self.unit_noun(u, terse=r.random() < 0.6) for u in units] + names)
        goals = self._join([self._doing(u, 0.7) for u in units] + [f"use {n}" for n in names])
        templates = P.COLLOQUIAL if board else P.COLLOQUIAL_NO_BOARD
        if not parts:
            templates = [t for t in templates if "{parts}" not in t]
        text = r.choice(templates).format(board=board, parts=parts, goals=goals)
        text = self._chat_words(text, names)
        if r.random() < 0.25:
            text = self._drop_articles(text)
        return text.lower() if r.random() < 0.5 else text

    def _chat_words(self, text: str, keep: list[str]) -> str:
        r = self.rng
        kept = {w.lower() for n in keep for w in n.split()}
        for word, swaps in P.COLLOQUIAL_SWAPS:
            if word in kept:
                continue
            text = re.sub(
                rf"\b{word}\b",
                lambda m, swaps=swaps: r.choice(swaps) if r.random() < 0.6 else m[0],
                text,
                flags=re.IGNORECASE,
            )
        return text

    def _drop_articles(self, text: str) -> str:
        return re.sub(r"\b(?:a|an|the) (?!couple|pair|single)", lambda m: "" if self.rng.random() < 0.7 else m[0], text)

    def _terse(self, project: Project, units: list[Unit]) -> str:
        r = self.rng
        items = [self.board_noun(project.board, True)] if project.board else []
        items += [self.unit_noun(u, True) for u in units]
        items += [self.unknown_noun(n, w, True) for n, w in project.unknown]
        items = [i for i in items if i]
        if r.random() < 0.25 and len(items) > 1:
            r.shuffle(items)
        sep = r.choice([" ", " ", " + ", ", ", " and ", " with "])
        text = sep.join(items)
        if r.random() < 0.2:
            text += r.choice([" wiring", " schematic", " circuit", " pinout", " help", " hookup", "?"])
        return text.lower() if r.random() < 0.75 else text

    def _decorate(self, text: str, style: str) -> str:
        r = self.rng
        if r.random() < 0.15:
            text = f"{text} {r.choice(P.FILLER)}"
        if r.random() < 0.06:
            text = f"{text} {r.choice(P.DISTRACTORS)}"
        if r.random() < 0.05:
            text = f"{r.choice(['Hi!', 'Hello,', 'Quick question:', 'Hey', 'Newbie here.'])} {text}"
        return text
