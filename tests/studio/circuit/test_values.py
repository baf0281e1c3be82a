import pytest

from studio.circuit.values import format_value, is_valid_value, parse_value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("220", 220.0),
        ("4k7", 4700.0),
        ("10 kΩ", 10_000.0),
        ("100nF", 100e-9),
        ("4.7uF", 4.7e-6),
        ("4.7µF", 4.7e-6),
        ("1M", 1e6),
        ("1meg", 1e6),
        ("2R2", 2.2),
        ("330 ohm", 330.0),
        ("10mH", 10e-3),
        ("12V", 12.0),
    ],
)
def test_engineering_notation(text, expected):
    assert parse_value(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "abc", "1k\n.control\nshell touch /tmp/x", "1k;rm -rf /", "10k)", "1e3", "1" * 40, "k10"],
)
def test_anything_else_is_refused(text):
    assert not is_valid_value(text)
    with pytest.raises(ValueError, match="value"):
        parse_value(text)


@pytest.mark.parametrize(("number", "text"), [(220.0, "220"), (4700.0, "4.7k"), (1e-7, "100n"), (1e6, "1M")])
def test_format_round_trips(number, text):
    assert format_value(number) == text
    assert parse_value(format_value(number)) == pytest.approx(number)
