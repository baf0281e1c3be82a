"""Realistic designs of a chosen size for the benchmarks: an ESP32 project that grows by whole
sub-circuits (LED + resistor, button + pull-up, sensors, a relay module, decoupling), so a 30-part
design looks like something a person would build, not random wiring."""

from __future__ import annotations

from studio.circuit.design import Design


def esp32_project(n_parts: int) -> Design:
    """An ESP32 board powered from a 9 V battery through a 7805, plus sub-circuits up to ``n_parts``."""
    parts = [
        {"ref": "U1", "part": "esp32-devkit-v1"},
        {"ref": "BT1", "part": "battery-9v"},
        {"ref": "U2", "part": "lm7805"},
    ]
    nets: dict[str, list[str]] = {
        "VBAT": ["BT1.+", "U2.IN"],
        "5V": ["U2.OUT", "U1.VIN"],
        "3V3": ["U1.3V3"],
        "GND": ["BT1.-", "U2.GND", "U1.GND"],
    }
    gpios = ["GPIO13", "GPIO12", "GPIO14", "GPIO27", "GPIO26", "GPIO25", "GPIO33", "GPIO32", "GPIO15", "GPIO2"]
    gpios += ["GPIO4", "GPIO16", "GPIO17", "GPIO5", "GPIO18", "GPIO19", "GPIO23"]
    counters: dict[str, int] = {}

    def ref(prefix: str) -> str:
        counters[prefix] = counters.get(prefix, 0) + 1
        return f"{prefix}{counters[prefix]}"

    def add_decoupling() -> None:
        c = ref("C")
        parts.append({"ref": c, "part": "capacitor-ceramic", "value": "100nF"})
        nets["5V"].append(f"{c}.1")
        nets["GND"].append(f"{c}.2")

    def add_led() -> None:
        r, d, gpio = ref("R"), ref("D"), gpios.pop(0)
        parts.extend([{"ref": r, "part": "resistor", "value": "220"}, {"ref": d, "part": "led-red"}])
        nets[f"LED_{d}"] = [f"U1.{gpio}", f"{r}.1"]
        nets[f"{d}_A"] = [f"{r}.2", f"{d}.A"]
        nets["GND"].append(f"{d}.K")

    def add_button() -> None:
        r, s, gpio = ref("R"), ref("SW"), gpios.pop(0)
        parts.extend([{"ref": r, "part": "resistor", "value": "10k"}, {"ref": s, "part": "push-button"}])
        nets[f"BTN_{s}"] = [f"U1.{gpio}", f"{r}.2", f"{s}.1"]
        nets["3V3"].append(f"{r}.1")
        nets["GND"].append(f"{s}.2")

    add_decoupling()
    add_decoupling()
    sub_circuits = [add_led, add_button]
    i = 0
    while len(parts) < n_parts:
        room = n_parts - len(parts)
        if room == 1:
            add_decoupling()
        elif gpios:
            sub_circuits[i % 2]()
            i += 1
        else:
            add_decoupling()
    return Design.model_validate(
        {
            "title": f"ESP32 project, {len(parts)} parts",
            "parts": parts,
            "nets": [{"name": n, "pins": p} for n, p in nets.items()],
        }
    )
