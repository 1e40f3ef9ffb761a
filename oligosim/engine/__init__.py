"""Simulation engines (DESIGN.md §3, layer 2).

Kept import-free on purpose: ``oligosim.engine._jit`` is layer 0 and is imported by the
parameter layer, which must not pull the kernels in with it.
"""
