"""What a run records about its checkout: the commit and dirty flag, read again during a grid."""

import io
import subprocess

from embedlab.experiments.running.provenance import CheckoutWatch, git_state


def _repo(tmp_path):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)
    git("init", "-q")
    (tmp_path / "model.py").write_text("FILTERS = 100\n")
    git("add", "model.py")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    return git


def test_an_edit_during_a_grid_marks_the_runs_recorded_after_it_dirty_and_says_so_once(tmp_path):
    _repo(tmp_path)
    log = io.StringIO()
    watch = CheckoutWatch(log, source=tmp_path)
    assert watch.start["dirty"] is False and len(watch.start["commit"]) == 40
    assert watch.check() is False and log.getvalue() == ""
    (tmp_path / "model.py").write_text("FILTERS = 50\n")  # edited while the grid runs
    assert watch.check() is True and watch.check() is True
    assert log.getvalue().count("the checkout's code changed during the grid") == 1


def test_a_grid_writing_a_tracked_results_file_is_not_a_change_but_editing_already_edited_code_is(tmp_path):
    git = _repo(tmp_path)
    (tmp_path / "results.db").write_text("archived rows\n")  # a results folder tracked in the checkout
    git("add", "results.db")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "archive")
    (tmp_path / "model.py").write_text("FILTERS = 50\n")  # uncommitted at the start: dirty from the start
    watch = CheckoutWatch(io.StringIO(), source=tmp_path)
    assert watch.start["dirty"] is True
    (tmp_path / "results.db").write_text("archived rows\nand the grid's new ones\n")
    assert watch.check() is False
    (tmp_path / "model.py").write_text("FILTERS = 25\n")  # the same file edited again
    assert watch.check() is True


def test_a_commit_during_a_grid_counts_as_a_change_and_git_state_is_read_fresh(tmp_path):
    git = _repo(tmp_path)
    watch = CheckoutWatch(io.StringIO(), source=tmp_path)
    (tmp_path / "model.py").write_text("FILTERS = 50\n")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "two")
    assert git_state(tmp_path) == {"commit": git_state(tmp_path)["commit"], "dirty": False}
    assert git_state(tmp_path)["commit"] != watch.start["commit"] and watch.check() is True


def test_outside_a_checkout_nothing_is_watched(tmp_path):
    watch = CheckoutWatch(io.StringIO(), source=tmp_path)
    assert watch.start == {"commit": None, "dirty": None} and watch.check() is False


def test_the_watch_sees_an_edit_anywhere_in_the_repository_from_a_subfolder(tmp_path):
    git = _repo(tmp_path)
    (tmp_path / "experiments" / "running").mkdir(parents=True)
    (tmp_path / "experiments" / "running" / "provenance.py").write_text("# the watching module's folder\n")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "cnn.py").write_text("KERNELS = (3, 4, 5)\n")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "tree")
    watch = CheckoutWatch(io.StringIO(), source=tmp_path / "experiments" / "running")
    (tmp_path / "models" / "cnn.py").write_text("KERNELS = (2, 3)\n")  # another folder than the watcher's
    assert watch.check() is True
