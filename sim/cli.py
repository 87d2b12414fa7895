"""``distillsim``: the command line. ``distillsim --help`` lists commands, scenarios and groups."""

from __future__ import annotations

import os
import sys

USAGE = """usage: distillsim <command> [key=value ...]

commands:
  run         simulate one world and write results/runs/<scenario>/<timestamp>/
  sweep       a Hydra multirun (sweep=spend_curve|policy_compare|detector_mix|speed_compare|
              attackers, or any key=a,b,c)
              aggregated into results/sweeps/<sweep>/<timestamp>/
  report      regenerate a sweep folder's curves, frontier and tables from its runs.parquet
  calibrate   fit a scenario's listed parameters to its disclosed targets
              (--seeds N: seeds per evaluation, default 5; --write: store the fit)
  study       sample the priors (configs/uncertainty/) and analyse: study=morris|sobol|curve|
              discovery|robust; results/studies/<name>/<timestamp>/
  stackelberg the defence (B and its split) that is best once the attacker best-responds
              (also: distillsim study study=stackelberg),
              per defender value; results/studies/stackelberg/<timestamp>/
              (--budgets, --mixes, --values, --replicates, --no-full-check)
  app         serve the what-if page on 127.0.0.1 (--port N, default 8765; --host H)

Overrides use Hydra syntax, e.g.:
  distillsim run scenario=feb2026_three_labs seed=3 detection.budget_usd_per_day=50000
  distillsim run attacker=adaptive policies.sanctions.enabled=true
  distillsim sweep sweep=spend_curve scenario=alibaba_2026
  distillsim sweep sweep=policy_compare hydra/launcher=basic
  distillsim report results/sweeps/spend_curve/<timestamp>
  distillsim calibrate scenario=alibaba_2026 --seeds 5 --write
  distillsim study study=morris
"""


def _help() -> str:
    from sim.configuration import GROUPS, group_options, scenario_descriptions

    lines = [USAGE, "scenarios (scenario=<name>):"]
    desc = scenario_descriptions()
    w = max((len(n) for n in desc), default=0)
    for name, d in desc.items():
        lines.append(f"  {name.ljust(w)}  {d}")
    lines.append("")
    lines.append("config groups (<group>=<option>; detectors and policies take lists):")
    for g in GROUPS:
        lines.append(f"  {g:<12} {', '.join(group_options(g))}")
    lines.append("")
    lines.append("Any key can be set: e.g. world.days=10, operators.qwen.cluster_size=20.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_help())
        return 0 if argv else 2
    if argv[0] in ("-V", "--version"):
        from importlib.metadata import version

        print(f"distillsim {version('distillsim')}")
        return 0
    cmd, rest = argv[0], argv[1:]
    if cmd == "stackelberg" and any(a in ("-h", "--help") for a in rest):
        from sim.commands import STACKELBERG_HELP

        print(STACKELBERG_HELP)
        return 0
    if any(a in ("-h", "--help") for a in rest):
        print(_help())
        return 0
    from sim.validation import ConfigError

    try:
        if cmd == "run":
            from sim.commands import run

            return run(rest)
        if cmd == "calibrate":
            from sim.experiments.calibration import calibrate_command

            return calibrate_command(rest)
        if cmd == "sweep":
            from sim.experiments.sweeps import sweep_command

            return sweep_command(rest)
        if cmd == "report":
            from sim.commands import report

            return report(rest)
        if cmd == "study":
            from sim.commands import study

            return study(rest)
        if cmd == "stackelberg":
            from sim.commands import stackelberg

            return stackelberg(rest)
        if cmd == "app":
            from sim.commands import app

            return app(rest)
    except ConfigError as e:
        print(f"distillsim: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("distillsim: interrupted", file=sys.stderr)
        return 130
    except OSError as e:  # a full disk, a folder removed under us: say so, no traceback
        where = f" {e.filename}" if e.filename else ""
        print(
            f"distillsim: error: cannot write{where}: {e.strerror or e}; no unfinished folder "
            "was kept as a result (a sweep or study keeps its .partial folder to resume)",
            file=sys.stderr,
        )
        return 1
    print(
        f"distillsim: error: unknown command {cmd!r}; allowed: run, sweep, report, calibrate, "
        "study, stackelberg, app",
        file=sys.stderr,
    )
    return 2


#: Commands whose process ends without tearing the interpreter down (see :func:`console`).
QUICK_EXIT = ("run", "report")


def console() -> None:
    """Console-script entry point.

    After ``run`` and ``report`` everything is written, closed and renamed into place, so the
    process flushes its streams and leaves with ``os._exit``: unloading pandas, SciPy, matplotlib,
    Hydra and pyarrow module by module costs ~0.35 s, about a tenth of a whole ``distillsim run``.
    Other commands (sweeps may hold a Ray cluster, whose clean-up runs at exit) exit normally.
    """
    argv = sys.argv[1:]
    rc = main(argv)
    if argv and argv[0] in QUICK_EXIT:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)
    sys.exit(rc)


if __name__ == "__main__":
    console()
