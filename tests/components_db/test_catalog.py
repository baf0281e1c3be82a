"""The curated catalog as a whole: size, coverage, and validation messages that name the field."""

import pytest
import yaml

from components_db.catalog import DATA_DIR, CatalogError, load_catalog, parse_parts
from components_db.schema import Category


def test_at_least_120_valid_parts(catalog_parts):
    assert len(catalog_parts) >= 120


def test_one_source_file_per_category(catalog_parts):
    files = {p.stem for p in DATA_DIR.glob("*.yaml")}
    assert files == {c.value for c in Category}
    for part in catalog_parts:
        assert part.category.value in files


def test_every_category_is_populated(catalog_parts):
    counts = {c: sum(p.category is c for p in catalog_parts) for c in Category}
    assert all(n >= 5 for n in counts.values()), counts


def test_every_active_module_has_power_pins(catalog_parts):
    """Boards, sensors, displays and radios need a supply, unless they are bare passive elements (an LED digit)."""
    for part in catalog_parts:
        if part.category in (Category.MCU_BOARD, Category.SENSOR, Category.DISPLAY, Category.COMMUNICATION):
            if all(p.type.value == "passive" for p in part.pins):
                continue
            assert any(p.type.value in ("power_in", "power_out") for p in part.pins), part.id


def base_entry(**changes):
    entry = {
        "id": "my-part",
        "name": "My part",
        "category": "sensor",
        "description": "A sensor.",
        "pins": [
            {"number": "1", "name": "VCC", "type": "power_in"},
            {"number": "2", "name": "GND", "type": "power_in"},
        ],
    }
    entry.update(changes)
    return entry


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": "My Part"}, "field id"),
        ({"category": "gizmo"}, "field category"),
        ({"pins": [{"number": "1", "name": "A", "type": "sideways"}]}, "field pins.0.type"),
        ({"pins": [{"number": "1", "name": "A", "type": "input", "roles": ["TELEPATHY"]}]}, "field pins.0.roles.0"),
        (
            {"pins": [{"number": "1", "name": "A", "type": "input"}, {"number": "1", "name": "B", "type": "input"}]},
            "duplicate pin number",
        ),
        (
            {"pins": [{"number": "1", "name": "A", "type": "input"}, {"number": "2", "name": "A", "type": "input"}]},
            "is used by pins 1 and 2",
        ),
        ({"supply": {"min_v": 5, "max_v": 3.3}}, "field supply"),
        ({"aliases": ["thing", "Thing"]}, "listed twice"),
        ({"usage": {"pullup_required": ["DATA"]}}, "pullup_required"),
    ],
)
def test_invalid_entries_name_the_field(changes, field):
    with pytest.raises(CatalogError) as info:
        parse_parts([base_entry(**changes)], "user.yaml")
    assert "user.yaml: part" in str(info.value)
    assert field in str(info.value)


def test_bad_yaml_names_the_file(tmp_path):
    (tmp_path / "sensor.yaml").write_text("- id: [unclosed\n")
    with pytest.raises(CatalogError, match=r"sensor.yaml: not valid YAML"):
        load_catalog(tmp_path)


def test_alias_clash_across_files(tmp_path):
    (tmp_path / "a.yaml").write_text(yaml.safe_dump([base_entry(id="part-a", aliases=["widget"])]))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump([base_entry(id="part-b", aliases=["Widget"])]))
    with pytest.raises(CatalogError, match="used by both part-a and part-b"):
        load_catalog(tmp_path)
