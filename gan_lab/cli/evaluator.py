"""Train an evaluation classifier once and write its weights file (``gan-lab-evaluator``).

    gan-lab-evaluator --data digits --out gan_lab/evaluation/evaluators/weights/digits_classifier.pt
    gan-lab-evaluator --data mnist --root data --out mnist_classifier.pt [--image-size 32]

Evaluation never trains a classifier: the digits one (also used per channel
for stacked digits) ships with gan_lab and was written by the first command
above; for MNIST, Fashion-MNIST and CIFAR-10 run the second once (the
torchvision files must be under ``--root``, as for training; nothing is
downloaded) and pass the file to the evaluator as its weights path.  The
command prints the held-out accuracy and the file's SHA-256, which every run
that uses the file logs.  Training runs on ``--threads`` threads (1 by
default) with fixed seeds, so the same command on the same machine and
PyTorch version writes a byte-identical file.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

import torch

from gan_lab.evaluation.evaluators.classifier_net import Architecture, TrainingSettings, default_epochs, holdout_split
from gan_lab.evaluation.evaluators.shipped import DIGITS_CLASSIFIER_SHA256
from gan_lab.evaluation.evaluators.weights_file import ClassifierFile, train_classifier_file

#: Data sets this command can train a classifier for: digits and the torchvision data sets.
DATASETS = ("digits", "mnist", "fashion_mnist", "cifar10")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="gan-lab-evaluator", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.split("\n")[1:]))
    parser.add_argument("--data", required=True, choices=DATASETS, help="data set whose classifier to train")
    parser.add_argument("--out", required=True, help="the weights file to write (.pt)")
    parser.add_argument("--root", default="data", help="torchvision data directory (not used for digits)")
    parser.add_argument("--image-size", type=int, default=None,
                        help="resize torchvision images to this side, as data.image_size does (e.g. 32)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (stored in the file)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="training epochs (default: 15 for small data sets like digits, 3 for large ones)")
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads for training (part of what makes the bytes reproducible)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def load_data(args: argparse.Namespace):
    """``(datamodule name, images, labels, num_classes)`` of the requested data set."""
    if args.data == "digits":
        if args.image_size is not None:
            raise SystemExit("--image-size applies to torchvision data sets, not digits (8x8).")
        from gan_lab.data import DigitsDataModule

        datamodule = DigitsDataModule()
    else:
        from gan_lab.data.vision import TorchvisionDataModule

        datamodule = TorchvisionDataModule(args.data, root=args.root, image_size=args.image_size)
    x, y = datamodule.load()
    return datamodule.name, x, y, datamodule.num_classes


def canonical_command(args: argparse.Namespace, epochs: int) -> str:
    """The settings that change the file, as a command (no paths: ``--root`` and ``--out`` do not change it)."""
    parts = ["gan-lab-evaluator", "--data", args.data]
    if args.image_size is not None:
        parts += ["--image-size", str(args.image_size)]
    parts += ["--seed", str(args.seed), "--epochs", str(epochs), "--threads", str(args.threads)]
    return shlex.join(parts)


def train(args: argparse.Namespace) -> tuple[ClassifierFile, float]:
    """Train the classifier ``args`` describe and write its weights file; return it and the training time."""
    if args.threads < 1:
        raise SystemExit(f"--threads must be at least 1, got {args.threads}.")
    name, x, y, num_classes = load_data(args)
    settings = TrainingSettings(seed=args.seed)
    num_train = len(holdout_split(len(x), settings.holdout_fraction, settings.seed)[0])
    epochs = args.epochs or default_epochs(num_train)
    settings = TrainingSettings(seed=args.seed, epochs=epochs)
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        return train_classifier_file(x, y, num_classes, name, args.out, Architecture(), settings,
                                     command=canonical_command(args, epochs), progress=not args.no_progress)
    finally:
        torch.set_num_threads(threads)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    written, seconds = train(args)
    print(f"{written.dataset} classifier trained in {seconds:.1f} s ({written.metadata['command']})")
    print(f"held-out accuracy: {written.accuracy:.4f} ({written.metadata['holdout_size']} images)")
    print(f"weights file: {written.path} ({Path(written.path).stat().st_size:,} bytes)")
    print(f"sha256: {written.sha256}")
    if args.data == "digits":
        if written.sha256 == DIGITS_CLASSIFIER_SHA256:
            print("This is the shipped digits classifier (DIGITS_CLASSIFIER_SHA256) byte for byte.")
        else:
            print("This differs from the shipped digits classifier (DIGITS_CLASSIFIER_SHA256 in "
                  "gan_lab/evaluation/evaluators/shipped.py); numbers computed with the two are not comparable.")
    else:
        print("Pass this file to the classifier evaluator as its weights path (weights_path=...).")


if __name__ == "__main__":
    main()
