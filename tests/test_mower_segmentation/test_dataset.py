"""Dataset helpers: frame reduction, packing a user's labelled frames, simulator rendering."""

from __future__ import annotations

import os

os.environ.setdefault('MUJOCO_GL', 'egl')

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from conftest import MAPS  # noqa: E402

from mower_segmentation.dataset import (  # noqa: E402
    TRAIN_KINDS,
    DatasetSpec,
    generate,
    load_shards,
    pack_labelled_images,
    reduce_frame,
)


def test_reduce_frame_means_colour_and_keeps_labels():
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[0, 0] = 40
    labels = np.arange(16, dtype=np.uint8).reshape(4, 4)
    small, lab = reduce_frame(rgb, labels, 2, 2)
    assert small[0, 0, 0] == 10 and small.shape == (2, 2, 3)
    assert lab.tolist() == [[0, 2], [8, 10]]


def test_pack_labelled_images(tmp_path):
    src = tmp_path / 'frames'
    src.mkdir()
    for i in range(3):
        cv2.imwrite(str(src / f'f{i}.png'), np.full((240, 320, 3), 80 + i, np.uint8))
        lab = np.zeros((240, 320), np.uint8)
        lab[:60] = 3
        cv2.imwrite(str(src / f'f{i}_labels.png'), lab)
    pack_labelled_images(src, tmp_path / 'shards')
    images, labels = load_shards(tmp_path / 'shards')
    assert images.shape == (3, 120, 160, 3) and labels.shape == (3, 120, 160)
    assert set(np.unique(labels)) == {0, 3}
    with pytest.raises(FileNotFoundError, match='no IMAGE'):
        pack_labelled_images(tmp_path / 'shards', tmp_path / 'x')


def test_generate_renders_labelled_frames(tmp_path):
    spec = DatasetSpec(
        ('demo_lawn',), frames=6, seed=3, kinds=TRAIN_KINDS, frames_per_episode=4, shard_size=4
    )
    shards = generate(spec, tmp_path, map_dir=MAPS, progress=False)
    images, labels = load_shards(tmp_path)
    assert len(shards) == 2 and images.shape == (6, 120, 160, 3)
    assert (labels == 0).mean() > 0.3  # mostly lawn
    assert set(np.unique(labels)) <= {0, 1, 2, 3, 255}


def test_the_training_split_takes_chosen_kinds_but_never_the_held_out_ones(tmp_path, capsys):
    from mower_cli.main import main

    out = tmp_path / 'hoses'
    args = ['segment', 'dataset', '--frames', '3', '--seed', '5', '--maps', str(MAPS)]
    assert main([*args, '--kinds', 'hose', '--out', str(out)]) == 0
    images, labels = load_shards(out)
    assert images.shape == (3, 120, 160, 3)
    capsys.readouterr()
    for kinds in ('pet', 'hose,post', 'boulder', ','):
        assert main([*args, '--kinds', kinds, '--out', str(tmp_path / 'no')]) == 1
        err = capsys.readouterr().err.strip()
        assert err.startswith('error: --kinds') and 'held out' in err and '\n' not in err
        assert not (tmp_path / 'no').exists()
    held = ['--split', 'heldout', '--frames', '2', '--near-share', '1']  # a hose on unseen maps
    assert main([*args, *held, '--kinds', 'hose', '--out', str(tmp_path / 'held')]) == 0
    assert load_shards(tmp_path / 'held')[0].shape == (2, 120, 160, 3)
    capsys.readouterr()
    assert main([*args, *held, '--kinds', 'boulder', '--out', str(tmp_path / 'no')]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --kinds 'boulder'") and 'pet' in err and '\n' not in err


def test_hoses_of_randomised_worlds_come_in_several_colours_and_plain_ones_stay_green():
    from mower_sim.world import HOSE_COLOURS, HiddenObstacle, WorldConfig, build_world, hose_colour

    hoses = [HiddenObstacle('hose', 2.0 + 0.37 * i, 3.0, 1.2, 0.1 * i) for i in range(40)]
    colours = [hose_colour(h) for h in hoses]
    assert set(colours) <= set(HOSE_COLOURS) and len(set(colours)) >= 5
    assert 0.3 < np.mean([c in HOSE_COLOURS[:2] for c in colours]) < 0.7  # green about half
    assert colours == [hose_colour(h) for h in hoses]  # the same hose, the same colour
    from mower_maps import load_map

    lawn = load_map(MAPS / 'demo_lawn.geojson')
    plain = build_world(lawn, WorldConfig(hidden=tuple(hoses[:3]))).xml
    assert plain.count(f'rgba="{HOSE_COLOURS[0]}"') == 3
    varied = build_world(lawn, WorldConfig(hidden=tuple(hoses[:3]), randomise=True)).xml
    assert all(f'rgba="{c}"' in varied for c in colours[:3])


def test_near_frames_look_at_a_hidden_obstacle_from_close_by(tmp_path):
    def obstacle_low_share(near: float) -> float:
        spec = DatasetSpec(
            ('demo_lawn',), frames=8, seed=4, kinds=('hose', 'rock'), near_share=near
        )
        generate(spec, tmp_path / str(near), map_dir=MAPS, progress=False)
        _, labels = load_shards(tmp_path / str(near))
        return float(np.mean([(lab[60:] == 2).sum() >= 10 for lab in labels]))

    near, anywhere = obstacle_low_share(1.0), obstacle_low_share(0.0)
    assert near >= 0.5 and near > anywhere  # seen close, low in the frame


def test_edge_frames_look_along_the_lawn_edge_with_ground_beside_it(tmp_path):
    def ground_low_share(edge: float) -> float:
        spec = DatasetSpec(('demo_lawn',), frames=24, seed=5, kinds=('rock',), edge_share=edge)
        generate(spec, tmp_path / str(edge), map_dir=MAPS, progress=False)
        _, labels = load_shards(tmp_path / str(edge))
        # something beside the lawn in the lower half, but not all of it: an edge beside the
        # mower, as on a headland pass
        beside = [float(((lab[60:] != 0) & (lab[60:] != 3)).mean()) for lab in labels]
        return float(np.mean([0.01 < b < 0.9 for b in beside]))

    along, anywhere = ground_low_share(1.0), ground_low_share(0.0)
    assert along >= 0.5 and along > 2 * anywhere


def test_full_res_renders_and_packs_at_the_cameras_320x240(tmp_path, capsys):
    from mower_cli.main import main

    args = ['segment', 'dataset', '--frames', '2', '--seed', '6', '--maps', str(MAPS)]
    assert main([*args, '--full-res', '--out', str(tmp_path / 'full')]) == 0
    images, labels = load_shards(tmp_path / 'full')
    assert images.shape == (2, 240, 320, 3) and labels.shape == (2, 240, 320)
    assert (labels == 0).mean() > 0.3
    src = tmp_path / 'frames'
    src.mkdir()
    rgb = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    cv2.imwrite(str(src / 'a.png'), rgb)
    cv2.imwrite(str(src / 'a_labels.png'), np.zeros((240, 320), np.uint8))
    packed = ['segment', 'dataset', '--from-images', str(src), '--full-res']
    assert main([*packed, '--out', str(tmp_path / 'packed')]) == 0
    images, _ = load_shards(tmp_path / 'packed')
    assert images.shape == (1, 240, 320, 3)
    assert np.array_equal(images[0], rgb[..., ::-1])  # the frame itself, as RGB, not resized
