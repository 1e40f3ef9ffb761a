"""Layer 1: scenario schema, loading and compilation to kernel arrays (DESIGN.md §5)."""

from oligosim.scenario.compile import CompiledScenario, compile_scenario
from oligosim.scenario.load import load_scenario, parse_scenario, scenario_hash
from oligosim.scenario.schema import Scenario, Strategy

__all__ = ["CompiledScenario", "Scenario", "Strategy", "compile_scenario", "load_scenario",
           "parse_scenario", "scenario_hash"]
