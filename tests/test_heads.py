"""deepcolor.heads: the head as one value: what a run record says of it, its words for messages
and for the command line, when two heads are the same, and what a caller may pass.

Pure values: no model is trained here (the runs of each head: tests/test_runs.py, tests/test_train.py).
"""

import json

import pytest

from deepcolor.heads import KINDS, ZHANG_LAMBDA, ClassifierHead, Head

CLASSIFIERS = [ClassifierHead(), ClassifierHead(rebalance=False), ClassifierHead(lam=0.25, rebalance_sigma=2.5),
               ClassifierHead(grid=20, k=3, sigma=2.0), ClassifierHead(rebalance=False, grid=5, k=8)]


def as_json(record: dict) -> dict:
    """The record as it comes back from run.json."""
    return json.loads(json.dumps(record, allow_nan=False))


def test_the_mse_head_round_trips_through_a_record():
    assert Head().to_record() == {"head": "mse"} and Head().kind == "mse"
    assert Head.from_record(as_json(Head().to_record())) == Head()
    assert Head() == Head() and hash(Head()) == hash(Head())


@pytest.mark.parametrize("head", CLASSIFIERS, ids=repr)
def test_a_classifier_round_trips_through_a_record(head):
    record = head.to_record()
    assert isinstance(head, Head) and head.kind == "classify" and record["head"] == "classify"
    assert as_json(record) == record  # plain JSON values, strict
    assert record["classify"]["n_bins"] == head.n_bins == len(head.bins())
    back = Head.from_record(as_json({"status": "completed", **record}))  # a whole run record works too
    assert isinstance(back, ClassifierHead) and back.same_as(head) and back.to_record() == record
    if head.rebalance:
        assert back == head
    else:  # lam and its smoothing change nothing without rebalancing: not recorded, the defaults come back
        assert record["classify"]["lam"] is None and record["classify"]["rebalance_sigma"] is None
        assert back == ClassifierHead(rebalance=False, grid=head.grid, k=head.k, sigma=head.sigma)


def test_the_classifier_record_keeps_the_whole_setting():
    assert ClassifierHead().to_record() == {"head": "classify", "classify": {
        "rebalance": True, "lam": ZHANG_LAMBDA, "rebalance_sigma": 5.0, "grid": 10, "n_bins": 225, "k": 5,
        "sigma": 5.0}}
    assert ZHANG_LAMBDA == 0.5


def test_a_record_older_than_heads_is_an_mse_run():
    old = {"status": "completed", "config": {"arch": "base"}, "epochs": [], "data": {}}  # no "head"
    assert Head.from_record(old) == Head()
    assert Head.from_record({}) == Head()
    assert Head.from_record({"head": "mse", "classify": {"rebalance": True}}) == Head()  # "head" decides


@pytest.mark.parametrize("kind", ["gan", "MSE", "", None, 3])
def test_an_unknown_head_is_a_value_error_naming_it(kind):
    with pytest.raises(ValueError, match="names the head") as info:
        Head.from_record({"head": kind})
    assert repr(kind) in str(info.value) and ", ".join(KINDS) in str(info.value)


@pytest.mark.parametrize("setting", [None, "rebalanced", [], {}, {"rebalance": "yes"}, {"rebalance": 1}])
def test_a_classifier_record_without_a_readable_setting_is_a_value_error(setting):
    record = {"head": "classify"} if setting is None else {"head": "classify", "classify": setting}
    with pytest.raises(ValueError, match="no readable classifier setting") as info:
        Head.from_record(record)
    assert repr(setting) in str(info.value)


@pytest.mark.parametrize("changes, named", [
    ({"k": 0}, "k must be an integer"), ({"lam": 2.0}, "lam must be in"), ({"sigma": -1.0}, "sigma must be"),
    ({"grid": 0}, "grid must be an integer"), ({"grid": "ten"}, "cannot be read"),
])
def test_a_classifier_setting_that_cannot_be_read_is_a_value_error_naming_why(changes, named):
    record = ClassifierHead().to_record()
    record["classify"].update(changes)
    with pytest.raises(ValueError, match="classifier setting that cannot be read") as info:
        Head.from_record(record)
    assert named in str(info.value)


def test_a_setting_this_deepcolor_does_not_know_is_left_out():
    record = ClassifierHead(k=3).to_record()
    record["classify"]["added_later"] = 1
    assert Head.from_record(record) == ClassifierHead(k=3)


def test_describe_and_cli_words():
    assert Head().describe() == "MSE head"
    assert ClassifierHead().describe() == "classify head, rebalanced"
    assert ClassifierHead(rebalance=False).describe() == "classify head, not rebalanced"
    assert Head().cli_words() == ["--head", "mse"]
    assert ClassifierHead().cli_words() == ["--head", "classify"]
    assert ClassifierHead(rebalance=False, k=3).cli_words() == ["--head", "classify", "--no-rebalance"]
    assert Head().argument() == '"mse"'
    assert ClassifierHead(rebalance=False).argument() == "ClassifierHead(rebalance=False, grid=10, k=5, sigma=5.0)"
    assert ClassifierHead(lam=0.25).argument() == (
        "ClassifierHead(rebalance=True, lam=0.25, rebalance_sigma=5.0, grid=10, k=5, sigma=5.0)")


@pytest.mark.parametrize("head", [Head(), ClassifierHead(), ClassifierHead(rebalance=False)], ids=repr)
def test_the_command_line_asks_for_a_head_with_its_cli_words(head):
    from deepcolor.cli import build_parser
    from deepcolor.cli_train import head_options

    args = build_parser().parse_args(["train", *head.cli_words()])
    assert head_options(args) == head


def test_same_as_ignores_only_what_changes_nothing():
    assert Head().same_as(Head()) and ClassifierHead().same_as(ClassifierHead())
    assert ClassifierHead(rebalance=False, lam=0.1, rebalance_sigma=1.0).same_as(ClassifierHead(rebalance=False))
    assert not ClassifierHead(lam=0.1).same_as(ClassifierHead())  # rebalanced: lam changes the weights
    assert not ClassifierHead(rebalance_sigma=1.0).same_as(ClassifierHead())
    assert not ClassifierHead(rebalance=False).same_as(ClassifierHead())
    for other in (ClassifierHead(grid=20), ClassifierHead(k=3), ClassifierHead(sigma=2.0)):
        assert not other.same_as(ClassifierHead()) and not ClassifierHead().same_as(other)
    assert not Head().same_as(ClassifierHead()) and not ClassifierHead().same_as(Head())
    assert Head() != ClassifierHead()


def test_of_gives_the_head_a_caller_asks_for():
    assert Head.of(None) == Head() and Head.of("mse") == Head()
    assert Head.of("classify") == ClassifierHead() and isinstance(Head.of("classify"), ClassifierHead)
    mine = ClassifierHead(rebalance=False, k=3)
    assert Head.of(mine) is mine and Head.of(Head()) == Head()


@pytest.mark.parametrize("garbage", ["MSE", "classifier", "", 0, True, {"head": "classify"}, ["mse"]])
def test_of_refuses_anything_else_saying_what_to_pass(garbage):
    with pytest.raises(ValueError, match="head must be 'mse', 'classify' or a .*ClassifierHead") as info:
        Head.of(garbage)
    assert repr(garbage) in str(info.value)


def test_of_model_tells_the_kinds_apart_by_the_output():
    keras = pytest.importorskip("keras")

    L_in = keras.Input((16, 16, 1))
    for channels, kind in ((2, "mse"), (225, "classify")):
        model = keras.Model(L_in, keras.layers.Conv2D(channels, 1)(L_in))
        assert Head.of_model(model) == kind


def test_the_classifier_head_of_the_classify_module_is_this_one():
    from deepcolor import classify

    assert classify.ClassifierHead is ClassifierHead
    assert Head.of(classify.ClassifierHead(rebalance=False)) == ClassifierHead(rebalance=False)
