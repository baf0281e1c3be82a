from studio.circuit.design import Design
from studio.circuit.resolve import resolve


def test_binds_pins_by_name_number_and_alias(catalog):
    design = Design.model_validate(
        {
            "parts": [{"ref": "U1", "part": "esp32-devkit-v1"}, {"ref": "D1", "part": "led-red"}],
            "nets": [{"name": "A", "pins": ["U1.D2", "D1.anode"]}, {"name": "GND", "pins": ["U1.14", "D1.K"]}],
        }
    )
    resolved = resolve(design, catalog)
    assert not resolved.unresolved
    assert [bp.label for bp in resolved.nets[0].pins] == ["U1.GPIO2", "D1.A"]
    assert [bp.label for bp in resolved.nets[1].pins] == ["U1.GND", "D1.K"]
    assert set(resolved.nets_of("D1")) == {"A", "K"}


def test_unknown_part_and_pin_are_findings_not_crashes(catalog):
    design = Design.model_validate(
        {
            "parts": [{"ref": "U1", "part": "flux-capacitor"}, {"ref": "D1", "part": "led-red"}],
            "nets": [{"name": "A", "pins": ["U1.X", "D1.Q"]}, {"name": "B", "pins": ["D1.A"]}],
        }
    )
    resolved = resolve(design, catalog)
    kinds = sorted((u.kind, u.text) for u in resolved.unresolved)
    assert kinds == [("part", "flux-capacitor"), ("pin", "D1.Q")]
    assert "D1.Q" in next(u.message for u in resolved.unresolved if u.kind == "pin")
    assert [bp.label for bp in resolved.nets[1].pins] == ["D1.A"]


class _SuggestingCatalog(dict):
    """A dict lookup that also answers "nearest", as the KnowledgeBase does."""

    def nearest(self, text, n=3):
        from rapidfuzz import process

        return [type("Hit", (), {"part_id": pid}) for pid, _, _ in process.extract(text, list(self), limit=n)]


def test_unknown_part_carries_the_lookups_suggestions(catalog):
    design = Design.model_validate({"parts": [{"ref": "S1", "part": "dht-22"}], "nets": []})
    plain = resolve(design, catalog).unresolved[0]
    suggesting = resolve(design, _SuggestingCatalog(catalog)).unresolved[0]
    assert plain.suggestions == ()
    assert "dht22" in suggesting.suggestions
