"""The ``deepcolor`` command line: ``deepcolor data ...``, ``deepcolor train ...``,
``deepcolor colorize ...``, ``deepcolor classroom ...``, ``deepcolor notebooks ...``, ``deepcolor book ...``
(:mod:`deepcolor.cli_course`).  Each subcommand mirrors a function of the package.

Errors a user can meet (a missing or damaged file, a folder that cannot be written, bad values)
are printed as one line, ``deepcolor: error: ...``, naming the file and the fix, with exit
status 2; ``--debug`` shows the full traceback instead.
"""

from __future__ import annotations

import argparse
import errno
import math
import shlex
import sys

from . import __version__, settings
from .ab_bins import ZHANG_T
from .backend import start
from .cli_course import add_commands as add_course_commands
from .cli_train import TRAIN_EXAMPLES, cmd_train
from .config import PROFILES
from .embeddings import MODES  # cheap: Keras is only imported when embeddings are computed
from .files import DiskFullError
from .paper import ARCHITECTURES
from .progress import bar
from .stopping import Terminated, sigterm_interrupts

# The modules a subcommand runs (data, colorize, classroom) and tqdm are imported when it runs, so
# that `deepcolor --help` loads only what its parser needs.

# What to do about an operating-system error, by its errno.
_OS_HINTS = {
    errno.EACCES: "deepcolor may not write there: choose a folder you can write to, or change its permissions",
    errno.EPERM: "deepcolor may not write there: choose a folder you can write to, or change its permissions",
    errno.EROFS: "that disk is read-only: choose a folder on a writable disk",
    errno.ENOTDIR: "part of that path is a file, not a folder: choose another path",
    errno.EISDIR: "that is a folder: give a file",
    errno.ENOSPC: "the disk is full: free some space, or choose a folder on another disk",
    errno.ENOENT: "check the path",
}


def _say(line: str) -> None:
    """Print a report line to stderr without breaking a progress bar that is on screen."""
    from tqdm.auto import tqdm

    tqdm.write(line, file=sys.stderr)


def start_backend() -> None:
    """Import Keras before a command that uses it, without the backend's C++ start-up lines
    (:func:`deepcolor.backend.start`)."""
    start()


def cmd_data(args) -> int:
    from . import data

    if args.source == "sample":
        ds = data.sample(n=args.n, seed=args.seed, progress=bar("sample"))
    elif args.source == "kaggle":
        ds = data.load_kaggle(args.from_folder) if args.from_folder else data.download_kaggle(say=_say)
    else:
        result = data.from_folder(args.src, args.dst, overwrite=args.force, progress=bar("photos"),
                                  report=_say)
        ds = result.dataset
        print(f"converted {len(result.used)} photos, skipped {len(result.skipped)}")
    print(f"{ds}")
    return 0


def temperature(text: str | None) -> float | None:
    """The value of ``--temperature``: a number > 0, or None when it was not given."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise ValueError(f"--temperature must be a number > 0 (1 reads a classifier's colour distribution as "
                         f"its mean, washed out; smaller is more vivid; default {ZHANG_T}), got {text!r}")
    return value


def cmd_colorize(args) -> int:
    T = temperature(args.temperature)  # before any model is loaded
    start_backend()
    from .colorize import colorize

    result = colorize(args.images, args.outdir, args.model, force=args.force, embedding_mode=args.embeddings,
                      report=print, temperature=T)
    if result.skipped:
        print(f"colorized {len(result.written)} photos, skipped {len(result.skipped)}", file=sys.stderr)
    return 1 if result.skipped else 0


class _ExamplesAsWritten(argparse.HelpFormatter):
    """Help with the description filled to the terminal as usual, and an epilog that starts with
    "examples:" shown line by line as written."""

    def _fill_text(self, text, width, indent):
        if text.startswith("examples:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def cmd_classroom(args) -> int:
    from . import classroom

    if args.action == "pack":
        start_backend()
        out = classroom.pack(args.out, profile=args.profile, force=args.force, progress=bar("embeddings"))
        size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
        print(f"classroom pack for the {args.profile} profile: {out} ({size / 1e6:,.0f} MB); copy this folder to "
              f"each laptop and run there: deepcolor classroom use {shlex.quote(str(out))}")
        return 0
    from .classroom_install import use

    installed = use(args.pack, report=print)
    print(f"the {installed.profile} profile now runs offline on this machine")
    if settings.kaggle_dir() is not None and installed.images is not None:
        print(f"note: {settings.KAGGLE_ENV} is set and is used before the pack's images: unset {settings.KAGGLE_ENV}")
    if installed.profile != "default":
        print(f"to use it, set: export {settings.PROFILE_ENV}={installed.profile}")
    return 0


def _subcommand(subparsers, name: str, summary: str, **kwargs) -> argparse.ArgumentParser:
    """A subcommand whose one-line summary is both its line in the parent's --help and the
    description at the top of its own --help."""
    return subparsers.add_parser(name, help=summary, description=summary[0].upper() + summary[1:] + ".", **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deepcolor", description="Automatic colorization course tools.")
    parser.add_argument("--version", action="version", version=f"deepcolor {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    debug = argparse.ArgumentParser(add_help=False)  # --debug also after the subcommand
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True)

    p_data = _subcommand(sub, "data", "get or build a dataset")
    data_sub = p_data.add_subparsers(dest="source", required=True)
    p = _subcommand(data_sub, "sample", "the built-in offline sample (real photos shipped with packages)", parents=[debug])
    p.add_argument("-n", type=int, default=48, help="number of 224x224 crops (default 48)")
    p.add_argument("--seed", type=int, default=0)
    p = _subcommand(data_sub, "kaggle", "download the whole Kaggle image-colorization set (kagglehub, 3.76 GB) or open a copy", parents=[debug])
    p.add_argument("--from", dest="from_folder", metavar="FOLDER", help="open an already downloaded folder")
    p = _subcommand(data_sub, "folder", "convert a folder of your colour photos", parents=[debug])
    p.add_argument("src", help="folder of photos (JPEG, PNG, ...); only read")
    p.add_argument("dst", help="new dataset folder")
    p.add_argument("--force", action="store_true", help="replace dst if it exists")
    p_data.set_defaults(func=cmd_data)

    p = _subcommand(sub, "train", "train one of the paper's models, or a colour classifier on its trunk (--head "
                    "classify), and record the run", parents=[debug], epilog=TRAIN_EXAMPLES,
                    formatter_class=_ExamplesAsWritten)
    p.add_argument("--arch", default="base", choices=ARCHITECTURES)
    p.add_argument("--head", choices=("mse", "classify"),
                   help="mse: predict ab with MSE, the paper's network (default); classify: a distribution over "
                        "ab bins with cross-entropy, Zhang et al. (notebook 11)")
    p.add_argument("--no-rebalance", action="store_true",
                   help="with --head classify: no class rebalancing (default: rebalanced, Zhang et al.'s "
                        "lambda 0.5)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (paper: 0.1 to 1e-5)")
    p.add_argument("--batch-size", type=int, default=5, help="paper: 5 or 50")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--l2", type=float, default=0.0, help="L2 weight penalty (paper: 0.1 to 0.001)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--input-size", type=int, default=224, help="a multiple of 8 (paper: 224)")
    p.add_argument("--data", default="sample", help="'sample' or a folder in the Kaggle layout")
    p.add_argument("-n", type=int, default=0, help="use the first n images (0 = all; sample: 48)")
    p.add_argument("--embeddings", default="imagenet", choices=MODES)
    p.add_argument("--runs-dir", help="where run folders go (default $DEEPCOLOR_RUNS or the cache)")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue an interrupted run (with the same options, --data, -n and --embeddings; "
                        "the head is the run's, so --head and --no-rebalance may be left out)")
    p.set_defaults(func=cmd_train)

    p = _subcommand(sub, "colorize", "colorize photos with a trained model, at full resolution", parents=[debug])
    p.add_argument("images", nargs="+", help="photos (JPEG, PNG, ...; gray or colour) or folders of photos")
    p.add_argument("-o", "--outdir", required=True, help="folder for <name>_colorized.png")
    p.add_argument("--model", required=True, help="model.keras from a run folder (MSE or classifier)")
    p.add_argument("--embeddings", choices=MODES,
                   help="embedding mode (default: the one recorded in the run folder)")
    p.add_argument("--temperature", metavar="T",
                   help=f"for a classifier model: the annealed mean's temperature, a number > 0 (default "
                        f"{ZHANG_T}, Zhang et al.; 1 = the mean, washed out; smaller = more vivid)")
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")
    p.set_defaults(func=cmd_colorize)

    p_class = _subcommand(sub, "classroom", "prepare the course once for a classroom without internet")
    class_sub = p_class.add_subparsers(dest="action", required=True)
    p = _subcommand(class_sub, "pack", "write a folder with everything a profile downloads (run it where there is internet)",
                    parents=[debug])
    p.add_argument("out", metavar="OUT", help="new or empty folder for the pack")
    p.add_argument("--profile", default="default", choices=[name for name in PROFILES if name != "smoke"],
                   help="the profile the class will run (default: default)")
    p.add_argument("--force", action="store_true", help="replace an earlier pack in OUT")
    p = _subcommand(class_sub, "use", "check a classroom pack and install it on this machine", parents=[debug])
    p.add_argument("pack", metavar="PACK", help="the folder `deepcolor classroom pack` wrote")
    p_class.set_defaults(func=cmd_classroom)

    add_course_commands(sub, _subcommand, debug, _ExamplesAsWritten)
    return parser


# The package's errors name the Python arguments; on the command line the options say the same.
_API_TO_CLI = {'mode="untrained"': "--embeddings untrained", 'mode="none"': "--embeddings none",
               "overwrite=True": "--force", "force=True": "--force", "the temperature argument": "--temperature"}


def describe_error(exc: BaseException) -> str:
    """One line for the user: what went wrong, on which file, and what to do (in the command line's words)."""
    text = _describe(exc)
    for api, option in _API_TO_CLI.items():
        text = text.replace(api, option)
    return text


def _describe(exc: BaseException) -> str:
    if isinstance(exc, DiskFullError):  # names the folder, the bytes needed and free already
        return exc.strerror
    if isinstance(exc, OSError) and exc.strerror:  # raised by the system: name the file and the fix
        where = f": {exc.filename}" if exc.filename is not None else ""
        if exc.filename2 is not None:
            where += f" -> {exc.filename2}"
        hint = _OS_HINTS.get(exc.errno)
        return f"{exc.strerror}{where}" + (f" ({hint})" if hint else "")
    return str(exc) or type(exc).__name__


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with sigterm_interrupts():  # SIGTERM cleans up as Ctrl-C does (deepcolor.stopping)
            return args.func(args)
    except KeyboardInterrupt as exc:
        if args.debug:
            raise
        stopped = isinstance(exc, Terminated)
        print(f"deepcolor: {'stopped by SIGTERM' if stopped else 'interrupted'}", file=sys.stderr)
        return 143 if stopped else 130
    except (OSError, ValueError, ImportError, RuntimeError, MemoryError) as exc:
        if args.debug:
            raise
        print(f"deepcolor: error: {describe_error(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
