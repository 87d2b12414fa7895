"""``distillsim``: the command line. ``distillsim --help`` lists commands, scenarios and groups."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap

USAGE = """usage: distillsim <command> [key=value ...]   (distillsim <command> --help: its options)

commands:
  run         simulate one world and write results/runs/<scenario>/<timestamp>/
  sweep       a Hydra multirun (sweep=spend_curve|policy_compare|detector_mix|speed_compare|
              attackers|sharing|displacement, or any key=a,b,c)
              aggregated into results/sweeps/<sweep>/<timestamp>/
  report      write report.html for a run, sweep or study folder (two folders: compare them)
  calibrate   fit a scenario's listed parameters to its disclosed targets
              (--seeds N: seeds per evaluation, default 5; --write: store the fit)
  study       sample the priors (configs/uncertainty/) and analyse: study=morris|sobol|curve|
              discovery|robust; results/studies/<name>/<timestamp>/
  stackelberg the defence (B and its split) that is best once the attacker best-responds
              (also: distillsim study study=stackelberg),
              per defender value; results/studies/stackelberg/<timestamp>/
              (--budgets, --mixes, --values, --replicates, --no-full-check)
  show        a config group's options or a key's value, range and documentation
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


#: Per command: one-line summary, description and examples for ``distillsim <command> --help``.
COMMANDS: dict[str, tuple[str, str, list[str]]] = {
    "run": (
        "simulate one world",
        "Validate the configuration, simulate one world and write results/runs/<scenario>/"
        "<timestamp>/ (summary.md, summary.json, time series, ledger, figures, manifest). "
        "Every key takes one value; to sweep, use `distillsim sweep`.",
        [
            "distillsim run scenario=feb2026_three_labs seed=3",
            "distillsim run detection.budget_usd_per_day=100000 attacker=adaptive",
            "distillsim run policies.sanctions.enabled=true world.days=30",
        ],
    ),
    "sweep": (
        "a grid of worlds (Hydra multirun)",
        "Run a ready sweep (sweep=spend_curve|policy_compare|detector_mix|speed_compare|"
        "attackers|sharing|displacement) or any key=a,b,c grid; finished points are cached and a "
        "rerun reuses them. Writes results/sweeps/<sweep>/<timestamp>/ (runs.parquet, curves, "
        "frontier, tables; over worlds of several labs providers.csv and the displacement curve).",
        [
            "distillsim sweep sweep=spend_curve scenario=alibaba_2026 'replicate=range(0,3)'",
            "distillsim sweep detection.budget_usd_per_day=0,30000,100000 hydra/launcher=basic",
            "distillsim sweep sweep=policy_compare hydra/launcher=ray "
            "hydra.launcher.ray.init.address=auto",
        ],
    ),
    "study": (
        "an uncertainty study over the priors",
        "Sample the priors (configs/uncertainty/) and analyse: study=morris|sobol|curve|"
        "discovery|robust|stackelberg. Writes results/studies/<name>/<timestamp>/ "
        "(samples.parquet, index tables, figures, summary.md).",
        [
            "distillsim study study=morris",
            "distillsim study study=curve study.samples=32",
            "distillsim study study=sobol study.backend=ray study.ray_address=auto",
        ],
    ),
    "report": (
        "rebuild a results folder's outputs",
        "Write report.html (figures embedded, tables, takeaways computed from the data, "
        "assumptions, provenance; opens offline) for a run, sweep or study folder; a sweep's "
        "curves, frontier and tables are rebuilt from its runs.parquet first. With two folders "
        "of the same kind: what differs in their configs and the change in every headline "
        "figure, written to A/compare-<B>.html.",
        [
            "distillsim report results/sweeps/spend_curve/<timestamp>",
            "distillsim report results/runs/alibaba_2026/<A> results/runs/alibaba_2026/<B>",
        ],
    ),
    "calibrate": (
        "fit a scenario to its disclosed targets",
        "Fit the scenario's listed parameters to its disclosed targets; writes "
        "results/calibration/<scenario>/<timestamp>/ and, with --write, stores the fit.",
        ["distillsim calibrate scenario=alibaba_2026 --seeds 5", "distillsim calibrate --write"],
    ),
    "stackelberg": (
        "the best defence against a best-responding attacker",
        "",
        [],
    ),
    "show": (
        "a config group's options or a key's value, range and documentation",
        "Print a group's options (e.g. detectors, policies, scenario) or a key's value in the "
        "chosen scenario, its type, allowed range, schema default and documentation.",
        [
            "distillsim show scenario",
            "distillsim show review.analysts scenario=alibaba_2026",
            "distillsim show detection",
        ],
    ),
}
#: Commands whose options and help are their own (their function parses its arguments).
OWN_PARSER = ("stackelberg", "app")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1 (got {text!r})")
    return int(text)


def parsers() -> dict[str, argparse.ArgumentParser]:
    """One parser per command, each with its own usage, options and examples."""
    ap = argparse.ArgumentParser(prog="distillsim", add_help=False)
    sub = ap.add_subparsers(dest="command", metavar="<command>")
    out = {}
    for name, (summary, desc, examples) in COMMANDS.items():
        if name in OWN_PARSER:
            continue
        epilog = "examples:\n" + "\n".join(f"  {e}" for e in examples) if examples else None
        p = sub.add_parser(
            name,
            help=summary,
            description=textwrap.fill(desc, 88),
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        out[name] = p
        if name == "report":
            p.add_argument("folders", nargs="+", metavar="folder", help="a results folder")
            continue
        if name == "show":
            p.add_argument("name", help="a config group or a dotted key")
        if name == "calibrate":
            p.add_argument("--seeds", type=_positive, default=5, help="seeds per evaluation")
            p.add_argument("--write", action="store_true", help="store the fit in the scenario")
        p.add_argument(
            "overrides",
            nargs="*",
            metavar="key=value",
            help="Hydra overrides (scenario=..., any key; see `distillsim --help`)",
        )
    return out


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
    known = list(dict.fromkeys([*COMMANDS, *OWN_PARSER]))
    if cmd not in known:
        print(
            f"distillsim: error: unknown command {cmd!r}; allowed: {', '.join(known)} "
            "(distillsim <command> --help for each)",
            file=sys.stderr,
        )
        return 2
    if cmd not in OWN_PARSER:
        try:  # usage errors (unknown options, bad --seeds) and --help: argparse's own output
            parsers()[cmd].parse_intermixed_args(rest)
        except SystemExit as done:
            return int(done.code or 0)
    from sim.validation import ConfigError

    try:
        return _dispatch(cmd, rest)
    except SystemExit as done:  # argparse inside stackelberg/app: --help, a usage error
        return int(done.code or 0)
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


def _dispatch(cmd: str, rest: list[str]) -> int:
    """The function behind each command (imported late: ``--help`` stays fast)."""
    from sim import commands

    if cmd == "calibrate":
        from sim.experiments.calibration import calibrate_command

        return calibrate_command(rest)
    if cmd == "sweep":
        from sim.experiments.sweeps import sweep_command

        return sweep_command(rest)
    return getattr(commands, cmd)(rest)


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
