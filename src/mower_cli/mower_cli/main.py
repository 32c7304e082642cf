"""``mower``: the stack's command line (runs without ROS)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from mower_bringup import share_dir
from mower_cli.app_cli import add_app_parser
from mower_cli.arg_types import MAX_SEED, POSITIVE
from mower_cli.arg_types import integer as _integer
from mower_cli.arg_types import number as _number
from mower_cli.bench import add_bench_parser
from mower_cli.discover_cli import add_discover_parser
from mower_cli.foxglove_cli import (
    REPLAY_RATE,
    SIM_RATE,
    add_foxglove_options,
    add_speed_option,
    live_view,
    run_topics,
    speed,
)
from mower_cli.mqtt_cli import add_mqtt_options, mqtt_bridge
from mower_cli.serve_cli import add_serve_options, app_server
from mower_cli.teach_cli import add_teach_parser

DEMO_MAP = share_dir() / 'maps' / 'demo_lawn.geojson'  # installed, or the checkout's


def _error(exc: BaseException | str) -> int:
    """Print one error line; exit status 1."""
    text = str(exc).strip() or type(exc).__name__
    print(f'error: {" ".join(text.split())}', file=sys.stderr)
    return 1


def _cmd_map_check(args: argparse.Namespace) -> int:
    from mower_maps import MapError, load_map

    status = 0
    for path in args.maps:
        try:
            lawn = load_map(path)
        except MapError as exc:
            print(f'error: {exc}', file=sys.stderr)
            status = 1
            continue
        roles = {r: len(lawn.by_role(r)) for r in ('boundary', 'keepout', 'obstacle', 'dock')}
        print(
            f'{path}: ok: {lawn.name!r}, lawn {lawn.boundary.area:.1f} m², mowable '
            f'{lawn.mowable_area().area:.1f} m², '
            + ', '.join(f'{n} {r}' for r, n in roles.items())
        )
    return status


def _cmd_map_import(args: argparse.Namespace) -> int:
    from mower_maps import MapError, map_from_geojson
    from mower_maps.importers import import_field

    out = Path(args.out)
    if out.exists() and Path(args.source).exists() and out.samefile(args.source):
        return _error(f'{args.out}: --out names the source file: choose another file')
    if out.is_dir():
        return _error(f'{args.out}: is a folder (--out names the lawn map file to write)')
    try:
        doc = import_field(args.source, args.area, args.name)
        lawn = map_from_geojson(doc, source=args.source)
        out.write_text(json.dumps(doc, indent=1) + '\n', encoding='utf-8')
    except (MapError, OSError) as exc:
        return _error(exc)
    print(f'{args.out}: {lawn.name!r}, {lawn.boundary.area:.1f} m²')
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    from mower_coverage import CoveragePlanner, ParameterError, PlannerParams, PlanningError
    from mower_coverage.export import write_plan
    from mower_coverage.metrics import evaluate
    from mower_coverage.planner import params_for_map
    from mower_coverage.plot import plot_plan
    from mower_maps import MapError, load_map

    try:
        lawn = load_map(args.map)
        params = params_for_map(PlannerParams(), lawn)
        changes: dict = {}
        if args.angle is not None:
            if args.angle == 'auto':
                changes['stripe_angle'] = 'auto'
            else:
                changes.update(stripe_angle='fixed', stripe_angle_deg=float(args.angle))
        if args.run is not None:
            changes.update(stripe_angle='rotating', run_index=args.run)
            if args.angle not in (None, 'auto'):
                changes['stripe_angle_deg'] = float(args.angle)
        for key in (
            'headland_passes',
            'turn_radius_m',
            'stripe_spacing_m',
            'cut_width_m',
            'body_width_m',
        ):
            if getattr(args, key) is not None:
                changes[key] = getattr(args, key)
        params = params.updated(**changes)
        plan = CoveragePlanner(params).plan(lawn)
    except (MapError, PlanningError, ParameterError, ValueError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    metrics = evaluate(plan.area, plan.path, params.cut_width_m)
    out = Path(args.out)
    stem = Path(args.map).stem
    try:
        out.mkdir(parents=True, exist_ok=True)
        geo = write_plan(plan, metrics, out / f'{stem}.plan.geojson')
        png = plot_plan(plan, metrics, out / f'{stem}.plan.png')
        report = {
            **metrics.to_dict(),
            'plan_time_s': plan.plan_time_s,
            'stripe_angle_deg': plan.angle_deg,
            'cells': len(plan.cells),
            'warnings': list(plan.warnings),
            'plan_file': str(geo),
            'image_file': str(png),
        }
        (out / f'{stem}.plan.json').write_text(json.dumps(report, indent=1) + '\n')
    except OSError as exc:  # --out names a file, or cannot be written
        return _error(exc)
    if args.json:
        print(json.dumps(report))
    else:
        print(
            f'{lawn.name}: {metrics.path_length_m:.0f} m path '
            f'({metrics.length_ratio:.2f}x the {metrics.lower_bound_m:.0f} m lower bound), '
            f'{metrics.turns} turns, stripes at {plan.angle_deg:.1f}°, {len(plan.cells)} '
            f'cells, planned in {plan.plan_time_s * 1000:.0f} ms'
        )
        print(
            f'  coverage {metrics.coverage_pct:.2f}% of the lawn, '
            f'{metrics.coverage_reachable_pct:.2f}% of what the robot can reach; '
            f'{metrics.violations} violations'
        )
        for w in plan.warnings:
            print(f'  warning: {w}')
        print(f'  wrote {geo} and {png}')
    return 0


def _cmd_sim(args: argparse.Namespace) -> int:
    from mower_maps import MapError, load_map

    try:
        lawn = load_map(args.map)
    except MapError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    if args.gazebo:
        from mower_sim.gazebo import write_gazebo

        try:
            paths = write_gazebo(lawn, args.gazebo)
        except OSError as exc:
            return _error(exc)
        print(
            f'{lawn.name}: Gazebo world {paths["world"]}, model {paths["model"]}, '
            f'bridge {paths["bridge"]}'
        )
        print(
            f'  run: GZ_SIM_RESOURCE_PATH={Path(args.gazebo).resolve() / "models"} '
            f'gz sim {paths["world"]}'
        )
        if not args.drive_test:
            return 0
    from mower_offline.out_dir import OutputError, claim_output

    if args.drive_test and (args.mqtt is not None or args.serve is not None):
        return _error('--mqtt and --serve drive a mowing run: not with --drive-test')
    try:
        lock = claim_output(args.out, [args.map])
    except OutputError as exc:
        return _error(exc)
    with lock:
        if not args.drive_test:
            return _mowing_run(lawn, args)
        return _drive_test(lawn, args)


def _drive_test(lawn, args: argparse.Namespace) -> int:
    """Drive the start of the planned path: camera contact sheet, top-down view."""
    import numpy as np

    from mower_coverage import CoveragePlanner, PlannerParams, PlanningError, params_for_map
    from mower_sim.drive import follow_waypoints, write_drive_report
    from mower_sim.scenario import random_hidden
    from mower_sim.sim import LawnSim
    from mower_sim.world import WorldConfig

    hidden = random_hidden(lawn, args.hidden, args.seed) if args.hidden else ()
    sim = LawnSim(lawn, WorldConfig(hidden=hidden, randomise=args.randomise), seed=args.seed)
    try:  # drive the start of the planned coverage path, as the mower would
        plan = CoveragePlanner(params_for_map(PlannerParams(), lawn)).plan(lawn)
    except PlanningError as exc:
        return _error(exc)
    pts = plan.path.points
    length = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(pts, axis=0).T))])
    log = follow_waypoints(sim, pts[length <= args.distance])
    try:
        paths = write_drive_report(sim, log, args.out)
    except (ValueError, OSError) as exc:  # 'no frames to show': too short a drive
        return _error(f'drive test: {exc} (drove {sim.time_s:.1f} s; try a longer --distance)')
    ev = sim.events
    print(
        f'{lawn.name}: drove {sim.time_s:.0f} s simulated; {ev.collisions} collisions, '
        f'{ev.boundary_exits} boundary exits, {ev.keepout_entries} keep-out entries; '
        f'{sim.mowed_area_m2(lawn.boundary):.1f} m² mowed'
    )
    print(f'  wrote {paths["contact_sheet"]} and {paths["top_down"]}')
    sim.close()
    return 0


def _mowing_run(lawn, args: argparse.Namespace) -> int:
    """The main job: a whole mowing run, closed loop, recorded, with a report."""
    from mower_app.serve import AppServerError
    from mower_coverage import PlanningError
    from mower_integrations.ha_mqtt import BridgeError
    from mower_node_kit.params import ConfigError
    from mower_offline.out_dir import stop_on_signals
    from mower_offline.run import DEMO_HIDDEN, MowingRun, RunConfig, RunError, write_summary
    from mower_segmentation.runtime import ModelError
    from mower_sim.scenario import random_hidden

    if args.hidden is None:  # the demo lawn's own hidden obstacles; random ones elsewhere
        hidden = DEMO_HIDDEN if lawn.name == 'demo lawn' else random_hidden(lawn, 2, args.seed)
    else:
        hidden = random_hidden(lawn, args.hidden, args.seed) if args.hidden else ()
    cfg = RunConfig(
        seed=args.seed,
        hidden=hidden,
        camera_hz=args.camera_hz,
        limit_s=args.limit_s,
        record=not args.no_bag,
    )
    world = None
    if args.discover:  # the stack gets no map: it discovers one, mows it, is scored on MAP
        from mower_offline.discover_run import DiscoverConfig, discover_map

        print(f'discovering {lawn.name} from its dock ...', flush=True)
        try:
            draft, found = discover_map(
                lawn, Path(args.out) / 'discover', DiscoverConfig(seed=args.seed, hidden=hidden)
            )
        except (RuntimeError, ValueError, OSError) as exc:
            return _error(exc)
        world, lawn = lawn, draft
        if not args.json:
            from mower_offline.discover_run import summary_line

            print(f'  {summary_line(found.score)}')
    operated = args.mqtt is not None or args.serve is not None
    try:
        pace = speed(args, SIM_RATE) or None  # the loop paces; the live view follows it
        with stop_on_signals() as stop, live_view(args, stop, run_topics()) as live:
            run = MowingRun(lawn, args.out, cfg, world=world)
            if operated:  # Home Assistant or the app drives the run until Ctrl-C or the limit
                from mower_offline.operated_run import SimOperator

                operator = SimOperator(run, sim_start=args.sim_start)
                with mqtt_bridge(args, operator), app_server(args, operator):
                    result = run.run(
                        not args.json, stop=stop, operator=operator, speed=pace, live=live
                    )
            else:
                result = run.run(progress=not args.json, stop=stop, speed=pace, live=live)
            from mower_offline.report import write_report  # matplotlib: after the run

            report = write_report(run, result, Path(args.out) / 'report.png')
            summary = write_summary(result)
    except (PlanningError, ModelError, ConfigError, OSError, RunError, BridgeError) as exc:
        return _error(exc)
    except AppServerError as exc:  # --serve: the address is taken, the HTTPS files unusable
        return _error(exc)
    s = result.summary
    if args.json:
        print(json.dumps(s))
    else:
        print(
            f'{lawn.name}: {s["coverage_pct"]:.2f}% of the reachable lawn mowed '
            f'({s["coverage_of_mowable_pct"]:.2f}% of all mowable ground), '
            f'{s["collisions"]} collisions, {s["boundary_exits"]} boundary exits, '
            f'{s["keepout_entries"]} keep-out entries, {s["replans"]} replans, '
            f'{s["hidden_obstacles_found"]}/{s["hidden_obstacles"]} hidden obstacles found'
        )
        print(
            f'  {s["distance_m"]:.0f} m in {s["sim_time_s"]:.0f} s simulated, '
            f'{s["wall_time_s"]:.0f} s wall ({s["realtime_factor"]:.0f}x real time); '
            f'segmentation on {s["provider"]}; ended {s["final_state"]}'
        )
        print(
            f'  report: {report}  summary: {summary}' + (f'  bag: {s["bag"]}' if s['bag'] else '')
        )
    if stop and operated:  # Ctrl-C is how a served run ends
        print(f'stopped by {stop.name}; the report and summary are in {args.out}')
        return 0
    if stop:
        print(
            f'interrupted by {stop.name}: the report and summary in {args.out} are what was '
            'done so far',
            file=sys.stderr,
        )
        return stop.exit_status
    if operated and not s['collisions']:
        return 0  # the owner decided what was done
    if s['final_state'] != 'IDLE' or s['collisions']:
        print(
            f'error: the run ended {s["final_state"]}, not back on the dock and done'
            + (f' ({s["message"]})' if s['message'] else '')
            + f', with {s["collisions"]} collision(s); see {args.out}',
            file=sys.stderr,
        )
        return 1
    return 0


def _cmd_replay(args: argparse.Namespace) -> int:
    """Replay a field-test bag through segmentation, mapping and coverage accounting."""
    from mower_node_kit.params import ConfigError
    from mower_offline.out_dir import OutputError, check_apart, claim_output, stop_on_signals
    from mower_offline.replay import Replay, ReplayConfig, ReplayError
    from mower_segmentation.runtime import ModelError

    topics = {}
    for item in args.topic:
        role, sep, name = item.partition('=')
        if not sep or not name:
            print(
                f'error: --topic {item!r}: expected ROLE=TOPIC (for example camera=/cam/image)',
                file=sys.stderr,
            )
            return 2
        topics[role.strip()] = name.strip()
    out = Path(args.out) if args.out else Path('out/replay') / Path(args.bag).stem
    cfg = ReplayConfig(
        topics=topics,
        write_bag=not args.no_bag,
        video=not args.no_video,
        threads=args.threads,
        limit_frames=args.limit_frames,
    )
    if args.model:
        cfg.model = Path(args.model)
    if args.extract_frames is not None:
        cfg.extract_dir = Path(args.extract_frames) if args.extract_frames else out / 'frames'
        cfg.extract_every = args.every
        cfg.extract_unsure = args.unsure
        if not args.every and not args.unsure:
            cfg.extract_every = 10
    if not Path(args.bag).exists():
        return _error(f'{args.bag}: no such file or folder')
    inputs = [args.bag] + ([args.model] if args.model else [])
    try:
        if cfg.extract_dir is not None:
            if cfg.extract_dir.exists() and not cfg.extract_dir.is_dir():
                raise OutputError(
                    f'{cfg.extract_dir}: --extract-frames names a file, not a folder'
                )
            check_apart(cfg.extract_dir, inputs, 'frames folder', '--extract-frames')
        with claim_output(out, inputs), stop_on_signals() as stop:
            replay = Replay(args.bag, out, cfg)
            with live_view(args, stop, replay.live_topics(), speed(args, REPLAY_RATE)) as live:
                s = replay.run(progress=not args.json, stop=stop, live=live)
    except (ReplayError, ModelError, OutputError, ConfigError, OSError) as exc:
        return _error(exc)
    status = stop.exit_status
    if stop:
        print(
            f'interrupted by {stop.name}: the outputs in {out} are what was done so far',
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(s))
        return status
    same = s.get('frames_same_view') or 0  # the robot stood still: mapping's still_frames
    again = f' ({same} of a view already mapped, not fused again)' if same else ''
    print(
        f'{Path(args.bag).name} ({s["storage"]}, {s["duration_s"]:.1f} s): '
        f'{s["frames_processed"]} frames segmented{again}, {s["frames_skipped"]} skipped; '
        f'{s["poses"]} poses from {s["pose_source"] or "nothing"}, '
        f'{s["distance_m"]:.1f} m driven; {s["obstacles_found"]} obstacles, '
        f'{s["area_mapped_m2"]:.1f} m² mapped; {s["replay_speed"]}x bag time'
    )
    if s['segmentation_ms_mean'] is not None:
        print(
            f'  segmentation {s["segmentation_ms_mean"]:.2f} ms mean, '
            f'{s["segmentation_ms_p99"]:.2f} ms p99'
        )
    for p in s['problems']:
        print(
            f'  reported: {p["topic"]} at {p["time_s"]:.3f} s: {p["what"]}'
            + (f' (x{p["count"]})' if p['count'] > 1 else '')
        )
    print(
        f'  outputs in {out}: summary.json, map.png'
        + (', ' + Path(s['outputs']['video']).name if s['outputs']['video'] else '')
        + (', bag/' if s['outputs']['bag'] else '')
        + (f', {s["frames_extracted"]} frames in {cfg.extract_dir}' if cfg.extract_dir else '')
    )
    return status


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``mower``."""
    parser = argparse.ArgumentParser(prog='mower', description=__doc__)
    sub = parser.add_subparsers(dest='command', required=True)

    p_map = sub.add_parser('map', help='check or import lawn maps')
    map_sub = p_map.add_subparsers(dest='map_command', required=True)
    p = map_sub.add_parser('check', help='validate lawn maps and summarise them')
    p.add_argument('maps', nargs='+', help='GeoJSON lawn map files')
    p.set_defaults(func=_cmd_map_check)
    p = map_sub.add_parser('import', help='convert a field boundary (WKT, GeoJSON, GML)')
    p.add_argument('source', help='field file (.wkt, .geojson/.json, Fields2Cover .xml)')
    p.add_argument('--out', required=True, help='lawn map to write (.geojson)')
    p.add_argument('--area', type=POSITIVE, default=None, help='scale to this area (m²)')
    p.add_argument('--name', default=None, help='map name')
    p.set_defaults(func=_cmd_map_import)

    p = sub.add_parser('plan', help='plan coverage of a lawn map')
    p.add_argument('map', help='GeoJSON lawn map')
    p.add_argument('--out', default='out/plan', help='output folder (default: out/plan)')
    p.add_argument('--json', action='store_true', help='print one JSON object of figures')
    p.add_argument('--angle', default=None, help="stripe angle in degrees, or 'auto'")
    p.add_argument(
        '--run',
        type=int,
        default=None,
        help='rotating stripes: mowing run number (angle + run x increment)',
    )
    p.add_argument(
        '--passes', dest='headland_passes', type=int, default=None, help='headland passes'
    )
    p.add_argument(
        '--turn-radius',
        dest='turn_radius_m',
        type=float,
        default=None,
        help='minimum turn radius in metres (0: pivot in place)',
    )
    p.add_argument(
        '--spacing', dest='stripe_spacing_m', type=float, default=None, help='stripe spacing (m)'
    )
    p.add_argument(
        '--cut-width', dest='cut_width_m', type=float, default=None, help='cutting deck width (m)'
    )
    p.add_argument(
        '--body-width', dest='body_width_m', type=float, default=None, help='robot body width (m)'
    )
    p.set_defaults(func=_cmd_plan)

    p = sub.add_parser(
        'sim',
        help='a whole mowing run in the MuJoCo simulator (or a drive test, or Gazebo assets)',
    )
    p.add_argument(
        'map', nargs='?', default=str(DEMO_MAP), help='GeoJSON lawn map (default: the demo lawn)'
    )
    p.add_argument('--json', action='store_true', help='print one JSON summary object')
    p.add_argument(
        '--camera-hz',
        type=POSITIVE,
        default=2.0,
        help='perception rate in the loop (default 2 Hz)',
    )
    p.add_argument(
        '--limit-s', type=POSITIVE, default=4 * 3600.0, help='simulated time limit (default 4 h)'
    )
    p.add_argument('--no-bag', action='store_true', help='do not record the rosbag2 file')
    add_foxglove_options(p)
    add_speed_option(
        p,
        'simulated',
        f'1 with --mqtt or --serve, {SIM_RATE:g} with --foxglove, else as fast as it goes',
    )
    p.add_argument(
        '--drive-test',
        action='store_true',
        help='drive the start of the planned path: camera contact sheet with '
        'labels, top-down view',
    )
    p.add_argument('--out', default='out/sim', help='output folder (default: out/sim)')
    p.add_argument('--seed', type=_integer(0, MAX_SEED), default=0, help='random seed (default 0)')
    p.add_argument(
        '--hidden',
        type=_integer(0),
        default=None,
        help='hidden obstacles to add (not in the map); default: the demo '
        "lawn's three, two random ones on other lawns, none in a drive test",
    )
    p.add_argument('--randomise', action='store_true', help='domain randomisation on')
    p.add_argument(
        '--discover',
        action='store_true',
        help='start from the dock alone: discover the lawn (the map is only the world and '
        'the score), then mow the discovered map',
    )
    p.add_argument(
        '--gazebo',
        default=None,
        metavar='DIR',
        help='write the Gazebo world, mower model and bridge YAML into DIR',
    )
    p.add_argument(
        '--distance',
        type=POSITIVE,
        default=30.0,
        help='drive test: metres of the planned path to drive (default 30)',
    )
    add_mqtt_options(p)
    add_serve_options(p)
    p.set_defaults(func=_cmd_sim)

    p = sub.add_parser(
        'replay',
        help='replay a field-test bag (rosbag2 or ROS 1) through segmentation and mapping',
    )
    p.add_argument('bag', help='rosbag2 folder, .mcap or .db3 file, or ROS 1 .bag')
    p.add_argument('--out', default=None, help='output folder (default: out/replay/<bag name>)')
    p.add_argument('--json', action='store_true', help='print one JSON summary object')
    p.add_argument(
        '--topic',
        action='append',
        default=[],
        metavar='ROLE=TOPIC',
        help='use this topic for a role (camera, camera_info, odom, tf, pose, imu, '
        'gnss, blade) instead of finding it by type; repeatable',
    )
    p.add_argument('--model', default=None, help='ONNX model (default: the shipped int8 one)')
    p.add_argument(
        '--threads',
        type=_integer(1, 256),
        default=1,
        help='ONNX Runtime threads (default 1, beside the main thread)',
    )
    p.add_argument('--no-bag', action='store_true', help='do not write the output bag')
    p.add_argument('--no-video', action='store_true', help='do not write the video')
    add_foxglove_options(p)
    add_speed_option(p, 'bag', f'{REPLAY_RATE:g} with --foxglove, else as fast as it goes')
    p.add_argument(
        '--limit-frames', type=_integer(1), default=None, help='stop segmenting after N'
    )
    p.add_argument(
        '--extract-frames',
        nargs='?',
        const='',
        default=None,
        metavar='DIR',
        help='write camera frames (and the model labels) for labelling into DIR '
        '(default: OUT/frames); every 10th unless --every / --unsure',
    )
    p.add_argument('--every', type=_integer(0), default=0, help='extract every Nth frame')
    p.add_argument(
        '--unsure',
        type=_number(0.0, high=1.0),
        default=0.0,
        help='extract frames where this share of pixels has confidence < 0.6',
    )
    p.set_defaults(func=_cmd_replay)

    add_bench_parser(sub)
    add_discover_parser(sub)
    add_teach_parser(sub)
    add_app_parser(sub)
    try:
        from mower_segmentation.cli import add_segment_parser
    except ImportError:  # segmentation not installed: the rest of the command still works
        pass
    else:
        segment = add_segment_parser(sub)
        from mower_cli.segment_types import check_segment_values
        from mower_offline.adapt_cli import add_adapt_parsers

        add_adapt_parsers(segment)
        check_segment_values(segment)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``mower``; returns the exit status (README, "Exit status").

    0 done, 1 bad input or a failed run (one line on stderr; for ``mower sim`` also a run that
    did not end back on the dock, or with a collision), 2 a usage error (argparse), 130 / 143
    stopped by SIGINT / SIGTERM (a run writes what it did so far first).
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt as exc:  # Ctrl-C outside a run's own handling, or a second one
        signum = getattr(exc, 'signum', signal.SIGINT)
        print(f'\ninterrupted by {signal.Signals(signum).name}', file=sys.stderr)
        return 128 + signum


if __name__ == '__main__':
    sys.exit(main())
