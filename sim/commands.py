"""What each CLI command does, from overrides to the results folder."""

from __future__ import annotations

import sys
from pathlib import Path

from sim.configuration import load


def run(overrides: list[str]) -> int:
    """``distillsim run``: validate, simulate, write the run folder, print the summary and path."""
    from sim.validation import ConfigError

    for ov in overrides:
        key = ov.split("=", 1)[0].lstrip("+~")
        if key.startswith("hydra.") or key.startswith("hydra/"):
            # Hydra's own settings would be silently ignored here: a run is not a Hydra job.
            raise ConfigError(
                key,
                "Hydra settings apply to sweeps only; a run is written to "
                "<output.results_dir>/runs/<scenario>/<time>/ (set output.results_dir=...)",
            )
    loaded = load(overrides, command_line=True)  # every bad input fails here, before any output
    from sim.experiments.evaluators import evaluate
    from sim.outputs import write_run
    from sim.terminal import format_summary, format_world_summary

    result = evaluate(loaded.cfg, loaded.scenario)
    folder = write_run(loaded, result)
    world = bool(loaded.cfg.providers)
    # The report embeds the figures; without them it waits for report. A world of several
    # providers has neither yet: its summary and tables are written.
    if loaded.cfg.output.plots and not world:
        from sim.analysis.html_report import write_html

        write_html(folder, "run")
    print(format_world_summary(result.summary) if world else format_summary(result.summary))
    print(f"simulated in {result.seconds:.2f} s; results in:", file=sys.stderr)
    print(folder)
    return 0


def report(args: list[str]) -> int:
    """``distillsim report <folder> [<folder-B>]``: write report.html into a run, sweep or study
    folder (a sweep's figures, tables and summary.md rebuilt first), or compare two folders."""
    from sim.analysis.html_report import folder_kind, write_compare, write_html
    from sim.analysis.report import report as build
    from sim.validation import ConfigError

    if len(args) not in (1, 2):
        raise ConfigError(
            "report", "expected a run, sweep or study folder, or two of one kind to compare"
        )
    if len(args) == 2:
        print(write_compare(Path(args[0]), Path(args[1])))
        return 0
    folder = Path(args[0])
    kind = folder_kind(folder)
    if kind == "sweep":
        build(folder)  # writes report.html too
        print(folder / "report.html")
    else:
        print(write_html(folder, kind))
    return 0


STACKELBERG_HELP = """usage: distillsim stackelberg [options] [key=value ...]

The defence (budget B and its split) with the least defender cost + value x capability points
leaked, against the attacker's best response and against the naive (fixed) attacker, per value.
Every candidate is played on a reduced world (world.legit_sample_share=0.1; best-response
searches of 30 trials on 2 training replicates, each mix's warm-started up the budget ladder).
The choice is made on the choice replicates and reported on disjoint report replicates, and the
chosen defences are played again at full scale (a 40-trial search warm-started from the reduced
world's). A key you set (world or attacker.search.*) replaces the reduced world's. Writes
results/studies/stackelberg/<timestamp>/ (summary.md, frontier.png, CSV tables, manifest.json).

options:
  --budgets B,...         candidate budgets, $/day (default 0,10000,100000,1000000)
  --mixes M,...           splits from configs/mix/ (default balanced,content_heavy,review_heavy)
  --values V,...          the defender's value of a capability point, $ (default 3e5,1e6,3e6,1e7)
  --replicates N          replicates the choice is made on: 0..N-1 (default 2)
  --report-replicates M   held-out replicates it is reported on: N..N+M-1 (default 3)
  --no-full-check         skip the full-scale re-check of the chosen defences
"""


def stackelberg(args: list[str]) -> int:
    """``distillsim stackelberg [options] [key=value ...]``: the defender's choice against the
    attacker's best response (:mod:`sim.experiments.stackelberg`, tables and figure from
    :mod:`sim.analysis.stackelberg`)."""
    import argparse

    from sim.experiments.stackelberg import run as study
    from sim.validation import ConfigError

    ap = argparse.ArgumentParser(prog="distillsim stackelberg", add_help=False)
    ap.add_argument("--budgets", default="0,10000,100000,1000000")
    ap.add_argument("--mixes", default="balanced,content_heavy,review_heavy")
    ap.add_argument("--values", default="300000,1000000,3000000,10000000")
    ap.add_argument("--replicates", type=int, default=2)
    ap.add_argument("--report-replicates", type=int, default=3)
    ap.add_argument("--no-full-check", action="store_true")
    opts, overrides = ap.parse_known_args(args)
    bad = [a for a in overrides if a.startswith("-") or "=" not in a]
    if bad:
        raise ConfigError(
            "stackelberg",
            f"unknown argument {bad[0]!r}; options: --budgets, --mixes, --values, --replicates, "
            "--report-replicates, --no-full-check, key=value overrides",
        )

    def numbers(name: str, text: str) -> list[float]:
        try:
            out = [float(x) for x in text.split(",") if x.strip()]
        except ValueError:
            raise ConfigError(
                f"--{name}", f"expected comma-separated numbers, got {text!r}"
            ) from None
        if not out or any(x < 0 for x in out):
            raise ConfigError(f"--{name}", f"expected non-negative numbers, got {text!r}")
        return out

    for flag, n in (
        ("--replicates", opts.replicates),
        ("--report-replicates", opts.report_replicates),
    ):
        if n < 1:
            raise ConfigError(flag, f"must be >= 1 (got {n})")
    result = study(
        overrides,
        budgets=numbers("budgets", opts.budgets),
        mixes=[m for m in opts.mixes.split(",") if m],
        values=numbers("values", opts.values),
        choose_replicates=list(range(opts.replicates)),
        report_replicates=list(range(opts.replicates, opts.replicates + opts.report_replicates)),
        full_check=not opts.no_full_check,
    )
    folder = write_study(result, Path(result.settings["base"].cfg.output.results_dir))
    print((folder / "summary.md").read_text())
    print(folder)
    return 0


def _stackelberg_study(args: list[str], s) -> int:
    """``study=stackelberg``: the same study as ``distillsim stackelberg``, set from the config."""
    from sim.experiments.stackelberg import run as study

    st = s.stackelberg
    world = [a for a in args if a.split("=", 1)[0].lstrip("+~").split(".")[0] != "study"]
    result = study(
        world,
        budgets=[float(b) for b in st.budgets],
        mixes=list(st.mixes),
        values=[float(v) for v in st.values],
        choose_replicates=list(range(st.replicates)),
        report_replicates=list(range(st.replicates, st.replicates + st.report_replicates)),
        full_check=st.full_check,
    )
    folder = write_study(result, Path(result.settings["base"].cfg.output.results_dir))
    print((folder / "summary.md").read_text())
    print(folder)
    return 0


def write_study(result, results_dir: Path) -> Path:
    """The study's folder, written whole: manifest, tables, figure."""
    from sim.analysis.stackelberg import write
    from sim.experiments.storage import atomic_folder, dump_json, stamp
    from sim.provenance import manifest

    s = result.settings
    base = s["base"]
    final = results_dir / "studies" / "stackelberg" / stamp()
    with atomic_folder(final) as tmp:
        dump_json(
            manifest(
                base.resolved,
                base.cfg.seed,
                base.scenario,
                [*s["overrides"], *s["search_overrides"], *s["reduced"]],
                {"study": "stackelberg", **{k: v for k, v in s.items() if k != "base"}},
            ),
            tmp / "manifest.json",
        )
        write(tmp, result)
    return final


def study(args: list[str]) -> int:
    """``distillsim study study=<name> [key=value ...]``: sample the priors, play every sampled
    world (:mod:`sim.experiments.studies`), analyse (:mod:`sim.analysis.study_report`) and write
    results/studies/<name>/<timestamp>/ whole. An interrupted or failed study leaves the runs it
    finished in <timestamp>.partial/ and in the cache, so running it again resumes."""
    import dataclasses

    from sim.analysis.study_report import write
    from sim.experiments.storage import atomic_folder, dump_json, stamp
    from sim.experiments.studies import frame, load_study
    from sim.experiments.studies import run as run_study
    from sim.provenance import manifest
    from sim.validation import ConfigError

    bad = [a for a in args if a.startswith("-") or "=" not in a]
    if bad:
        raise ConfigError("study", f"unknown argument {bad[0]!r}; expected key=value overrides")
    if not any(a.split("=", 1)[0].lstrip("+~") == "study" for a in args):
        from sim.configuration import group_options

        raise ConfigError(
            "study", f"pick a study with study=<name>; allowed: {', '.join(group_options('study'))}"
        )
    prepared = load_study(args)  # every bad input fails here, before any run
    loaded, s = prepared[0], prepared[1]
    if s.kind == "stackelberg":
        return _stackelberg_study(args, s)
    name = s.name or s.kind
    results_dir = Path(loaded.cfg.output.results_dir)
    final = results_dir / "studies" / name / stamp()
    rows: list[dict] = []
    try:
        result = run_study(args, rows_out=rows, prepared=prepared)
    except BaseException:
        if rows:
            from sim.experiments.studies import make_design

            partial = final.with_name(final.name + ".partial")
            partial.mkdir(parents=True, exist_ok=True)
            design = make_design(s, prepared[2])
            frame(list(rows), design, prepared[2]).to_parquet(
                partial / "samples.parquet", index=False
            )
            print(
                f"distillsim: study stopped after {len(rows)} runs; they are in {partial} and "
                "in the cache: run the same command again to finish (they are not recomputed)",
                file=sys.stderr,
            )
        raise
    with atomic_folder(final) as tmp:
        dump_json(
            manifest(
                loaded.resolved,
                loaded.cfg.seed,
                loaded.scenario,
                args,
                {
                    "study": dataclasses.asdict(s),
                    "priors": result.priors.table(),
                    "options": result.options,
                    "runs": len(result.samples),
                    "seconds": round(result.seconds, 2),
                },
            ),
            tmp / "manifest.json",
        )
        write(tmp, result)
    from sim.analysis.html_report import write_html

    write_html(final, "study")
    print((final / "summary.md").read_text())
    print(final)
    return 0


def show(args: list[str]) -> int:
    """``distillsim show <group|key> [key=value ...]``: a group's options, or a key's value,
    type, allowed range, schema default and its documentation (where it says [E] or its source),
    in the scenario chosen by the overrides."""
    import dataclasses

    from sim.configuration import GROUPS, group_options
    from sim.validation import ConfigError

    if not args or "=" in args[0]:
        raise ConfigError(
            "show",
            "expected a config group or a key, e.g. `distillsim show "
            "detectors` or `distillsim show review.analysts`",
        )
    name, overrides = args[0], args[1:]
    if name in GROUPS or name == "scenario":
        from sim.configuration import scenario_descriptions

        if name == "scenario":
            for n, d in scenario_descriptions().items():
                print(f"{n:<22} {d}")
        else:
            print(f"{name}: {', '.join(group_options(name))}  (choose with {name}=<option>)")
        return 0
    loaded = load(overrides, command_line=True)
    cfg = loaded.cfg
    node, parent, field = cfg, None, None
    for part in name.split("."):
        parent = node
        if isinstance(node, dict) and part in node:
            node, field = node[part], None
        elif dataclasses.is_dataclass(node) and part in {f.name for f in dataclasses.fields(node)}:
            field = next(f for f in dataclasses.fields(node) if f.name == part)
            node = getattr(node, part)
        else:
            from sim.validation import unknown_key_message

            raise ConfigError(name, unknown_key_message(name))
    if dataclasses.is_dataclass(node) or isinstance(node, dict):
        is_group = dataclasses.is_dataclass(node)
        keys = [f.name for f in dataclasses.fields(node)] if is_group else list(node)
        print(f"{name}: {', '.join(keys)}")
        return 0
    print(f"{name} = {node!r}   (scenario {cfg.scenario.name or 'default'})")
    if field is not None:
        meta = dict(field.metadata)
        default = field.default if field.default is not dataclasses.MISSING else None
        rng = ", ".join(f"{k} {v}" for k, v in meta.items()) or "no range of its own"
        kind = getattr(field.type, "__name__", str(field.type))
        print(f"  type {kind}; allowed: {rng}; schema default {default!r}")
        doc = _field_doc(type(parent), field.name)
        if doc:
            print(f"  {doc}")
    from omegaconf import OmegaConf

    from sim.analysis.html_report import assumptions, keys_set_by

    rows = assumptions(
        OmegaConf.to_container(loaded.resolved), keys_set_by(overrides, "set on the command line")
    )
    source = next((r["source"] for r in rows if r["key"] == name), "not recorded")
    print(f"  source: {source}")
    print("  the figures behind the sources: docs/CALIBRATION.md; [E] marks an estimate")
    return 0


def _field_doc(cls: type, name: str) -> str:
    """The ``#:`` comment lines just above a dataclass field in its class's source."""
    import inspect

    try:
        lines = inspect.getsource(cls).splitlines()
    except (OSError, TypeError):
        return ""
    for i, line in enumerate(lines):
        if line.strip().startswith(f"{name}:"):
            doc = []
            j = i - 1
            while j >= 0 and lines[j].strip().startswith("#:"):
                doc.insert(0, lines[j].strip()[2:].strip())
                j -= 1
            return " ".join(doc)
    return ""


def app(args: list[str]) -> int:
    """``distillsim app [--port N] [--host H] [key=value ...]``: serve the what-if page."""
    import argparse
    import json
    import os
    import subprocess

    from sim.validation import ConfigError

    parser = argparse.ArgumentParser(
        prog="distillsim app", description="Serve the what-if page (Mesa SolaraViz)."
    )
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    parser.add_argument("overrides", nargs="*", help="key=value overrides, e.g. scenario=...")
    ns = parser.parse_args(args)
    if not 0 < ns.port < 65536:
        raise ConfigError("--port", f"must be in 1..65535 (got {ns.port})")
    from sim.app import ENV, fixed_overrides

    env = {**os.environ, ENV: json.dumps(ns.overrides)}
    load(fixed_overrides(ns.overrides), command_line=True)  # a bad override fails before serving
    if ns.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"distillsim: warning: serving on {ns.host}: anyone who can reach it can run worlds",
            file=sys.stderr,
        )
    print(f"distillsim app: http://{ns.host}:{ns.port}/", flush=True)
    cmd = [sys.executable, "-m", "solara", "run", "sim.app:page", "--production", "--no-open"]
    cmd += ["--host", ns.host, "--port", str(ns.port)]
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 130
