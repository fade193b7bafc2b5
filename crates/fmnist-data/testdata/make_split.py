#!/usr/bin/env python3
"""Writes split.json: the validation splits that src/split.rs must draw.

An independent transcription of the rule documented in src/split.rs, in
plain Python (no Rust code is read):

- quotas: Hamilton's largest-remainder rule in exact integers, ties to the
  lower class;
- key: BLAKE3 derive_key(KEY_CONTEXT) over the number of hashes, each hash
  length-prefixed, and the seed (all u64 little-endian);
- generator: ChaCha8 with that key, 64-bit block counter from 0, the class
  index as the 64-bit nonce (rand_chacha's `set_stream`), u64 draws made of
  two consecutive keystream words, low word first;
- draws in 0..k: reject x > 2^64 - 1 - (2^64 mod k), else x mod k;
- per class, a partial Fisher-Yates shuffle of its indices (ascending): the
  first quota entries are held out.

The ChaCha block function is checked against the `cryptography` package's
ChaCha20 (same function, 20 rounds) before it is used with 8.

    pip install blake3 cryptography numpy
    python3 crates/fmnist-data/testdata/make_split.py [/usr/share/datasets/fashion-mnist]

The real-data cases are those of Debian's `dataset-fashion-mnist` files,
the pinned Fashion-MNIST; the keys are the BLAKE3 of the decompressed
training files, which is what the manifest pins.
"""

import gzip
import json
import os
import struct
import sys

import blake3
import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

KEY_CONTEXT = (
    "fmnist-data validation split v1: stratified, Hamilton quotas, "
    "per-class ChaCha8 streams, partial Fisher-Yates"
)
MASK = 0xFFFFFFFF


def rotl(x, n):
    return ((x << n) | (x >> (32 - n))) & MASK


def quarter(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & MASK
    s[d] = rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & MASK
    s[b] = rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & MASK
    s[d] = rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & MASK
    s[b] = rotl(s[b] ^ s[c], 7)


def block(key, counter, nonce, rounds):
    """One ChaCha block (16 words): djb's layout, 64-bit counter and nonce."""
    init = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574]
    init += list(struct.unpack("<8I", key))
    init += [counter & MASK, counter >> 32, nonce & MASK, nonce >> 32]
    s = list(init)
    for _ in range(rounds // 2):
        quarter(s, 0, 4, 8, 12)
        quarter(s, 1, 5, 9, 13)
        quarter(s, 2, 6, 10, 14)
        quarter(s, 3, 7, 11, 15)
        quarter(s, 0, 5, 10, 15)
        quarter(s, 1, 6, 11, 12)
        quarter(s, 2, 7, 8, 13)
        quarter(s, 3, 4, 9, 14)
    return [(x + y) & MASK for x, y in zip(s, init)]


def check_block_function():
    key = bytes(range(32))
    for counter, nonce in [(0, 0), (1, 7), (5, 2**40 + 3)]:
        full_nonce = struct.pack("<QQ", counter, nonce)
        enc = Cipher(algorithms.ChaCha20(key, full_nonce), mode=None).encryptor()
        want = struct.unpack("<16I", enc.update(bytes(64)))
        assert list(want) == block(key, counter, nonce, 20), (counter, nonce)


class ChaCha8:
    def __init__(self, key, stream):
        self.key, self.stream, self.counter, self.words = key, stream, 0, []

    def next_u64(self):
        if not self.words:
            self.words = block(self.key, self.counter, self.stream, 8)
            self.counter += 1
        lo, hi = self.words[0], self.words[1]
        self.words = self.words[2:]
        return lo | (hi << 32)


def below(rng, k):
    zone = 2**64 - 1 - (2**64 % k)
    while True:
        x = rng.next_u64()
        if x <= zone:
            return x % k


def quotas(counts, images):
    total = sum(counts)
    q = [images * n // total for n in counts]
    left = images - sum(q)
    order = sorted(range(len(counts)), key=lambda c: (-(images * counts[c] % total), c))
    for c in order[:left]:
        q[c] += 1
    return q


def split_key(hashes, seed):
    h = blake3.blake3(derive_key_context=KEY_CONTEXT)
    h.update(struct.pack("<Q", len(hashes)))
    for x in hashes:
        h.update(struct.pack("<Q", len(x.encode())))
        h.update(x.encode())
    h.update(struct.pack("<Q", seed))
    return h.digest()


def held_out(labels, classes, images, seed, hashes):
    members = [[i for i, l in enumerate(labels) if l == c] for c in range(classes)]
    q = quotas([len(m) for m in members], images)
    key = split_key(hashes, seed)
    held = []
    for c, (idx, quota) in enumerate(zip(members, q)):
        rng = ChaCha8(key, c)
        idx = list(idx)
        for i in range(quota):
            j = i + below(rng, len(idx) - i)
            idx[i], idx[j] = idx[j], idx[i]
        held += idx[:quota]
    return sorted(held)


def interleaved(per_class):
    """As the Rust tests' `labels`: one of each class in turn while any is left."""
    left, out = list(per_class), []
    while any(left):
        for c in range(len(left)):
            if left[c]:
                left[c] -= 1
                out.append(c)
    return out


def digest(indices):
    return blake3.blake3(np.asarray(indices, dtype="<u4").tobytes()).hexdigest()


def read_idx(path):
    raw = gzip.open(path).read()
    ndims = raw[3]
    dims = struct.unpack(">" + "I" * ndims, raw[4 : 4 + 4 * ndims])
    return raw, dims, raw[4 + 4 * ndims :]


def real_cases(data_dir):
    images_raw, _, _ = read_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz"))
    labels_raw, _, labels = read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz"))
    hashes = [blake3.blake3(images_raw).hexdigest(), blake3.blake3(labels_raw).hexdigest()]
    labels = list(labels)
    cases = []
    for images, seed in [(10000, 0), (10000, 1), (5000, 0)]:
        h = held_out(labels, 10, images, seed, hashes)
        counts = [0] * 10
        for i in h:
            counts[labels[i]] += 1
        cases.append(
            {
                "images": images,
                "seed": seed,
                "first": h[:16],
                "held_out_blake3": digest(h),
                "per_class": counts,
            }
        )
    return {"hashes": hashes, "cases": cases}


def main():
    check_block_function()
    synthetic = []
    for per_class, images, seed, hashes in [
        ([40] * 10, 80, 0, ["aa", "bb"]),
        ([40] * 10, 80, 1, ["aa", "bb"]),
        ([60, 45, 30, 75, 0, 90], 50, 3, ["aa", "bb"]),
        ([7, 1, 13, 2], 11, 12345678901234, ["x" * 64, "y" * 64, "z"]),
    ]:
        labels = interleaved(per_class)
        synthetic.append(
            {
                "per_class": per_class,
                "images": images,
                "seed": seed,
                "hashes": hashes,
                "held_out": held_out(labels, len(per_class), images, seed, hashes),
            }
        )
    out = {"synthetic": synthetic}
    data_dir = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
    out["fashion_mnist"] = real_cases(data_dir)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "split.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
