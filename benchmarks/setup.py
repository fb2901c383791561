"""`python -m benchmarks setup [--leads N]`: migrate the DATABASE_URL database and fill it with demo leads."""

import argparse

from .common import DEFAULT_LEADS, emit, ensure_dataset, time_call


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks setup")
    parser.add_argument("--leads", type=int, default=DEFAULT_LEADS)
    args = parser.parse_args(argv)
    holder = {}
    ms = time_call(lambda: holder.setdefault("n", ensure_dataset(args.leads)))[0]
    emit("setup", "dataset", holder["n"], "leads", seconds=ms / 1000)
