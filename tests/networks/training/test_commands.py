"""The PyTorch training commands without torch installed: a one-line install hint, not a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("command", ["train_vgg8", "train_faces"])
def test_a_training_command_without_torch_says_how_to_install_it(command) -> None:
    hide_torch = ("import runpy, sys; sys.modules['torch'] = None; "      # import torch fails, find_spec finds nothing
                  f"runpy.run_module('procedures.networks.training.{command}', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", hide_torch, "--epochs", "1"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"error: python -m procedures.networks.training.{command} needs the train extra (torch not installed): "
        "pip install -e '.[train]' in the labctl clone (or pip install 'labctl[train]' where labctl is installed "
        "as a package)"]
