"""The circuit core (floor 2): the design model, the ERC, the intent check, schematic drawing, exports,
design behaviours and the MoE runtime. It imports only ``components_db``; docs/ARCHITECTURE.md maps it."""
