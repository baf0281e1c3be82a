"""The schematic: parts and labels placed (``placement``, seeded), the placed geometry (``geometry``),
part symbols (``symbols``) and the SVG drawing (``svg``, ``draw_schematic``)."""
