"""No-regret members learning a shading factor with values redrawn every round: many
sessions of Hedge (full feedback) or EXP3 (bandit feedback) in one compiled pass.

Modules: ``auction`` (one auction of one session, and any member's deviation, compiled, for
``dao-vickrey``, ``crowdfund`` and ``split-the-bill``), ``kernel`` (the round loop with the
registered rules' updates), ``sessions`` (the setting, ``run`` and ``run_reference``, which
steps the registered rule objects on the same draws). The experiment built on it is
``dao-abm paper no-regret-truthful`` (``dao_abm.paper.no_regret_truthful``).
"""

from dao_abm.noregret.sessions import FACTORS, Setting, Trace, run, run_reference

__all__ = ["FACTORS", "Setting", "Trace", "run", "run_reference"]
