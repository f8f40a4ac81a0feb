"""``deepcolor train``: the options that choose a head, resuming a run with the head it was
started with, and the command itself (the command line's entry point is :mod:`deepcolor.cli`).

Introduced with the runs of notebook ``04_base_model`` and the classifier of notebook
``11_colour_as_classes``.
"""

from __future__ import annotations

import contextlib
import shlex
from pathlib import Path

from .backend import start
from .embedding_cache import dataset_embeddings
from .files import DamagedFileError
from .heads import ClassifierHead, Head
from .runs import RECORD, Run, hold

# data is imported where it is used, as in deepcolor.cli: `deepcolor --help` imports this module.

TRAIN_EXAMPLES = """examples:
  deepcolor train --arch base --epochs 10 --data PATH                    # the paper's MSE network
  deepcolor train --arch base --head classify --epochs 10 --data PATH    # a rebalanced classifier
  deepcolor train --arch base --head classify --no-rebalance --data PATH # a classifier, not rebalanced
  deepcolor train --arch base --epochs 20 --data PATH --resume RUN_DIR   # go on (the run's head)"""


def _load_data(spec: str, n: int):
    from . import data
    if spec == "sample":
        return data.sample(n=n or 48)
    return data.load_kaggle(spec).subset(n)


def head_options(args) -> Head:
    """The head ``deepcolor train`` was asked for by ``--head`` and ``--no-rebalance`` (a
    :class:`deepcolor.heads.Head`).  ``--no-rebalance`` without ``--head classify`` is a
    ValueError naming both options (one error line)."""
    head = args.head or "mse"
    if args.no_rebalance and head != "classify":
        given = "--head mse" if args.head else "the default --head mse"
        raise ValueError(f"--no-rebalance is for a classifier, not {given}: add --head classify, or leave out "
                         "--no-rebalance")
    return Head() if head == "mse" else ClassifierHead(rebalance=not args.no_rebalance)


def resume_head(args) -> Head:
    """The head to resume ``args.resume`` with: the one its run record names, with its whole setting.

    ``--head`` and ``--no-rebalance`` may be left out; given, they must say what the record says,
    else a ValueError shows both and the options to give.  Without a run record there is nothing
    to read: the head of the options is returned, and :meth:`deepcolor.runs.Run.resume` names
    the missing record."""
    asked = head_options(args) if args.head else None  # --head mse --no-rebalance: refused as for a new run
    if not (Path(args.resume) / RECORD).is_file():
        return asked or Head()
    try:
        recorded = Run.open(args.resume).head  # a damaged record: one line naming it
    except ValueError as exc:
        if isinstance(exc, DamagedFileError):
            raise
        raise ValueError(f"cannot resume {args.resume}: {exc}; start a new run without --resume") from None
    said = asked or (ClassifierHead(rebalance=False) if args.no_rebalance else recorded)
    if said.cli_words() != recorded.cli_words():
        started = shlex.join(recorded.cli_words())
        given = " ".join((["--head", args.head] if args.head else [])
                         + (["--no-rebalance"] if args.no_rebalance else []))
        raise ValueError(f"cannot resume {args.resume}: it was started with {started}, not {given}; resume it "
                         f"with {started}, or leave out --head and --no-rebalance (a resume takes the head from "
                         "the run)")
    return recorded


def cmd_train(args) -> int:
    # the head options are checked first, before any data is read or any model built
    head = resume_head(args) if args.resume else head_options(args)
    # a resumed run is held from its first check to its last write: a second resume is refused at once
    resuming = args.resume and Path(args.resume).is_dir()  # else Run.resume names what is missing
    held = hold(args.resume) if resuming else contextlib.nullcontext()
    with held:
        result = _train(args, head)
    print(f"run {result.status}: {result.path} ({head.describe()})")
    if result.status == "interrupted":
        print(f"resume it with: {resume_command(args, result.path, head)}")
    elif result.status == "nan":
        print(nan_advice(result.record))
    return 0 if result.status == "completed" else 1


def _train(args, head):
    start()
    from .data import split
    from .train import TrainConfig, train

    config = TrainConfig(arch=args.arch, lr=args.lr, batch_size=args.batch_size, epochs=args.epochs,
                         l2=args.l2, seed=args.seed, input_size=args.input_size)
    ds = _load_data(args.data, args.n)
    if args.resume:
        Run.resume(args.resume, config, ds, args.embeddings, head)  # before minutes of embeddings
    emb = dataset_embeddings(ds, args.embeddings)
    parts = split(len(ds), seed=args.seed, groups=ds.groups)
    return train(ds, emb, parts.train, parts.val, config, embedding_mode=args.embeddings, profile="cli",
                 runs_dir=args.runs_dir, run_dir=args.resume, resume=bool(args.resume), head=head)


def nan_advice(record: dict) -> str:
    """What to say about a run that stopped on NaN: where its last good epoch is, if any epoch was."""
    good = record.get("checkpoint_epoch")
    if good:
        return (f"the loss or a validation metric became NaN (try a smaller --lr); the last good epoch, {good}, "
                "is in checkpoint.keras")
    return ("the loss or a validation metric became NaN in the first epoch, so no epoch is kept (no "
            "checkpoint.keras); start again with a smaller --lr")


def resume_command(args, run_dir, head: Head) -> str:
    """The ``deepcolor train ... --resume RUN_DIR`` line that continues an interrupted run of ``head``."""
    words = ["deepcolor", "train", "--arch", args.arch, *head.cli_words(),
             "--lr", f"{args.lr:g}", "--batch-size", str(args.batch_size),
             "--epochs", str(args.epochs), "--l2", f"{args.l2:g}", "--seed", str(args.seed),
             "--input-size", str(args.input_size), "--data", args.data, "-n", str(args.n),
             "--embeddings", args.embeddings, "--resume", str(run_dir)]
    return shlex.join(words)
