"""Shortest paths on the planner's small graphs (Dijkstra), used by the route stage.

The route stage searches the headland network for the nearest of several targets with
:func:`shortest_path`. (The transit planner, whose visibility graph has millions of possible
edges on a crowded lawn, searches it with its own edge-lazy A*: ``mower_coverage.transit``.)

Hand-written on purpose, not taken from a library:

* scipy and networkx are no dependencies of the stack (``requirements.txt`` pins neither; the
  development environment has them only through the training extra), and this is about forty
  lines;
* ``scipy.sparse.csgraph.dijkstra`` works on a sparse matrix, which keeps one edge per pair of
  nodes (duplicates are summed when the matrix is built): the headland network has parallel
  edges (the two ways round a ring with two attachment nodes), told apart by their labels;
* the callers need to stop at the *first* target reached, to start from several sources at
  given distances, and a deterministic order among equal lengths (the heap's ``(length, node)``
  order), so that plans are the same from run to run and from version to version.

The graphs have a few hundred to a few thousand nodes; a binary heap is quick enough.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

L = TypeVar('L')  # an edge's label (the route's signed edge id)


@dataclass(frozen=True)
class ShortestPath(Generic[L]):
    """A path found by :func:`shortest_path`."""

    target: int  # the target reached
    length: float
    nodes: list[int]  # from the source it starts at to ``target``
    edges: list[L]  # the labels of the edges driven, ``len(nodes) - 1`` of them


def shortest_path(
    neighbours: Callable[[int], Iterable[tuple[int, float, L]]],
    sources: Iterable[tuple[int, float]],
    targets: Container[int],
    min_gain: float = 0.0,
) -> ShortestPath[L] | None:
    """Dijkstra from ``sources`` to the nearest of ``targets``; None when none is reachable.

    ``neighbours(u)`` gives the edges out of node ``u`` as ``(v, weight, label)``, weights not
    negative; nodes are ints (any, not only ``0..n-1``). ``sources`` are ``(node, starting
    length)`` pairs. A node's length is lowered only by more than ``min_gain`` (a small
    tolerance keeps the first of nearly equal paths). Among equally near targets the one with
    the smaller id is reached first. The search stops at the first target taken from the heap.
    """
    inf = float('inf')
    dist: dict[int, float] = {}
    back: dict[int, tuple[int, L]] = {}
    heap: list[tuple[float, int]] = []
    for node, d0 in sources:
        if d0 < dist.get(node, inf):
            dist[node] = d0
            heap.append((d0, node))
    heapq.heapify(heap)
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist[u]:
            continue  # a stale entry: u was reached shorter since
        if u in targets:
            nodes, edges = [u], []
            while u in back:
                u, label = back[u]
                nodes.append(u)
                edges.append(label)
            return ShortestPath(nodes[0], d, nodes[::-1], edges[::-1])
        for v, w, label in neighbours(u):
            nd = d + w
            if nd < dist.get(v, inf) - min_gain:
                dist[v] = nd
                back[v] = (u, label)
                heapq.heappush(heap, (nd, v))
    return None
