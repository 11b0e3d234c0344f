#!/usr/bin/env python3
"""Writes the engine benchmark's data set (tech notes, section 2) into a directory.

1024 MiB in 3160 files, the same bytes on every run (fixed seed):
  random/large  56 x 8 MiB    random bytes (incompressible)
  random/small  1024 x 64 KiB random bytes
  logs/large    32 x 14 MiB   log-like text (zstd -3 compresses it about 3.5x; tech notes: 3.3x)
  logs/small    2048 x 32 KiB log-like text
Small files are spread over sub-directories of 256 files each.

Usage: generate_data.py <directory>
"""

import os
import random
import sys

SEED = 20240601
MIB = 1024 * 1024
KIB = 1024

# (sub-directory, count, size, kind)
LAYOUT = [
    ("random/large", 56, 8 * MIB, "random"),
    ("random/small", 1024, 64 * KIB, "random"),
    ("logs/large", 32, 14 * MIB, "text"),
    ("logs/small", 2048, 32 * KIB, "text"),
]
FILES_PER_DIRECTORY = 256

LEVELS = ["INFO"] * 12 + ["DEBUG"] * 6 + ["WARN"] * 2 + ["ERROR"]
COMPONENTS = [
    "api-server", "scheduler", "controller", "backup-agent", "restore-agent",
    "storage", "auth", "ingress", "worker", "metrics", "cron", "webhook",
]
MESSAGES = [
    "request completed",
    "request started",
    "cache miss for key",
    "connection established to upstream",
    "connection closed by peer",
    "retrying operation after transient error",
    "snapshot uploaded",
    "reconciling object",
    "lease renewed",
    "slow query detected",
    "user authenticated",
    "permission denied for resource",
    "queue depth above threshold",
    "garbage collection finished",
    "configuration reloaded",
    "health check passed",
]
METHODS = ["GET", "PUT", "POST", "DELETE", "PATCH"]
STATUSES = (200, 200, 200, 201, 204, 404, 500)
PATHS = [
    "/api/v1/namespaces/default/pods", "/api/v1/secrets", "/apis/core.kubestash.com/v1alpha1",
    "/healthz", "/metrics", "/api/v1/nodes", "/apis/storage.kubestash.com/v1alpha1/repositories",
]


def random_bytes(generator: random.Random, size: int) -> bytes:
    return generator.randbytes(size)


def log_text(generator: random.Random, size: int, clock: list) -> bytes:
    """Lines of a plausible service log until `size` bytes, cut exactly at `size`."""
    lines = []
    length = 0
    choice = generator.choice
    randrange = generator.randrange
    getrandbits = generator.getrandbits
    while length < size:
        clock[0] += randrange(1, 2500)
        millis = clock[0]
        seconds, millis = divmod(millis, 1000)
        minutes, seconds = divmod(seconds, 60)
        hours, minutes = divmod(minutes, 60)
        days, hours = divmod(hours, 24)
        line = (
            f"2024-06-{1 + days % 28:02d}T{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}Z "
            f"{choice(LEVELS):<5} [{choice(COMPONENTS)}] {choice(MESSAGES)} "
            f"method={choice(METHODS)} path={choice(PATHS)} status={choice(STATUSES)} "
            f"latency_ms={randrange(1, 5000)} bytes={randrange(100000)} "
            f"user=u{randrange(1000000):06d} "
            f"client=10.{randrange(256)}.{randrange(256)}.{randrange(256)}:{randrange(1024, 65536)} "
            f"trace_id={getrandbits(128):032x} span_id={getrandbits(64):016x}\n"
        )
        lines.append(line)
        length += len(line)
    return "".join(lines).encode()[:size]


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = sys.argv[1]
    generator = random.Random(SEED)
    clock = [0]
    for directory, count, size, kind in LAYOUT:
        for index in range(count):
            if count > FILES_PER_DIRECTORY:
                parent = os.path.join(root, directory, f"{index // FILES_PER_DIRECTORY:02d}")
            else:
                parent = os.path.join(root, directory)
            os.makedirs(parent, exist_ok=True)
            if kind == "random":
                data = random_bytes(generator, size)
                name = f"blob-{index:04d}.bin"
            else:
                data = log_text(generator, size, clock)
                name = f"service-{index:04d}.log"
            with open(os.path.join(parent, name), "wb") as file:
                file.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
