"""The ``deepcolor`` command line: ``deepcolor data ...``, ``deepcolor train ...``,
``deepcolor colorize ...``.  Each subcommand mirrors a function of the package."""

from __future__ import annotations

import argparse
import sys


def _progress(desc: str):
    from tqdm.auto import tqdm

    bar = None

    def update(done: int, total: int):
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=desc, unit="img")
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


def cmd_data(args) -> int:
    from . import data

    if args.source == "sample":
        ds = data.sample(n=args.n, seed=args.seed, progress=_progress("sample"))
    elif args.source == "kaggle":
        ds = data.load_kaggle(args.from_folder) if args.from_folder else data.download_kaggle()
    else:
        result = data.from_folder(args.src, args.dst, overwrite=args.force, progress=_progress("photos"),
                                  report=lambda line: print(line, file=sys.stderr))
        ds = result.dataset
        print(f"converted {len(result.used)} photos, skipped {len(result.skipped)}")
    print(f"{ds}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="deepcolor", description="Automatic colorization course tools.")
    parser.add_argument("--version", action="version", version=f"deepcolor {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p_data = sub.add_parser("data", help="get or build a dataset")
    data_sub = p_data.add_subparsers(dest="source", required=True)
    p = data_sub.add_parser("sample", help="the built-in offline sample (real photos shipped with packages)")
    p.add_argument("-n", type=int, default=48, help="number of 224x224 crops (default 48)")
    p.add_argument("--seed", type=int, default=0)
    p = data_sub.add_parser("kaggle", help="download (kagglehub) or open the Kaggle image-colorization set")
    p.add_argument("--from", dest="from_folder", metavar="FOLDER", help="open an already downloaded folder")
    p = data_sub.add_parser("folder", help="convert a folder of your colour photos")
    p.add_argument("src", help="folder of photos (JPEG, PNG, ...); only read")
    p.add_argument("dst", help="new dataset folder")
    p.add_argument("--force", action="store_true", help="replace dst if it exists")
    p_data.set_defaults(func=cmd_data)

    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (FileNotFoundError, FileExistsError, ValueError, ConnectionError, ImportError, RuntimeError) as exc:
        print(f"deepcolor: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
