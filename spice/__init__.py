"""SPICE (floor 3): a resolved design as an ngspice netlist, simulated in a worker process."""
