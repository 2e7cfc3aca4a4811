"""The command line that produces the committed artifacts (chapters never import it): one
subcommand per entry of a study's command table (`lib.commands`), each with its own options.

    python -m lib.cli --help                       # every command, one line each
    python -m lib.cli collapse --help              # one command's options
    python -m lib.cli classifier --seeds 0 1 2
    python -m lib.cli collapse --recipe "training-mode fakes" --seeds 0 1 2 3 4
    python -m lib.cli hole-size-study --methods book
    python -m lib.cli train-default --seeds 0 1 2

The run mode (``GAN_BOOK_MODE``) decides the run-folder root here, once: quick runs go under
``artifacts/quick/``, full runs into the committed ``artifacts/``. Each run writes atomically and
resumes from its last checkpoint if it was interrupted; a finished run is left as it is.
``--devices all`` trains on every visible GPU (``tf.distribute.MirroredStrategy``: the same model
as one device, the global batch split between them).
"""
from __future__ import annotations

import argparse
import sys

from lib import classifiers, datasets, runs, runtime
from lib.studies import (
    ablation, beyond_digits, ceiling, collapse, collapse_figures, correction, hole_sizes, paper_gan, selection, speed,
    speed_settings, tradeoff,
)

# In the order the book builds what they make.
TABLES = (classifiers, paper_gan, collapse, collapse_figures, ablation, hole_sizes, ceiling, tradeoff, speed,
          speed_settings, selection, correction, beyond_digits)
COMMANDS = {command.name: command for table in TABLES for command in table.COMMANDS}


def parser():
    """One subcommand per command, with its own options (and ``--devices``, which every command takes)."""
    main = argparse.ArgumentParser(prog="python -m lib.cli", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    main.add_argument("--devices", choices=runtime.DEVICES, default="one",
                      help="one (default) or all: train on every visible GPU with tf.distribute.MirroredStrategy")
    main.add_argument("--dataset", choices=list(datasets.DATASETS), default=datasets.DEFAULT,
                      help=f"the dataset (default {datasets.DEFAULT}); a command that supports only MNIST refuses another")
    subcommands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS.values():
        sub = subcommands.add_parser(command.name, help=command.help, description=command.help)
        for option in command.options:
            sub.add_argument(option.flag, **option.settings)
    return main


def main(argv=None):
    arguments = parser()
    args = vars(arguments.parse_args(argv))
    command, devices, dataset = COMMANDS[args.pop("command")], args.pop("devices"), args.pop("dataset")
    if dataset not in command.datasets:
        arguments.error(f"{command.name} runs on {', '.join(command.datasets)} only so far, not {dataset}")
    try:
        with runtime.device_strategy(devices).scope():
            result = command.run(root=(*runs.mode_root(), *datasets.root(dataset)), **args)
    except OSError as error:  # a full disk, a folder that cannot be written: the cause, not a traceback
        sys.exit(f"python -m lib.cli {command.name}: {error}")
    if command.report is not None:
        print(command.report(result))


if __name__ == "__main__":
    main()
