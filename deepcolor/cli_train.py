"""``deepcolor train``: the options that choose a head, resuming a run with the head it was
started with, and the command itself (the command line's entry point is :mod:`deepcolor.cli`).

Introduced with the runs of notebook ``04_base_model`` and the classifier of notebook
``11_colour_as_classes``.
"""

from __future__ import annotations

import contextlib
import shlex
from pathlib import Path

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
    from .locks import writer

    # a resumed run is held from its first check to its last write: a second resume is refused at once
    resuming = args.resume and Path(args.resume).is_dir()  # else check_resume names what is missing
    held = writer(args.resume, "the run", inside=True) if resuming else contextlib.nullcontext()
    with held:
        result = _train(args, head)
    print(f"run {result.status}: {result.run_dir} ({describe_run_head(head)})")
    if result.status == "interrupted":
        print(f"resume it with: {resume_command(args, result.run_dir, head)}")
    elif result.status == "nan":
        print(nan_advice(result.record))
    return 0 if result.status == "completed" else 1


def _train(args, head):
    from .backend import start

    start()
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
