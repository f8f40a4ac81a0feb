"""The ``deepcolor`` command line: ``deepcolor data ...``, ``deepcolor train ...``,
``deepcolor colorize ...``, ``deepcolor classroom ...``.  Each subcommand mirrors a function of the package.

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
from pathlib import Path

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
    from .backend import start

    start()


def cmd_data(args) -> int:
    from . import data
    from .progress import bar

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


def _load_data(spec: str, n: int):
    from . import data
    if spec == "sample":
        return data.sample(n=n or 48)
    return data.load_kaggle(spec).subset(n)


def head_options(args) -> tuple[str, bool]:
    """The head ``deepcolor train`` was asked for by ``--head`` and ``--no-rebalance``: ("mse",
    False) or ("classify", rebalance).  ``--no-rebalance`` without ``--head classify`` is a
    ValueError naming both options (one error line)."""
    head = args.head or "mse"
    if args.no_rebalance and head != "classify":
        given = "--head mse" if args.head else "the default --head mse"
        raise ValueError(f"--no-rebalance is for a classifier, not {given}: add --head classify, or leave out "
                         "--no-rebalance")
    return head, head == "classify" and not args.no_rebalance


def head_words(head: str, rebalance: bool) -> list:
    """The ``deepcolor train`` options that ask for a head: ["--head", "mse"], ["--head",
    "classify"] or ["--head", "classify", "--no-rebalance"]."""
    return ["--head", head] + (["--no-rebalance"] if head == "classify" and not rebalance else [])


def resume_head(args):
    """The head to resume ``args.resume`` with: the one its run record names (None for the MSE
    head, else a :class:`deepcolor.classify.ClassifierHead` with the recorded setting).

    ``--head`` and ``--no-rebalance`` may be left out; given, they must say what the record says,
    else a ValueError shows both and the options to give.  Without a run record there is nothing
    to read: the head of the options is returned, and :func:`deepcolor.runs.check_resume` names
    the missing record."""
    from .runs import RECORD, load_run, recorded_head

    asked = head_options(args) if args.head else None  # --head mse --no-rebalance: refused as for a new run
    if not (Path(args.resume) / RECORD).is_file():
        return _head_of(*asked) if asked else None
    fields = recorded_head(load_run(args.resume))  # a damaged record: one line naming it
    if fields["head"] not in ("mse", "classify"):
        raise ValueError(f"cannot resume {args.resume}: its run record names the head {fields['head']!r}, "
                         "which this deepcolor cannot train; start a new run without --resume")
    setting = fields.get("classify") or {}
    if fields["head"] == "classify" and not (isinstance(setting, dict) and isinstance(setting.get("rebalance"), bool)):
        raise ValueError(f"cannot resume {args.resume}: its run record names no readable classifier setting "
                         f"({setting!r}); start a new run without --resume")
    recorded = (fields["head"], fields["head"] == "classify" and setting["rebalance"])
    said = asked or (("classify", False) if args.no_rebalance else recorded)
    if said != recorded:
        started = shlex.join(head_words(*recorded))
        given = " ".join((["--head", args.head] if args.head else [])
                         + (["--no-rebalance"] if args.no_rebalance else []))
        raise ValueError(f"cannot resume {args.resume}: it was started with {started}, not {given}; resume it "
                         f"with {started}, or leave out --head and --no-rebalance (a resume takes the head from "
                         "the run)")
    if recorded[0] == "mse":
        return None
    from .classify import ClassifierHead

    kept = {k: v for k, v in setting.items() if k in ("rebalance", "lam", "rebalance_sigma", "grid", "k", "sigma")
            and v is not None}  # lam, rebalance_sigma are None without rebalancing
    try:
        return ClassifierHead(**kept)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot resume {args.resume}: its run record holds a classifier setting that cannot be "
                         f"read ({exc}); start a new run without --resume") from None


def _head_of(head: str, rebalance: bool):
    """None for the MSE head, else a :class:`deepcolor.classify.ClassifierHead` (Zhang et al.'s
    setting, rebalanced or not)."""
    if head == "mse":
        return None
    from .classify import ClassifierHead

    return ClassifierHead(rebalance=rebalance)


def cmd_train(args) -> int:
    # the head options are checked first, before any data is read or any model built
    head = resume_head(args) if args.resume else _head_of(*head_options(args))
    start_backend()
    from .data import split
    from .embedding_cache import dataset_embeddings
    from .runs import check_resume
    from .train import TrainConfig, train

    config = TrainConfig(arch=args.arch, lr=args.lr, batch_size=args.batch_size, epochs=args.epochs,
                         l2=args.l2, seed=args.seed, input_size=args.input_size)
    ds = _load_data(args.data, args.n)
    if args.resume:
        check_resume(args.resume, config, ds, args.embeddings, head)  # before minutes of embeddings
    emb = dataset_embeddings(ds, args.embeddings)
    parts = split(len(ds), seed=args.seed, groups=ds.groups)
    result = train(ds, emb, parts.train, parts.val, config, embedding_mode=args.embeddings, profile="cli",
                   runs_dir=args.runs_dir, run_dir=args.resume, resume=bool(args.resume), head=head)
    print(f"run {result.status}: {result.run_dir} ({describe_run_head(head)})")
    if result.status == "interrupted":
        print(f"resume it with: {resume_command(args, result.run_dir, head)}")
    elif result.status == "nan":
        print("the loss or a validation metric became NaN (try a smaller --lr); the last good epoch is in "
              "checkpoint.keras")
    return 0 if result.status == "completed" else 1


def describe_run_head(head) -> str:
    """A run's head in a few words: "MSE head", "classify head, rebalanced" or "classify head, not
    rebalanced"."""
    if head is None:
        return "MSE head"
    return "classify head, " + ("rebalanced" if head.rebalance else "not rebalanced")


def resume_command(args, run_dir, head=None) -> str:
    """The ``deepcolor train ... --resume RUN_DIR`` line that continues an interrupted run of
    ``head`` (None: the MSE head; a :class:`deepcolor.classify.ClassifierHead`)."""
    words = ["deepcolor", "train", "--arch", args.arch,
             *head_words("mse" if head is None else "classify", head is not None and head.rebalance),
             "--lr", f"{args.lr:g}", "--batch-size", str(args.batch_size),
             "--epochs", str(args.epochs), "--l2", f"{args.l2:g}", "--seed", str(args.seed),
             "--input-size", str(args.input_size), "--data", args.data, "-n", str(args.n),
             "--embeddings", args.embeddings, "--resume", str(run_dir)]
    return shlex.join(words)


def temperature(text: str | None) -> float | None:
    """The value of ``--temperature``: a number > 0, or None when it was not given."""
    from .ab_bins import ZHANG_T  # numpy only

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


TRAIN_EXAMPLES = """examples:
  deepcolor train --arch base --epochs 10 --data PATH                    # the paper's MSE network
  deepcolor train --arch base --head classify --epochs 10 --data PATH    # a rebalanced classifier
  deepcolor train --arch base --head classify --no-rebalance --data PATH # a classifier, not rebalanced
  deepcolor train --arch base --epochs 20 --data PATH --resume RUN_DIR   # go on (the run's head)"""


class _ExamplesAsWritten(argparse.HelpFormatter):
    """Help with the description filled to the terminal as usual, and an epilog that starts with
    "examples:" shown line by line as written."""

    def _fill_text(self, text, width, indent):
        if text.startswith("examples:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def cmd_classroom(args) -> int:
    from . import classroom, settings

    if args.action == "pack":
        from .progress import bar

        start_backend()
        out = classroom.pack(args.out, profile=args.profile, force=args.force, progress=bar("embeddings"))
        size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
        print(f"classroom pack for the {args.profile} profile: {out} ({size / 1e6:,.0f} MB); copy this folder to "
              f"each laptop and run there: deepcolor classroom use {shlex.quote(str(out))}")
        return 0
    installed = classroom.use(args.pack, report=print)
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
    from . import __version__
    from .ab_bins import ZHANG_T  # numpy only
    from .config import PROFILES
    from .embeddings import (
        MODES,  # cheap: Keras is only imported when embeddings are computed
    )
    from .paper import ARCHITECTURES

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
        return args.func(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("deepcolor: interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError, ImportError, RuntimeError, MemoryError) as exc:
        if args.debug:
            raise
        print(f"deepcolor: error: {describe_error(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
