"""The Huffman tree of hierarchical softmax, built exactly as gensim builds it.

gensim pushes (count, index) items on a heapq heap compared by count only, merges the two
smallest into inner node V + i, then walks the tree from the root: the left child appends
code 0, the right child code 1, and every inner node on the way appends its point
(inner index = node index - V), so points are rows of the (V - 1, D) output table syn1.
Ties between equal counts therefore fall where heapq's sift puts them; we use the same heapq
with the same comparison, so the codes match gensim's bit for bit.
"""

from __future__ import annotations

import heapq

import numpy as np


class _Node:
    __slots__ = ("count", "index", "left", "right")

    def __init__(self, count, index, left=None, right=None):
        self.count, self.index, self.left, self.right = count, index, left, right

    def __lt__(self, other):  # by count only, as gensim's Heapitem
        return self.count < other.count


def huffman_codes(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """counts (V,) -> (codes (V, depth) uint8, points (V, depth) int32, lengths (V,) int32).

    Row w holds word w's path from the root: codes[w, :lengths[w]] are the left/right turns,
    points[w, :lengths[w]] the inner nodes passed. Padding is 0.

    >>> codes, points, lengths = huffman_codes(np.array([5, 2, 1]))
    >>> lengths.tolist(), codes[0, :1].tolist()
    ([1, 2, 2], [1])
    """
    size = len(counts)
    heap = [_Node(int(c), i) for i, c in enumerate(counts)]
    heapq.heapify(heap)
    for i in range(size - 1):
        first, second = heapq.heappop(heap), heapq.heappop(heap)
        heapq.heappush(heap, _Node(first.count + second.count, size + i, first, second))
    paths: list = [None] * size
    stack = [(heap[0], (), ())] if heap else []
    while stack:
        node, code, point = stack.pop()
        if node.index < size:
            paths[node.index] = (code, point)
        else:
            point = point + (node.index - size,)
            stack.append((node.left, code + (0,), point))
            stack.append((node.right, code + (1,), point))
    depth = max((len(c) for c, _ in paths), default=0)
    codes = np.zeros((size, max(depth, 1)), np.uint8)
    points = np.zeros((size, max(depth, 1)), np.int32)
    lengths = np.zeros(size, np.int32)
    for w, (code, point) in enumerate(paths):
        lengths[w] = len(code)
        codes[w, : len(code)] = code
        points[w, : len(point)] = point
    return codes, points, lengths
